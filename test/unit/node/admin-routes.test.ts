/**
 * The admin API on a real API server over the real checks (channel-admin)
 * and a recording set of hosted channels: the token, hostile bodies and
 * paths, and every refusal of a reload with its code, counted and logged.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChannelPlan } from "../../../runtime/definition/index.js";
import { createApiServer, type ApiServer } from "../../../runtime/node/api/index.js";
import { adminRoutes } from "../../../runtime/node/api/admin-routes.js";
import { channelAdmin } from "../../../runtime/node/channel-admin.js";
import type { Logger, LogFields } from "../../../runtime/node/log.js";
import type { HostedChannels } from "../../../runtime/node/node.js";
import { createOperations, type Operations } from "../../../runtime/node/operations.js";
import { fakeCore } from "./fake-core.js";
import { call } from "./helpers.js";
import { loadPlan, METERS } from "./ops-helpers.js";

const TOKEN = "unit-test-operator-token-abcdefghijklmnop";
const auth = { authorization: `Bearer ${TOKEN}` };
let api: ApiServer | undefined;
let ops: Operations;
let dir: string;
let lines: Array<{ msg: string; fields?: LogFields }>;
let hosted: Map<string, ChannelPlan>;
let staged: ChannelPlan[] = [];

function logger(): Logger {
  const l: Logger = { info: (msg, fields) => void lines.push({ msg, fields }), warn: (msg, fields) => void lines.push({ msg, fields }), error: (msg, fields) => void lines.push({ msg, fields }), child: () => l };
  return l;
}

async function start(token: string | null = TOKEN): Promise<number> {
  const log = logger();
  ops = createOperations({ node: "v-1", plans: [loadPlan()], log });
  hosted = new Map([["meters", loadPlan()]]);
  staged = [];
  const channels: HostedChannels = {
    plans: () => [...hosted.values()],
    add: (p) => void hosted.set(p.channel, p),
    replace: (p) => void hosted.set(p.channel, p),
    remove: (c) => void hosted.delete(c),
    stage: (p) => void staged.push(p),
    versions: (c) => (hosted.has(c) ? [{ from: 1, plan: hosted.get(c)! }, ...staged.filter((p) => p.channel === c).map((p) => ({ from: p.activation!, plan: p }))] : []),
  };
  const admin = channelAdmin({ node: "v-1", channels, ops, log });
  api = createApiServer(fakeCore(), { routes: adminRoutes({ token: token ?? undefined, admin, view: ops.view, log, metrics: ops.metrics }) });
  return (await api.listen({ host: "127.0.0.1", port: 0 })).port;
}

function variant(name: string, edit: (s: string) => string): string {
  const f = join(dir, name, "meters.yaml");
  rmSync(join(dir, name), { recursive: true, force: true });
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(f, edit(readFileSync(METERS, "utf8")));
  return f;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "statecell-admin-"));
  lines = [];
});
afterEach(async () => {
  await api?.close();
  api = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe("admin routes", () => {
  it("is off without a token, and refuses a missing or wrong token; every call is logged without the token", async () => {
    let port = await start(null);
    expect((await call(port, "GET", "/v1/admin/channels", undefined, auth)).json.code).toBe("NODE_ADMIN_DISABLED");
    await api!.close();
    port = await start();
    const tries: Array<Record<string, string>> = [{}, { authorization: TOKEN }, { authorization: `Bearer ${TOKEN.slice(1)}` }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}${"x".repeat(10_000)}` }];
    for (const h of tries) {
      const r = await call(port, "GET", "/v1/admin/channels", undefined, h);
      expect(r.status).toBe(401);
      expect(r.json.code).toBe("NODE_ADMIN_UNAUTHORIZED");
    }
    const ok = await call(port, "GET", "/v1/admin/channels", undefined, auth);
    expect(ok.status).toBe(200);
    expect(ok.json.channels.map((c: any) => c.channel)).toEqual(["meters"]);
    const calls = lines.filter((l) => l.msg === "admin call");
    expect(calls.map((c) => c.fields?.status)).toEqual([403, 401, 401, 401, 401, 401, 200]);
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
    expect(await ops.metrics.text()).toContain('statecell_admin_requests_total{route="channels",status="401"} 5');
  });

  it("answers hostile bodies and paths with codes and changes nothing", async () => {
    const port = await start();
    const json = { ...auth, "content-type": "application/json" };
    const cases: Array<[string, string, string | undefined, Record<string, string>, number, string]> = [
      ["POST", "/v1/admin/channels", "not json", json, 400, "API_NOT_JSON"],
      ["POST", "/v1/admin/channels", JSON.stringify({ file: 7 }), json, 400, "API_BAD_BODY"],
      ["POST", "/v1/admin/channels", JSON.stringify({ file: "/x", extra: 1 }), json, 400, "API_BAD_BODY"],
      ["POST", "/v1/admin/channels", JSON.stringify({ file: "/etc/passwd\u0000.yaml" }), json, 400, "API_BAD_BODY"],
      ["POST", "/v1/admin/channels", JSON.stringify({ file: "x".repeat(5000) }), json, 400, "API_BAD_BODY"],
      ["POST", "/v1/admin/channels", JSON.stringify({ file: "a".repeat(20_000) }), json, 413, "API_TOO_LARGE"],
      ["POST", "/v1/admin/channels", JSON.stringify({ file: "/x" }), { ...auth, "content-type": "text/plain" }, 415, "API_UNSUPPORTED_MEDIA_TYPE"],
      ["POST", "/v1/admin/channels", JSON.stringify({ file: "/etc/passwd" }), json, 422, "NODE_CHANNEL_INVALID"],
      ["POST", "/v1/admin/channels", JSON.stringify({ file: "/no/such/file.yaml" }), json, 422, "NODE_CHANNEL_INVALID"],
      ["PATCH", "/v1/admin/channels/meters", "{}", json, 405, "API_METHOD_NOT_ALLOWED"],
      ["DELETE", "/v1/admin/channels", undefined, auth, 405, "API_METHOD_NOT_ALLOWED"],
      ["DELETE", "/v1/admin/channels/meters/cells", undefined, auth, 404, "API_NOT_FOUND"],
      ["DELETE", "/v1/admin/channels/%E0%A4%A", undefined, auth, 404, "API_NOT_FOUND"],
      ["DELETE", "/v1/admin/channels/nope", undefined, auth, 404, "NODE_CHANNEL_UNKNOWN"],
    ];
    for (const [method, path, body, headers, status, code] of cases) {
      const r = await call(port, method, path, body, headers);
      expect([path, r.status, r.json?.code]).toEqual([path, status, code]);
    }
    expect([...hosted.keys()]).toEqual(["meters"]);
  });

  it("refuses a broken upgrade with its problems, counts it, keeps the old version; applies a good one", async () => {
    const port = await start();
    const json = { ...auth, "content-type": "application/json" };
    const broken = variant("broken", (s) => `${s.replace("version: 1", "version: 2")}\nbogus-key: 1\n`);
    const r = await call(port, "PUT", "/v1/admin/channels/meters", JSON.stringify({ file: broken }), json);
    expect(r.status).toBe(422);
    expect(r.json.code).toBe("NODE_CHANNEL_INVALID");
    expect(r.json.problems.join("\n")).toMatch(/meters\.yaml:\d+:\d+.*bogus-key/s);
    expect(hosted.get("meters")!.version).toBe(1);
    expect(await ops.metrics.text()).toContain('statecell_reload_failures_total{channel="meters"} 1');
    expect(lines.some((l) => l.msg === "channel reload refused")).toBe(true);

    const same = variant("same", (s) => s);
    expect((await call(port, "PUT", "/v1/admin/channels/meters", JSON.stringify({ file: same }), json)).json).toMatchObject({ unchanged: true, version: 1 });
    const older = variant("older", (s) => s.replace("5000", "4000"));
    expect((await call(port, "PUT", "/v1/admin/channels/meters", JSON.stringify({ file: older }), json)).json.code).toBe("NODE_CHANNEL_NOT_NEWER");
    const other = variant("other", (s) => s.replace("channel: meters", "channel: gauges").replace("version: 1", "version: 2"));
    expect((await call(port, "PUT", "/v1/admin/channels/meters", JSON.stringify({ file: other }), json)).json.code).toBe("NODE_CHANNEL_MISMATCH");
    const elsewhere = variant("elsewhere", (s) => s.replace("channel: meters", "channel: far").replaceAll("v-1", "w-1"));
    expect((await call(port, "POST", "/v1/admin/channels", JSON.stringify({ file: elsewhere }), json)).json.code).toBe("NODE_CHANNEL_NOT_HERE");
    expect((await call(port, "POST", "/v1/admin/channels", JSON.stringify({ file: same }), json)).json.code).toBe("NODE_CHANNEL_EXISTS");

    const good = variant("good", (s) => s.replace("version: 1", "version: 2").replaceAll("5000", "8000"));
    const up = await call(port, "PUT", "/v1/admin/channels/meters", JSON.stringify({ file: good }), json);
    expect(up.status).toBe(200);
    expect(up.json).toMatchObject({ channel: "meters", version: 2 });
    expect(hosted.get("meters")!.version).toBe(2);
    expect(await ops.metrics.text()).toContain('statecell_reloads_total{channel="meters"} 1');
    const gone = await call(port, "DELETE", "/v1/admin/channels/meters", undefined, auth);
    expect(gone.status).toBe(200);
    expect(hosted.size).toBe(0);
  });
});
