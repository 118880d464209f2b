/**
 * The HTTP API and the client over loopback: the routes, the status of each
 * kind of refusal, bounded bodies, JSON Schemas of requests and answers, and
 * the client's checks of acknowledgements.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENCODING_V1, l0Client, openL0, schemaProblem, startL0Http, type L0Client, type L0Http, type L0Service } from "../../../runtime/l0/index.js";
import { group, L0_KEY, signed, TestChannel } from "./helpers.js";

let l0: L0Service;
let http: L0Http;
let client: L0Client;
const snap = group("snap", 4);
const ch = new TestChannel("air-quality", snap);

beforeAll(async () => {
  l0 = openL0({ store: ":memory:", key: L0_KEY, maxSnapshotBytes: 16_384 });
  http = await startL0Http(l0, { port: 0 });
  client = l0Client(http.url, { l0Keys: [L0_KEY.publicKey] });
});
afterAll(async () => {
  await http.close();
  l0.close();
});

async function raw(method: string, path: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${http.url}${path}`, { method, body, headers: body === undefined ? {} : { "content-type": "application/json" } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("the L0 API", () => {
  it("registers, accepts a snapshot with a verified acknowledgement, and answers the same one again", async () => {
    const reg = await client.register(ch.registration());
    expect(reg).toMatchObject({ ok: true, status: "registered", channel: "air-quality", version: 1 });
    const sub = ch.next();
    const a = await client.submitSnapshot(sub);
    expect(a).toMatchObject({ ok: true, status: "accepted", ack: { ack: { channel: "air-quality", height: 1, hash: sub.hash, ordinal: 1, l0: L0_KEY.publicKey } } });
    const again = await client.submitSnapshot(sub);
    expect(again).toMatchObject({ ok: true, status: "known" });
    expect(again.ok && a.ok && again.ack).toEqual(a.ok && a.ack);
    ch.advance(sub);
    const body = await raw("POST", "/v1/snapshots", JSON.stringify(sub));
    expect(body.status).toBe(200);
    expect(schemaProblem("ack", body.json)).toBeUndefined();
  });

  it("answers refusals with their code, the actual and required values, and an HTTP status by kind", async () => {
    const gap = await client.submitSnapshot({ ...ch.next(), snapshot: { ...ch.next().snapshot, height: 9 } });
    expect(gap).toMatchObject({ ok: false, code: "L0_HASH", httpStatus: 422 }); // the claimed hash is of height 2
    const h3 = new TestChannel("air-quality", snap);
    h3.head = { height: 2, hash: ch.head.hash };
    const early = await client.submitSnapshot(h3.next());
    expect(early).toMatchObject({ ok: false, code: "L0_HEIGHT", httpStatus: 409, actual: 3, required: 2, retryable: false });
    const few = await client.submitSnapshot(ch.next({ keys: snap.keys.slice(0, 2) }));
    expect(few).toMatchObject({ ok: false, code: "L0_THRESHOLD", httpStatus: 422, actual: 2, required: 3 });
    const unknown = await client.submitSnapshot({ ...ch.next(), snapshot: { ...ch.next().snapshot, encoding: "statecell/2", extra: 1 } as never });
    expect(unknown).toMatchObject({ ok: false, code: "L0_ENCODING", httpStatus: 400 });
    const shape = await raw("POST", "/v1/snapshots", JSON.stringify({ snapshot: { ...ch.next().snapshot, height: "two" }, hash: ch.next().hash, certificate: ch.next().certificate }));
    expect(shape).toMatchObject({ status: 400, json: { status: "refused", code: "L0_BAD_SNAPSHOT" } });
    expect(String(shape.json.message)).toContain("/snapshot/height");
  });

  it("refuses a body over its limit (2 x 256 KiB + 64 KiB here) with 413 before reading it all, and a body that is not JSON with 400", async () => {
    const big = await raw("POST", "/v1/snapshots", `{"x":"${"a".repeat(700_000)}"}`);
    expect(big).toMatchObject({ status: 413, json: { code: "L0_TOO_LARGE" } });
    expect(await raw("POST", "/v1/snapshots", "{not json")).toMatchObject({ status: 400, json: { code: "L0_BAD_REQUEST" } });
    // Over the service's maxSnapshotBytes (16 KiB) but under the body limit: the service's own refusal.
    expect(await client.submitSnapshot(ch.next({ cells: 100 }))).toMatchObject({ ok: false, code: "L0_TOO_LARGE", httpStatus: 413, required: 16_384 });
  });

  it("unknown routes are 404 L0_NOT_FOUND and wrong methods 405 L0_METHOD", async () => {
    expect(await raw("GET", "/v1/nothing")).toMatchObject({ status: 404, json: { code: "L0_NOT_FOUND" } });
    expect(await raw("GET", "/v1/snapshots")).toMatchObject({ status: 405, json: { code: "L0_METHOD" } });
    expect(await raw("POST", "/v1/info", "{}")).toMatchObject({ status: 405, json: { code: "L0_METHOD" } });
    expect(await raw("GET", "/v1/channels/nope")).toMatchObject({ status: 404, json: { code: "L0_NOT_FOUND" } });
    expect(await raw("GET", "/v1/global/0")).toMatchObject({ status: 404 });
    expect(await raw("GET", "/healthz")).toMatchObject({ status: 200, json: { ok: true } });
  });

  it("serves the channel, its snapshots, its upgrades' readiness, and global snapshots matching their schema", async () => {
    const info = await client.info();
    expect(info).toMatchObject({ ok: true, info: { mode: "embedded", key: L0_KEY.publicKey, encodings: ["statecell/1"] } });
    const c = await client.channel("air-quality");
    expect(c).toMatchObject({ ok: true, channel: { status: "active", head: ch.head, nextHeight: 2 } });
    const list = await client.snapshots("air-quality", { from: 1, limit: 10 });
    expect(list.ok && list.snapshots.map((s) => [s.height, s.status])).toEqual([[1, "accepted"]]);
    const u = { type: "upgrade" as const, encoding: ENCODING_V1, channel: "air-quality", registration: 1, fromDefinitionHash: ch.definitionHash, toDefinitionHash: "ab".repeat(32), atHeight: 50 };
    expect(await client.upgrade(signed(u, snap, 1))).toMatchObject({ ok: true, status: "open", upgrade: { missing: ["snap-2", "snap-3", "snap-4"], ready: false } });
    const r = await client.upgrades("air-quality");
    expect(r).toMatchObject({ ok: true, upgrades: { threshold: 3, upgrades: [{ approvals: [{ name: "snap-1" }], ready: false }] } });
    expect(await client.latestGlobal()).toMatchObject({ ok: false, code: "L0_NOT_FOUND" });
    l0.cut();
    const g = await client.latestGlobal();
    expect(g).toMatchObject({ ok: true, global: { global: { ordinal: 1 } } });
    expect(schemaProblem("global", g.ok && g.global)).toBeUndefined();
    expect(await client.global(1)).toEqual(g);
  });

  it("a refused upgrade answers its readiness too", async () => {
    const outsider = group("out", 4);
    const u = { type: "upgrade" as const, encoding: ENCODING_V1, channel: "air-quality", registration: 1, fromDefinitionHash: ch.definitionHash, toDefinitionHash: "cd".repeat(32), atHeight: 1 };
    expect(await client.upgrade(signed(u, outsider))).toMatchObject({ ok: false, code: "L0_SIGNER_OUTSIDE_GROUP", httpStatus: 422 });
    expect(await client.upgrade(signed(u, snap))).toMatchObject({ ok: false, code: "L0_UPGRADE_HEIGHT", upgrade: { status: "refused", ready: true } });
  });
});

describe("the client", () => {
  it("resolves to L0_UNREACHABLE (retryable) when nothing listens", async () => {
    const c = l0Client("http://127.0.0.1:1", { timeoutMs: 2_000 });
    expect(await c.info()).toMatchObject({ ok: false, code: "L0_UNREACHABLE", retryable: true, httpStatus: null });
  });

  it("refuses an acknowledgement that does not verify (L0_BAD_ACK), and an answer that is not JSON (L0_BAD_RESPONSE)", async () => {
    const sub = ch.next();
    const good = await l0Client(http.url).submitSnapshot(sub);
    if (!good.ok) throw new Error(good.code);
    let reply = JSON.stringify({ status: "accepted", ack: { ...good.ack.ack, ordinal: 7 }, signature: good.ack.signature });
    const fake = createServer((_req, res) => res.end(reply));
    await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      expect(await l0Client(url, { l0Keys: [L0_KEY.publicKey] }).submitSnapshot(sub)).toMatchObject({ ok: false, code: "L0_BAD_ACK", retryable: true });
      reply = JSON.stringify({ status: "accepted", ack: good.ack.ack, signature: good.ack.signature });
      expect(await l0Client(url, { l0Keys: [L0_KEY.publicKey] }).submitSnapshot({ ...sub, hash: "00".repeat(32) })).toMatchObject({ ok: false, code: "L0_BAD_ACK" });
      expect(await l0Client(url, { l0Keys: [L0_KEY.publicKey] }).submitSnapshot(sub)).toMatchObject({ ok: true });
      reply = "<html>";
      expect(await l0Client(url).info()).toMatchObject({ ok: false, code: "L0_BAD_RESPONSE", retryable: true });
    } finally {
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });
});
