/**
 * What a hostile client can send to the API: oversized, truncated, non-JSON,
 * deeply nested, wrong-typed and slow bodies, broken HTTP, too many
 * connections, stream floods. Each case checks the answer (a status and a
 * code) and that the server goes on serving; no case may crash it or make
 * it hold more than its limits.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createConnection, type Socket } from "node:net";
import { WebSocket } from "ws";
import { bodyOf, call, openStream, raw, sleep, startApi, statusOf, stillServing, submit, waitFor, type TestApi } from "./helpers.js";

let t: TestApi | undefined;
afterEach(async () => {
  await t?.api.close();
  t = undefined;
});

const PATH = "/v1/channels/air-quality/cells/readings/inputs";
const head = (length: number | "chunked", extra = "") =>
  `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${length === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${length}`}\r\n${extra}\r\n`;

describe("hostile bodies", () => {
  it("a body nested 1,000,000 levels deep is refused by the scan (400 API_TOO_DEEP) in under 2 s, before anything parses it", async () => {
    t = await startApi();
    const t0 = performance.now();
    const r = await submit(t.port, "[".repeat(1_000_000));
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect([r.status, r.json.code]).toEqual([400, "API_TOO_DEEP"]);
    const nested = await submit(t.port, `{"inputs":[{"data":1},{"data":${"[".repeat(300)}${"]".repeat(300)}}]}`);
    expect([nested.json.code, nested.json.path]).toEqual(["API_TOO_DEEP", "/inputs/1"]);
    expect(await stillServing(t.port)).toBe(true);
  });

  it("data exactly as deep as limits.maxDepth allows (envelope included) is parsed and reaches the core", async () => {
    t = await startApi({ maxDepth: 40 });
    const depth = 40 - 1; // the submission object is one level
    const ok = await submit(t.port, `{"data":${"[".repeat(depth)}${"]".repeat(depth)}}`);
    expect(ok.status).toBe(200);
    const over = await submit(t.port, `{"data":${"[".repeat(depth + 1)}${"]".repeat(depth + 1)}}`);
    expect(over.json.code).toBe("API_TOO_DEEP");
  });

  it("a declared Content-Length over the limit is refused at once (413) and the connection closed without reading the body", async () => {
    t = await startApi({ maxBodyBytes: 64 * 1024 });
    const r = await raw(t.port, [head(1_000_000_000)]);
    expect(statusOf(r.text)).toBe(413);
    expect(bodyOf(r.text).code).toBe("API_TOO_LARGE");
    expect(r.closedByServer).toBe(true);
    expect(await stillServing(t.port)).toBe(true);
  });

  it("a chunked body is cut off at the first byte over the limit: the client cannot push 64 MiB into a 64 KiB limit", async () => {
    t = await startApi({ maxBodyBytes: 64 * 1024 });
    const socket = createConnection({ port: t.port, host: "127.0.0.1" });
    let text = "";
    socket.on("data", (d: Buffer) => (text += d.toString()));
    socket.on("error", () => undefined);
    const closed = new Promise<void>((r) => socket.on("close", () => r()));
    await new Promise((r) => socket.once("connect", r));
    socket.write(head("chunked"));
    const chunk = `10000\r\n${"x".repeat(0x10000)}\r\n`;
    let sent = 0;
    while (sent < 64 * 1024 * 1024 && !socket.destroyed && text === "") {
      if (!socket.write(chunk)) await new Promise((r) => setTimeout(r, 2));
      sent += 0x10000;
    }
    await closed;
    expect(statusOf(text)).toBe(413);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    expect(await stillServing(t.port)).toBe(true);
  });

  it("a truncated body (Content-Length says more than arrives, then the client closes) leaves the server serving", async () => {
    t = await startApi();
    const s = createConnection({ port: t.port, host: "127.0.0.1" });
    await new Promise((r) => s.once("connect", r));
    s.end(`${head(100)}{"data":`);
    await sleep(50);
    expect(await stillServing(t.port)).toBe(true);
    expect(t.internal).toEqual([]);
  });

  it("bytes after the declared length are read as the next request: garbage there is 400 API_BAD_HTTP, the first request is still answered", async () => {
    t = await startApi();
    const body = '{"data":1}';
    const r = await raw(t.port, [`${head(body.length)}${body}GARBAGE NOT HTTP\r\n\r\n`]);
    const answers = r.text.split(/(?=HTTP\/1\.1 \d{3} )/);
    expect(answers.map(statusOf)).toEqual([200, 400]);
    expect(bodyOf(answers[1]).code).toBe("API_BAD_HTTP");
    expect(await stillServing(t.port)).toBe(true);
  });

  it("pipelined requests on one connection are answered in order", async () => {
    t = await startApi();
    const one = `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`;
    const body = '{"data":2}';
    const r = await raw(t.port, [`${one}${head(body.length)}${body}GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
    expect(r.text.split(/(?=HTTP\/1\.1 \d{3} )/).map(statusOf)).toEqual([200, 200, 404]);
  });

  it("a malformed chunked encoding is 400 and the connection is closed", async () => {
    t = await startApi();
    const r = await raw(t.port, [`${head("chunked")}zz\r\nabc\r\n0\r\n\r\n`]);
    expect(statusOf(r.text)).toBe(400);
    expect(r.closedByServer).toBe(true);
    expect(await stillServing(t.port)).toBe(true);
  });

  it("wrong-typed fields get 400 API_BAD_BODY with the pointer of the field", async () => {
    t = await startApi();
    const cases: Array<[unknown, string]> = [
      [{ inputs: "all of them" }, "/inputs"],
      [{ inputs: [null] }, "/inputs/0"],
      [{ inputs: [[{ data: 1 }]] }, "/inputs/0"],
      [{ inputs: [{ data: 1, op: ["a"] }] }, "/inputs/0/op"],
      [{ inputs: [{ data: 1, op: "" }] }, "/inputs/0/op"],
      [{ inputs: [{ data: 1, op: "x".repeat(3_000) }] }, "/inputs/0/op"],
      [{ data: 1, signer: 5, signature: 5 }, "/signer"],
      [{ data: 1, signer: "A".repeat(64), signature: "b".repeat(128) }, "/signer"],
      [{ data: 1, signer: "a".repeat(64), signature: "b".repeat(127) }, "/signature"],
      [{ data: 1, __proto__x: 1 }, "/__proto__x"],
    ];
    for (const [body, path] of cases) {
      const r = await submit(t.port, body);
      expect([JSON.stringify(body).slice(0, 60), r.status, r.json.code, r.json.path]).toEqual([JSON.stringify(body).slice(0, 60), 400, "API_BAD_BODY", path]);
      expect(r.text.length).toBeLessThan(1_000); // a 3,000-character op is not echoed back whole
    }
    const proto = await submit(t.port, '{"data":1,"__proto__":{"polluted":true}}');
    expect([proto.status, proto.json.code, proto.json.path]).toEqual([400, "API_BAD_BODY", "/__proto__"]);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    const inData = await submit(t.port, '{"data":{"__proto__":{"polluted":true}}}');
    expect(inData.json.results[0]).toMatchObject({ status: "rejected", code: "CELL_FORBIDDEN_KEY" });
  });

  it("any bytes as a body get an answer with a code (never a 5xx) and the server keeps serving", async () => {
    t = await startApi({ maxBodyBytes: 4096 });
    const port = t.port;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
          fc.json({ maxDepth: 6 }).map((s) => Buffer.from(s)),
          fc.string({ maxLength: 200 }).map((s) => Buffer.from(`{"inputs":[${s}]}`)),
          fc.string({ maxLength: 200 }).map((s) => Buffer.from(`{"data":${s}}`)),
        ),
        async (body) => {
          const r = await call(port, "POST", PATH, body);
          expect(r.status).toBeLessThan(500);
          expect(r.json).toBeDefined();
          if (r.status !== 200) expect(typeof r.json.code).toBe("string");
        },
      ),
      { numRuns: 300, seed: 7 },
    );
    expect(t.internal).toEqual([]);
    expect(await stillServing(t.port)).toBe(true);
  });
});

describe("slow and broken HTTP", () => {
  it("a slowloris head (a byte every 30 ms) is cut at headersTimeoutMs with 408 API_REQUEST_TIMEOUT in under 2 s", async () => {
    t = await startApi({ headersTimeoutMs: 300 });
    const bytes = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${"a".repeat(200)}`.split("");
    const r = await raw(t.port, bytes, 30, 10_000);
    expect(r.ms).toBeLessThan(2_000);
    expect(statusOf(r.text)).toBe(408);
    expect(bodyOf(r.text).code).toBe("API_REQUEST_TIMEOUT");
    expect(await stillServing(t.port)).toBe(true);
  });

  it("a slowloris body (a byte every 30 ms) is cut at bodyTimeoutMs with 408 API_BODY_TIMEOUT in under 2 s", async () => {
    t = await startApi({ bodyTimeoutMs: 300 });
    const r = await raw(t.port, [head(1000), ...Array<string>(200).fill(" ")], 30, 10_000);
    expect(r.ms).toBeLessThan(2_000);
    expect(statusOf(r.text)).toBe(408);
    expect(bodyOf(r.text).code).toBe("API_BODY_TIMEOUT");
    expect(r.closedByServer).toBe(true);
    expect(await stillServing(t.port)).toBe(true);
  });

  it("a head over maxHeaderBytes is 431 API_HEADERS_TOO_LARGE; too many headers too", async () => {
    t = await startApi({ maxHeaderBytes: 4096, maxHeaders: 20 });
    const big = await raw(t.port, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(8000)}\r\n\r\n`]);
    expect([statusOf(big.text), bodyOf(big.text).code]).toEqual([431, "API_HEADERS_TOO_LARGE"]);
    const longUrl = await raw(t.port, [`GET /${"a".repeat(8000)} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    expect(statusOf(longUrl.text)).toBe(431);
    const many = await call(t.port, "GET", "/healthz", undefined, Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-h${i}`, "1"])));
    // Headers past maxHeaders are dropped, not kept: the request is still bounded and answered.
    expect(many.status).toBe(200);
    expect(await stillServing(t.port)).toBe(true);
  });

  it("bytes that are not HTTP get 400 API_BAD_HTTP and a closed connection", async () => {
    t = await startApi();
    for (const junk of ["\x00\x01\x02\x03\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", `${"\u0016\u0003\u0001"}TLS hello`]) {
      const r = await raw(t.port, [junk], 0, 3_000);
      expect(statusOf(r.text)).toBe(400);
      expect(r.closedByServer).toBe(true);
    }
    expect(await stillServing(t.port)).toBe(true);
  });

  it("connections beyond maxConnections are closed at once; the server serves again when they go", async () => {
    t = await startApi({ maxConnections: 20 });
    const sockets: Socket[] = [];
    const closedEarly: number[] = [];
    for (let i = 0; i < 30; i++) {
      const s = createConnection({ port: t.port, host: "127.0.0.1" });
      s.on("error", () => undefined);
      s.on("close", () => closedEarly.push(i));
      sockets.push(s);
      await new Promise((r) => s.once("connect", r));
    }
    await waitFor(() => closedEarly.length >= 10, 5_000, "the extra connections to be closed");
    expect(closedEarly.length).toBe(10);
    for (const s of sockets) s.destroy();
    await waitFor(() => t!.api.stats().connections === 0, 5_000, "connections to close");
    expect(await stillServing(t.port)).toBe(true);
  });
});

describe("hostile streams", () => {
  it("a message over maxBodyBytes closes the stream with 1009 (ws reads no further) and the server keeps serving", async () => {
    t = await startApi({ maxBodyBytes: 64 * 1024 });
    const s = await openStream(t.url);
    s.ws.send("x".repeat(65 * 1024));
    expect((await s.closed).code).toBe(1009);
    expect(await stillServing(t.port)).toBe(true);
  });

  it("a deep, a huge-batch and a duplicate-key message get errors; the stream still submits after them", async () => {
    t = await startApi({ maxInputsPerRequest: 100 });
    const s = await openStream(t.url);
    s.send(`{"type":"submit","ref":1,"channel":"air-quality","cell":"readings","inputs":[{"data":${"[".repeat(100_000)}}]}`);
    s.send({ type: "submit", ref: 2, channel: "air-quality", cell: "readings", inputs: Array.from({ length: 101 }, () => ({ data: 1 })) });
    s.send('{"type":"subscribe","type":"submit","channel":"air-quality","cell":"readings","inputs":[]}');
    s.send('{"type":"submit","ref":4,"channel":"air-quality","cell":"readings","inputs":[{"data":1}]}');
    await s.next((m) => m.type === "results" && m.ref === 4);
    expect(s.messages.filter((m) => m.type === "error").map((m) => [m.status, m.code])).toEqual([
      [400, "API_TOO_DEEP"],
      [413, "API_TOO_MANY_INPUTS"],
      [400, "API_DUPLICATE_KEY"],
    ]);
  });

  it("text frames that are not UTF-8 close the stream with 1007", async () => {
    t = await startApi();
    const s = await openStream(t.url);
    // A text frame (opcode 1) carrying invalid UTF-8: ws sends a Buffer as given.
    s.ws.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: false });
    expect((await s.closed).code).toBe(1007);
    expect(await stillServing(t.port)).toBe(true);
  });

  it("a burst that outruns a stalled core fills the bounded queue and is closed (4009 API_QUEUE_FULL), not buffered without end", async () => {
    t = await startApi({ maxInFlightPerStream: 1, maxQueuedBytesPerStream: 1024 });
    t.core.onSubmit = () => new Promise(() => undefined); // never answers
    const s = await openStream(t.url);
    const msg = JSON.stringify({ type: "submit", channel: "air-quality", cell: "readings", inputs: [{ data: "x".repeat(100) }] });
    // One write of many messages: they arrive in one chunk, after reading has paused.
    const frames = Array.from({ length: 50 }, () => msg);
    for (const f of frames) s.ws.send(f);
    expect((await s.closed).code).toBe(4009);
    expect(t.api.stats().stream.closed.API_QUEUE_FULL).toBe(1);
    expect(await stillServing(t.port)).toBe(true);
  });

  it("an upgrade request without a valid WebSocket key is 400; one that takes too long to send its head is cut", async () => {
    t = await startApi({ headersTimeoutMs: 300 });
    const bad = await raw(t.port, ["GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"], 0, 3_000);
    expect(statusOf(bad.text)).toBe(400);
    const slow = await raw(t.port, "GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n".split(""), 30, 5_000);
    expect(slow.ms).toBeLessThan(2_000);
    expect(statusOf(slow.text)).toBe(408);
    expect(await stillServing(t.port)).toBe(true);
  });

  it("many streams opening and dropping at once leave no stream counted and the server serving", async () => {
    t = await startApi({ maxStreams: 50 });
    const sockets = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const ws = new WebSocket(`${t!.url.replace("http", "ws")}/v1/stream`);
        ws.on("error", () => undefined);
        await new Promise((r) => ws.once("open", r));
        ws.send(JSON.stringify({ type: "subscribe" }));
        return ws;
      }),
    );
    for (const ws of sockets) ws.terminate();
    await waitFor(() => t!.api.stats().stream.open === 0, 5_000, "streams to be gone");
    expect(await stillServing(t.port)).toBe(true);
  });
});
