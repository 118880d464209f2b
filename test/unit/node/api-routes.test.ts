import { afterEach, describe, expect, it } from "vitest";
import { StatecellError } from "../../../runtime/core/errors.js";
import { createApiServer, DEFAULT_API_LIMITS } from "../../../runtime/node/api/index.js";
import { fakeCore, submissionId } from "./fake-core.js";
import { call, startApi, submit, type TestApi } from "./helpers.js";

let t: TestApi | undefined;
afterEach(async () => {
  await t?.api.close();
  t = undefined;
});

const CELL = "/v1/channels/air-quality/cells/readings";

describe("read routes", () => {
  it("GET /healthz is 200 and /readyz follows core.readiness()", async () => {
    t = await startApi();
    expect((await call(t.port, "GET", "/healthz")).json).toEqual({ ok: true });
    expect((await call(t.port, "GET", "/readyz")).status).toBe(200);
    t.core.ready = { ready: false, missing: ["air-quality/readings: 2 of 3 validators connected, quorum 3"] };
    const r = await call(t.port, "GET", "/readyz");
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({ ready: false, code: "API_NOT_READY", missing: ["air-quality/readings: 2 of 3 validators connected, quorum 3"] });
  });

  it("the head, a block with its certificate, the state and a record of a hosted cell", async () => {
    t = await startApi();
    t.core.heads.set("air-quality/readings", { height: 2, hash: "aa".repeat(32), stateRoot: "bb".repeat(32) });
    t.core.blocks.set("air-quality/readings/2", { height: 2, hash: "aa".repeat(32), value: { inputs: [] }, certificate: { signatures: [] } });
    t.core.states.set("air-quality/readings", { totals: { cbd: 3 } });
    t.core.records.set("air-quality/readings/cbd-1@5", { pm25: 12 });
    expect((await call(t.port, "GET", CELL)).json).toEqual({ height: 2, hash: "aa".repeat(32), stateRoot: "bb".repeat(32) });
    expect((await call(t.port, "GET", `${CELL}/blocks/2`)).json).toEqual({ height: 2, hash: "aa".repeat(32), value: { inputs: [] }, certificate: { signatures: [] } });
    expect((await call(t.port, "GET", `${CELL}/state`)).json).toEqual({ state: { totals: { cbd: 3 } } });
    expect((await call(t.port, "GET", `${CELL}/records/${encodeURIComponent("cbd-1@5")}`)).json).toEqual({ key: "cbd-1@5", value: { pm25: 12 } });
  });

  it("404s carry codes: unknown block, record, input, head; a cell the node does not host", async () => {
    t = await startApi();
    t.core.heads.set("air-quality/readings", { height: 2, hash: "aa".repeat(32), stateRoot: "bb".repeat(32) });
    const block = await call(t.port, "GET", `${CELL}/blocks/9`);
    expect([block.status, block.json.code]).toEqual([404, "API_NO_BLOCK"]);
    expect(block.json.message).toContain("its head is at 2");
    expect((await call(t.port, "GET", `${CELL}/records/nope`)).json.code).toBe("API_NO_RECORD");
    expect((await call(t.port, "GET", `/v1/inputs/${"ab".repeat(32)}`)).json.code).toBe("API_UNKNOWN_INPUT");
    expect((await call(t.port, "GET", "/v1/channels/poll/cells/ballots")).json.code).toBe("API_NO_HEAD");
    const other = await call(t.port, "GET", "/v1/channels/air-quality/cells/aggregates/state");
    expect([other.status, other.json.code]).toEqual([404, "NODE_NOT_HOSTED"]);
    expect(other.json.remedy).toContain("air-quality/readings");
  });

  it("GET /v1/inputs/{id} answers the core's InputStatus for the id a submission was answered with", async () => {
    t = await startApi();
    const sub = { data: { sensor: "cbd-1", pm25: 12, at: 1 } };
    const r = await submit(t.port, sub);
    expect(r.json.results[0].id).toBe(submissionId(sub));
    const s = await call(t.port, "GET", `/v1/inputs/${r.json.results[0].id}`);
    expect(s.json).toEqual({ id: submissionId(sub), status: "pending", channel: "air-quality", cell: "readings" });
  });

  it("malformed URL parameters are 400 with the parameter as path and in: url", async () => {
    t = await startApi();
    for (const [path, param] of [
      ["/v1/inputs/XYZ", "/id"],
      [`/v1/inputs/${"A".repeat(64)}`, "/id"],
      [`${CELL}/blocks/01`, "/height"],
      [`${CELL}/blocks/-1`, "/height"],
      [`${CELL}/blocks/99999999999999999`, "/height"],
      [`${CELL}/records/%E0%A4%A`, "/key"],
      [`${CELL}/records/${"k".repeat(DEFAULT_API_LIMITS.maxRecordKeyLength + 1)}`, "/key"],
      ["/v1/channels/%FF/cells/readings", "/channel"],
    ]) {
      const r = await call(t.port, "GET", path);
      expect([path, r.status, r.json.code, r.json.path, r.json.in]).toEqual([path, 400, "API_BAD_PARAM", param, "url"]);
    }
  });

  it("unknown routes are 404 API_NOT_FOUND listing the routes; wrong methods 405 with Allow", async () => {
    t = await startApi();
    for (const path of ["/", "/v2/inputs/x", `${CELL}/`, `${CELL}/blocks`, "/healthz/x", "/v1/channels/a/cells", "*"]) {
      const r = await call(t.port, "GET", path);
      expect([path, r.status, r.json?.code]).toEqual([path, 404, "API_NOT_FOUND"]);
    }
    const wrong = await call(t.port, "DELETE", CELL);
    expect([wrong.status, wrong.json.code, wrong.headers.allow]).toEqual([405, "API_METHOD_NOT_ALLOWED", "GET, HEAD"]);
    const get = await call(t.port, "GET", `${CELL}/inputs`);
    expect([get.status, get.headers.allow]).toEqual([405, "POST"]);
    const put = await call(t.port, "PUT", `${CELL}/inputs`, "{}");
    expect(put.status).toBe(405);
    expect((await call(t.port, "GET", "/v1/stream")).status).toBe(426);
  });

  it("HEAD answers the status and headers of GET without a body", async () => {
    t = await startApi();
    const r = await call(t.port, "HEAD", "/healthz");
    expect([r.status, r.text]).toEqual([200, ""]);
    expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
  });

  it("a core that throws on a read is a 500 API_INTERNAL, reported to onInternalError, never described to the client", async () => {
    const core = fakeCore();
    core.head = () => {
      throw new Error("disk on fire at /var/secret/path");
    };
    t = await startApi({}, core);
    const r = await call(t.port, "GET", CELL);
    expect([r.status, r.json.code]).toEqual([500, "API_INTERNAL"]);
    expect(r.text).not.toContain("secret");
    expect(t.internal).toHaveLength(1);
    expect((await call(t.port, "GET", "/healthz")).status).toBe(200);
  });
});

describe("options and lifecycle", () => {
  it("refuses an unknown limit and a limit out of range with API_BAD_OPTIONS", () => {
    expect(() => createApiServer(fakeCore(), { limits: { maxBodyBytes: 10 } })).toThrow(/maxBodyBytes is 10; allowed: an integer from 1024/);
    expect(() => createApiServer(fakeCore(), { limits: { nope: 1 } as never })).toThrow(StatecellError);
    try {
      createApiServer(fakeCore(), { limits: { maxStreams: 1.5 } });
    } catch (e) {
      expect((e as StatecellError).code).toBe("API_BAD_OPTIONS");
    }
  });

  it("listen on a port in use is API_LISTEN_FAILED; close resolves and unsubscribes from the core", async () => {
    t = await startApi();
    const second = createApiServer(fakeCore());
    await expect(second.listen({ port: t.port })).rejects.toMatchObject({ code: "API_LISTEN_FAILED" });
    expect(t.core.listeners.size).toBe(1);
    await t.api.close();
    expect(t.core.listeners.size).toBe(0);
    await expect(call(t.port, "GET", "/healthz")).rejects.toThrow();
    t = undefined;
  });
});
