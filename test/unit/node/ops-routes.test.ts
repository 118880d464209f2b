/**
 * The operator's routes on a real API server: /metrics, /v1/channels, the
 * dashboard's files (and only those), its JSON view and its live feed
 * (bounded in clients and rate, what a stranger submitted shown cut).
 */
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createApiServer, type ApiServer } from "../../../runtime/node/api/index.js";
import { FEED_HZ, FEED_MAX_CLIENTS } from "../../../runtime/node/api/ops-routes.js";
import { MAX_INPUT_CHARS } from "../../../runtime/node/activity.js";
import { silentLogger } from "../../../runtime/node/log.js";
import { createOperations, type Operations } from "../../../runtime/node/operations.js";
import { fakeCore } from "./fake-core.js";
import { call, sleep, waitFor } from "./helpers.js";
import { loadPlan } from "./ops-helpers.js";

const plan = loadPlan();
let api: ApiServer | undefined;
let ops: Operations | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  ops?.close();
  await api?.close();
  api = undefined;
});

async function start(): Promise<{ port: number; url: string; ops: Operations }> {
  ops = createOperations({ node: "v-1", plans: [plan], log: silentLogger });
  ops.bind({ hosts: () => [], online: (n) => n === "v-1" || n === "v-2", peers: () => ({ connected: 1, known: 3 }) });
  api = createApiServer(fakeCore(), { routes: ops.routes });
  const { port, url } = await api.listen({ host: "127.0.0.1", port: 0 });
  return { port, url, ops };
}

function feed(url: string): Promise<{ ws: WebSocket; messages: any[] }> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/dashboard/feed`);
  sockets.push(ws);
  const messages: any[] = [];
  ws.on("message", (d) => messages.push(JSON.parse(d.toString())));
  ws.on("error", () => undefined);
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, messages }));
    ws.once("unexpected-response", (_q, res) => reject(new Error(`refused ${res.statusCode}`)));
  });
}

describe("operator routes", () => {
  it("serves /metrics in Prometheus format and refuses other methods with a code", async () => {
    const { port } = await start();
    const m = await call(port, "GET", "/metrics");
    expect(m.status).toBe(200);
    expect(m.headers["content-type"]).toMatch(/^text\/plain/);
    expect(m.text).toContain("# TYPE statecell_blocks_committed_total counter");
    expect(m.text).toContain("statecell_peers_connected 1");
    expect(m.text).toContain("process_resident_memory_bytes");
    const post = await call(port, "POST", "/metrics", "{}");
    expect(post.status).toBe(405);
    expect(post.json.code).toBe("API_METHOD_NOT_ALLOWED");
  });

  it("lists hosted channels with status, version and last error; the client API's routes still answer", async () => {
    const { port, ops } = await start();
    ops.error("meters", "NODE_RELOAD_REFUSED", "version 2 does not load");
    const r = await call(port, "GET", "/v1/channels");
    expect(r.status).toBe(200);
    expect(r.json.channels).toHaveLength(1);
    expect(r.json.channels[0]).toMatchObject({ channel: "meters", version: 1, hash: plan.hash, lastError: { code: "NODE_RELOAD_REFUSED" } });
    expect((await call(port, "GET", "/healthz")).json).toEqual({ ok: true });
    expect((await call(port, "GET", "/v1/channels/air-quality/cells/readings/state")).json.code).not.toBe("API_NOT_FOUND");
  });

  it("serves the dashboard's files with a strict content policy, and nothing else from disk", async () => {
    const { port } = await start();
    const index = await call(port, "GET", "/");
    expect(index.status).toBe(200);
    expect(index.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(index.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(index.text).toContain('src="/dashboard/app.js"');
    const app = await call(port, "GET", "/dashboard/app.js");
    expect(app.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    for (const p of ["/dashboard/../../../package.json", "/dashboard/%2e%2e%2fpackage.json", "/dashboard/", "/dashboard/ops-routes.ts", "/dashboard/app.js%00"]) {
      const r = await call(port, "GET", p);
      expect(r.status, p).toBe(404);
      expect(r.json.code).toBe("API_NOT_FOUND");
    }
  });

  it("the JSON view: groups with thresholds and what they tolerate, validators online, rules in plain English", async () => {
    const { port, ops } = await start();
    ops.observer.refused("meters", "readings", { code: "CELL_RULE", rule: "plausible-use", message: "9100 litres is more than a household can use in a day", submission: { data: { meter: "m", litres: 9100 } } });
    const v = (await call(port, "GET", "/v1/dashboard")).json;
    const ch = v.channels[0];
    expect(ch.groups[0].threshold).toMatchObject({ quorum: 3, size: 4, livenessFaults: 1, safetyFaults: 1 });
    expect(ch.groups[0].validators.map((x: any) => [x.name, x.online])).toEqual([["v-1", true], ["v-2", true], ["v-3", false], ["v-4", false]]);
    expect(ch.cells.map((c: any) => [c.name, c.depth])).toEqual([["readings", 0], ["streets", 1]]);
    expect(ch.cells[0].rules[0]).toMatchObject({ name: "plausible-use", requires: "data.litres is at most 5000" });
    expect(ch.rejections[0]).toMatchObject({ cell: "readings", rule: "plausible-use", requires: "data.litres is at most 5000", input: '{"data":{"meter":"m","litres":9100}}' });
    expect(ch.snapshots).toEqual({ configured: null, last: null });
  });

  it("the feed sends the view at once, then at most FEED_HZ a second, with hostile inputs cut", async () => {
    const { url, ops } = await start();
    const { messages } = await feed(url);
    await waitFor(() => messages.length >= 1);
    expect(messages[0].node).toBe("v-1");
    const huge = { data: { note: "<script>alert(1)</script>".repeat(20_000) } };
    const t0 = Date.now();
    while (Date.now() - t0 < 2_100) {
      ops.observer.refused("meters", "readings", { code: "CELL_SCHEMA", message: "x".repeat(10_000), submission: huge });
      await sleep(5);
    }
    const sent = messages.length - 1;
    expect(sent).toBeGreaterThanOrEqual(2);
    expect(sent).toBeLessThanOrEqual(Math.ceil(2.1 * FEED_HZ) + 1);
    const last = messages[messages.length - 1].channels[0];
    expect(last.rejections.length).toBeLessThanOrEqual(30);
    expect(last.rejections[0].input.length).toBeLessThanOrEqual(MAX_INPUT_CHARS);
    expect(last.rejections[0].message.length).toBeLessThanOrEqual(300);
  });

  it("shows a token's supply and top balances: from a cell's `balances` state when there is one, else the genesis", async () => {
    const library = loadPlan("test/fixtures/good/library.yaml");
    const o = createOperations({ node: "north", plans: [library], log: silentLogger });
    const cell = library.order[0];
    // Amounts are decimal strings of base units, as the token keeps them.
    const balances: Record<string, string> = {};
    for (let i = 0; i < 5000; i++) balances[`acct-${i}`] = String((i * 7919) % 10_007);
    let state: unknown = { other: 1 };
    const host = { channel: library.channel, cell, chain: { height: 3, get cell() { return state; } }, driver: { state: null, fault: null, running: true }, poolSize: () => ({ count: 0, bytes: 0 }), plan: library, staged: () => [], liveState: () => state };
    o.bind({ hosts: () => [host as never], online: () => true, peers: () => ({ connected: 0, known: 0 }) });
    const { dashboardView } = await import("../../../runtime/node/node-view.js");
    let t = dashboardView(o.view).channels[0].token!;
    expect(t).toMatchObject({ name: "Reading Credit", symbol: "RDC", supply: "101050", from: "genesis" });
    expect(t.top).toEqual([{ account: "treasury", balance: "100050" }, { account: "north", balance: "1000" }]);
    state = { balances };
    t = dashboardView(o.view).channels[0].token!;
    expect(t.from).toBe("state");
    const expected = Object.entries(balances).sort((a, b) => Number(b[1]) - Number(a[1]) || (a[0] < b[0] ? -1 : 1)).slice(0, 10).map(([, b]) => b);
    expect(t.top.map((x) => x.balance)).toEqual(expected);
    // The built-in token cell is drawn as a cell of its group, with its own chain when this node hosts it.
    const tokenCell = () => dashboardView(o.view).channels[0].cells.find((c) => c.name === "token");
    expect(tokenCell()).toMatchObject({ group: library.token!.group, hosted: false, height: null, upstream: [], downstream: [], signed: true });
    const tokenHost = { ...host, cell: "token", chain: { height: 7, cell: state }, liveState: () => ({ balances, supply: "1" }) };
    o.bind({ hosts: () => [host as never, tokenHost as never], online: () => true, peers: () => ({ connected: 0, known: 0 }) });
    expect(tokenCell()).toMatchObject({ hosted: true, height: 7 });
    o.close();
  });

  it("refuses feed clients past its maximum with a code", async () => {
    const { url } = await start();
    for (let i = 0; i < FEED_MAX_CLIENTS; i++) await feed(url);
    await expect(feed(url)).rejects.toThrow("refused 503");
  });
});
