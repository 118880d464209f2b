/**
 * Hosting changes on a running network of four real node processes,
 * through `statecell channel` and the admin API: an upgrade under load
 * loses no input and the new rules apply; a broken definition is refused
 * with its problems, counted, shown as the channel's last error, and the
 * old version keeps committing; remove and add; the token is required and
 * every admin call is logged (the token never is).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, layoutNetwork, ready, sleep, startNode, stopNodes, TOKEN, until, type TestNode } from "./network.js";

const METERS = join(import.meta.dirname, "meters.yaml");
let dir: string;
let nodes: TestNode[] = [];

type Ack = { id: string; status: string; rule?: string };

async function submit(api: string, data: unknown): Promise<Ack | undefined> {
  try {
    const r = await fetch(`${api}/v1/channels/meters/cells/readings/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ data }), signal: AbortSignal.timeout(5000) });
    if (r.status !== 200) return undefined;
    return ((await r.json()) as { results: Ack[] }).results[0];
  } catch {
    return undefined;
  }
}

async function channels(api: string): Promise<any[]> {
  return ((await (await fetch(`${api}/v1/channels`)).json()) as { channels: any[] }).channels;
}

async function heightOf(api: string): Promise<number> {
  const c = (await channels(api)).find((x) => x.channel === "meters");
  return c?.cells.find((x: any) => x.cell === "readings")?.height ?? -1;
}

describe("hot reload and the admin API on real nodes", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "statecell-reload-"));
    nodes = await layoutNetwork(dir, ["v-1", "v-2", "v-3", "v-4"], [METERS]);
    for (const n of nodes) startNode(n);
    await until(async () => (await Promise.all(nodes.map((n) => ready(n.api)))).every(Boolean), 120_000, "four ready nodes");
    const source = readFileSync(METERS, "utf8");
    mkdirSync(join(dir, "v2"));
    mkdirSync(join(dir, "v3"));
    writeFileSync(join(dir, "v2", "meters.yaml"), source.replace("version: 1", "version: 2").replaceAll("5000", "8000").replace("5,000", "8,000"));
    writeFileSync(join(dir, "v3", "meters.yaml"), `${source.replace("version: 1", "version: 3")}\nbogus-key: 1\n`);
  }, 150_000);

  afterAll(async () => {
    await stopNodes(nodes);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("refuses admin calls without the token, and logs every call without the token", async () => {
    const v1 = nodes[0];
    const none = await fetch(`${v1.api}/v1/admin/channels`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { code: string }).code).toBe("NODE_ADMIN_UNAUTHORIZED");
    const wrong = await fetch(`${v1.api}/v1/admin/channels`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const list = await cli(["channel", "list", "--config", v1.config]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/meters\s+v1\s+running\s+readings@\d+ streets@\d+/);
    const log = readFileSync(v1.log, "utf8");
    const calls = log.split("\n").filter((l) => l.includes('"admin call"')).map((l) => JSON.parse(l));
    expect(calls.map((c) => c.status)).toEqual([401, 401, 200]);
    expect(calls[0]).toMatchObject({ method: "GET", route: "/v1/admin/channels", from: "127.0.0.1", code: "NODE_ADMIN_UNAUTHORIZED" });
    expect(log).not.toContain(TOKEN);
  });

  it("an upgrade under load loses no input, and the new version's rules apply", async () => {
    const acked: Ack[] = [];
    let stop = false;
    let n = 0;
    const loader = (async () => {
      while (!stop) {
        const a = await submit(nodes[n % 4].api, { meter: `m-${n}`, street: "elm", litres: 100 + (n % 50) });
        n++;
        if (a !== undefined && a.status !== "rejected") acked.push(a);
        await sleep(10);
      }
    })();
    await until(() => acked.length >= 20, 30_000, "load");
    // Before: the v1 rule refuses 6,000 litres.
    expect((await submit(nodes[0].api, { meter: "big-1", street: "elm", litres: 6000 }))?.rule).toBe("plausible-use");
    const results = await Promise.all(nodes.map((node) => cli(["channel", "upgrade", join(dir, "v2", "meters.yaml"), "--config", node.config])));
    for (const r of results) {
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/^upgraded meters v2 /);
    }
    await until(() => acked.length >= 60, 30_000, "load after the upgrade");
    stop = true;
    await loader;
    for (const node of nodes) expect((await channels(node.api)).find((c) => c.channel === "meters")).toMatchObject({ version: 2, status: "running" });
    // After: 6,000 litres is within the v2 rule, and it commits.
    const big = await submit(nodes[0].api, { meter: "big-2", street: "elm", litres: 6000 });
    expect(big?.status).toBe("pending");
    // Every input acknowledged before, during and after the swap commits.
    const pending = new Set([...acked, big!].map((a) => a.id));
    await until(
      async () => {
        for (const id of [...pending]) {
          const s = (await (await fetch(`${nodes[0].api}/v1/inputs/${id}`)).json()) as { status?: string };
          if (s.status === "committed") pending.delete(id);
        }
        return pending.size === 0;
      },
      60_000,
      "every acknowledged input to commit",
    );
    const metrics = await (await fetch(`${nodes[0].api}/metrics`)).text();
    expect(metrics).toContain('statecell_reloads_total{channel="meters"} 1');
  }, 150_000);

  it("a broken definition is refused with its problems and counted; the old version keeps committing", async () => {
    const v2 = nodes[1];
    const r = await cli(["channel", "upgrade", join(dir, "v3", "meters.yaml"), "meters", "--config", v2.config]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("NODE_CHANNEL_INVALID");
    expect(r.out).toContain("bogus-key");
    expect(r.out).toMatch(/meters\.yaml:\d+:\d+/);
    const c = (await channels(v2.api)).find((x) => x.channel === "meters");
    expect(c).toMatchObject({ version: 2, status: "running", lastError: { code: "NODE_CHANNEL_INVALID" } });
    const metrics = await (await fetch(`${v2.api}/metrics`)).text();
    expect(metrics).toContain('statecell_reload_failures_total{channel="meters"} 1');
    const h0 = await heightOf(v2.api);
    await until(async () => (await heightOf(v2.api)) >= h0 + 3, 20_000, "the old version to keep committing");
    expect(readFileSync(v2.log, "utf8")).toContain('"msg":"channel reload refused"');
  }, 60_000);

  it("remove and add again: the node stops and resumes hosting the channel from its ledger", async () => {
    const v4 = nodes[3];
    const before = await heightOf(v4.api);
    const removed = await cli(["channel", "remove", "meters", "--config", v4.config]);
    expect(removed.code, removed.out).toBe(0);
    expect(await channels(v4.api)).toEqual([]);
    const refused = await fetch(`${v4.api}/v1/channels/meters/cells/readings/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ data: { meter: "x", street: "y", litres: 1 } }) });
    expect(refused.status).toBe(404);
    const unknown = await cli(["channel", "remove", "meters", "--config", v4.config]);
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain("NODE_CHANNEL_UNKNOWN");
    const added = await cli(["channel", "add", join(dir, "v2", "meters.yaml"), "--config", v4.config]);
    expect(added.code, added.out).toBe(0);
    expect(added.out).toMatch(/^added meters v2 /);
    const twice = await cli(["channel", "add", join(dir, "v2", "meters.yaml"), "--config", v4.config]);
    expect(twice.code).toBe(1);
    expect(twice.out).toContain("NODE_CHANNEL_EXISTS");
    await until(async () => (await heightOf(v4.api)) > before + 2, 30_000, "v-4 to commit again after it was added back");
    await until(() => ready(v4.api), 30_000, "v-4 ready");
  }, 90_000);
});
