import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { NodeEvent, SubmitResult } from "../../../runtime/node/core-types.js";
import { submissionId } from "./fake-core.js";
import { openStream, sleep, startApi, waitFor, type TestApi } from "./helpers.js";

let t: TestApi | undefined;
afterEach(async () => {
  await t?.api.close();
  t = undefined;
});

const reading = (i: number) => ({ data: { sensor: `cbd-${i}`, pm25: i, at: 1767225600 + i } });
const submitMsg = (ref: number | string, inputs: unknown[], cell = "readings") => ({ type: "submit", ref, channel: "air-quality", cell, inputs });
const commit = (channel: string, height: number): NodeEvent => ({ type: "commit", channel, cell: "readings", height, hash: "ab".repeat(32), inputs: 1, rejected: 0, time: 1 });

describe("the stream (GET /v1/stream)", () => {
  it("submit answers results with the message's ref, in the order of its inputs", async () => {
    t = await startApi();
    const s = await openStream(t.url);
    s.send(submitMsg("a", [reading(1), reading(2)]));
    s.send(submitMsg(7, [reading(3)]));
    const a = await s.next((m) => m.ref === "a");
    const b = await s.next((m) => m.ref === 7);
    expect(a).toEqual({ type: "results", ref: "a", results: [reading(1), reading(2)].map((x) => ({ id: submissionId(x), status: "pending" })) });
    expect(b.results).toHaveLength(1);
    expect(t.api.stats().stream.submissions).toBe(3);
    s.ws.close();
  });

  it("a malformed message is answered with an error (status, code, path) and the stream goes on", async () => {
    t = await startApi();
    const s = await openStream(t.url);
    s.send("not json");
    s.send({ type: "submit", ref: 1, channel: "air-quality", cell: "readings" });
    s.send({ type: "explode", ref: 2 });
    s.send({ type: "subscribe", ref: { not: "a ref" } });
    s.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    s.send(submitMsg(3, [{ data: 1 }], "nope"));
    s.send(submitMsg(4, [reading(1)]));
    await s.next((m) => m.ref === 4);
    const errors = s.messages.filter((m) => m.type === "error");
    expect(errors.map((e) => [e.ref, e.status, e.code, e.path ?? null])).toEqual([
      [null, 400, "API_NOT_JSON", ""],
      [1, 400, "API_BAD_BODY", "/inputs"],
      [2, 400, "API_BAD_BODY", "/type"],
      [null, 400, "API_BAD_BODY", "/ref"],
      [null, 400, "API_BAD_BODY", ""],
      [3, 404, "NODE_NOT_HOSTED", null],
    ]);
    s.ws.close();
  });

  it("subscribe sends the core's events that match the filter; a second subscribe replaces it; unsubscribe stops them", async () => {
    t = await startApi();
    const s = await openStream(t.url);
    s.send({ type: "subscribe", ref: "s1", channels: ["air-quality"], events: ["commit"] });
    expect(await s.next((m) => m.type === "subscribed")).toEqual({ type: "subscribed", ref: "s1", channels: ["air-quality"], events: ["commit"] });
    t.core.emit(commit("air-quality", 1));
    t.core.emit(commit("poll", 1));
    t.core.emit({ type: "input", id: "cd".repeat(32), status: "committed", channel: "air-quality", cell: "readings", height: 1, index: 0 });
    t.core.emit(commit("air-quality", 2));
    await s.next((m) => m.type === "commit" && m.height === 2);
    expect(s.messages.filter((m) => m.type === "commit" || m.type === "input").map((m) => [m.type, m.channel, m.height])).toEqual([
      ["commit", "air-quality", 1],
      ["commit", "air-quality", 2],
    ]);
    s.send({ type: "subscribe", ref: "s2", events: ["input"] });
    await s.next((m) => m.ref === "s2");
    t.core.emit(commit("air-quality", 3));
    t.core.emit({ type: "input", id: "ef".repeat(32), status: "rejected", channel: "poll", cell: "ballots", code: "CELL_RULE" });
    await s.next((m) => m.type === "input");
    s.send({ type: "unsubscribe", ref: "u" });
    await s.next((m) => m.type === "unsubscribed");
    t.core.emit(commit("air-quality", 4));
    await sleep(50);
    expect(s.messages.filter((m) => m.type === "commit").map((m) => m.height)).toEqual([1, 2]);
    expect(t.core.listeners.size).toBe(1);
    s.ws.close();
  });

  it("an event is encoded once for all the streams that want it", async () => {
    t = await startApi();
    const streams = await Promise.all([openStream(t.url), openStream(t.url), openStream(t.url)]);
    for (const s of streams) s.send({ type: "subscribe" });
    await Promise.all(streams.map((s) => s.next((m) => m.type === "subscribed")));
    const event = commit("air-quality", 1);
    let encoded = 0;
    const spy = { ...event, toJSON: () => (encoded++, event) };
    t.core.emit(spy as NodeEvent);
    await Promise.all(streams.map((s) => s.next((m) => m.type === "commit")));
    expect(encoded).toBe(1);
    expect(t.api.stats().stream.events).toBe(3);
    for (const s of streams) s.ws.close();
  });

  it("keeps at most maxInFlightPerStream submit messages with the core; the rest wait, none is lost or answered twice", async () => {
    t = await startApi({ maxInFlightPerStream: 4 });
    let inCore = 0;
    let most = 0;
    const waiting: Array<() => void> = [];
    t.core.onSubmit = (_c, _cell, subs) =>
      new Promise<SubmitResult[]>((resolve) => {
        inCore++;
        most = Math.max(most, inCore);
        waiting.push(() => {
          inCore--;
          resolve(subs.map((x) => ({ id: submissionId(x), status: "pending" })));
        });
      });
    const s = await openStream(t.url);
    for (let i = 0; i < 40; i++) s.send(submitMsg(i, [reading(i)]));
    // Release the core's answers one at a time while messages keep waiting.
    let released = 0;
    while (released < 40) {
      await waitFor(() => waiting.length > 0, 5_000, "a submit with the core");
      (waiting.shift() as () => void)();
      released++;
    }
    await waitFor(() => s.messages.length === 40, 5_000, "40 answers");
    expect(most).toBe(4);
    expect(s.messages.map((m) => m.ref).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(t.api.stats().stream.paused).toBeGreaterThan(0);
    s.ws.close();
  });

  it("a client that never reads is closed as a slow consumer (4008 API_SLOW_CONSUMER) and the node's buffer stays bounded", async () => {
    t = await startApi({ maxBufferedBytesPerStream: 64 * 1024 });
    const ws = new WebSocket(`${t.url.replace("http", "ws")}/v1/stream`, { perMessageDeflate: false });
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    ws.on("error", () => undefined);
    await new Promise((r) => ws.once("open", r));
    ws.send(JSON.stringify({ type: "subscribe" }));
    await waitFor(() => t!.api.stats().stream.messages === 1);
    // The client stops reading: its socket is paused, so the server's writes pile up.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = { ...commit("air-quality", 1), hash: "f".repeat(16 * 1024) };
    let emitted = 0;
    while (t.api.stats().stream.closed.API_SLOW_CONSUMER === 0 && emitted < 100_000) {
      t.core.emit(big);
      emitted++;
      if (emitted % 50 === 0) await sleep(1);
    }
    expect(t.api.stats().stream.closed.API_SLOW_CONSUMER).toBe(1);
    // Kernel buffers hold some; what the server queued is bounded by the limit, not by what was emitted.
    expect(emitted).toBeLessThan(2_000);
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await closed).toBe(4008);
    expect(t.api.stats().stream.open).toBe(0);
  });

  it("a stream that answers no ping is closed (4010 API_NO_PONG)", async () => {
    t = await startApi({ pingIntervalMs: 50 });
    const ws = new WebSocket(`${t.url.replace("http", "ws")}/v1/stream`, { perMessageDeflate: false, autoPong: false });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("error", () => undefined);
    await new Promise((r) => ws.once("open", r));
    expect(await closed).toEqual({ code: 4010, reason: "API_NO_PONG" });
    expect(t.api.stats().stream.closed.API_NO_PONG).toBe(1);
  });

  it("a stream that answers pings stays open across many ping intervals", async () => {
    t = await startApi({ pingIntervalMs: 20 });
    const s = await openStream(t.url);
    await sleep(200);
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
    s.ws.close();
  });

  it("refuses streams beyond maxStreams with 503 API_TOO_MANY_STREAMS; a closed stream frees its place", async () => {
    t = await startApi({ maxStreams: 2 });
    const a = await openStream(t.url);
    const b = await openStream(t.url);
    await expect(openStream(t.url)).rejects.toThrow(/upgrade refused: 503/);
    expect(t.api.stats().refused.tooManyStreams).toBe(1);
    a.ws.close();
    await a.closed;
    await waitFor(() => t!.api.stats().stream.open === 1);
    const c = await openStream(t.url);
    c.ws.close();
    b.ws.close();
  });

  it("close() closes every stream with 1001 API_SHUTTING_DOWN", async () => {
    t = await startApi();
    const s = await openStream(t.url);
    await t.api.close();
    expect(await s.closed).toEqual({ code: 1001, reason: "API_SHUTTING_DOWN" });
    t = undefined;
  });

  it("a WebSocket upgrade to another path is refused with 404", async () => {
    t = await startApi();
    const ws = new WebSocket(`${t.url.replace("http", "ws")}/v1/inputs`);
    const status = await new Promise<number>((resolve) => {
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("error", () => resolve(-1));
    });
    expect(status).toBe(404);
  });
});
