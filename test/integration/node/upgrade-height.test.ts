/**
 * An upgrade at a height on four real node processes under steady load:
 * version 2 (a tighter rule: 3,000 litres instead of 5,000) is staged on every
 * node with `activation: H`; one node is restarted while it is staged (it
 * must load it from its ledger); every node switches at block H of every cell
 * (blocks below are judged by version 1, from H on by version 2), the chains
 * are identical, and every acknowledged input reaches a final status. A
 * broken version 3 is refused on every node with its lint errors and counted,
 * and version 2 keeps committing. The export spanning the upgrade verifies
 * with both files, and with only the old one verify names block H as the
 * first it cannot check.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, layoutNetwork, ready, sleep, startNode, stopNodes, TOKEN, until, type TestNode } from "../dashboard/network.js";
import { blocksAt, type ApiBlock } from "./network.js";
import { main } from "../../../runtime/cli/main.js";

const METERS = join(import.meta.dirname, "..", "dashboard", "meters.yaml");
const CELLS = ["readings", "streets"] as const;
let dir: string;
let nodes: TestNode[] = [];

type Ack = { id: string; status: string; code?: string; rule?: string; at?: string };

async function submit(api: string, data: unknown): Promise<Ack | undefined> {
  try {
    const r = await fetch(`${api}/v1/channels/meters/cells/readings/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ data }), signal: AbortSignal.timeout(5000) });
    if (r.status !== 200) return undefined;
    return ((await r.json()) as { results: Ack[] }).results[0];
  } catch {
    return undefined;
  }
}

async function channel(api: string): Promise<any> {
  const r = await fetch(`${api}/v1/channels`, { signal: AbortSignal.timeout(5000) });
  return ((await r.json()) as { channels: any[] }).channels.find((c) => c.channel === "meters");
}

async function heights(api: string): Promise<Record<string, number>> {
  try {
    const c = await channel(api);
    return Object.fromEntries((c?.cells ?? []).map((x: any) => [x.cell, x.height]));
  } catch {
    return {};
  }
}

async function put(node: TestNode, file: string): Promise<{ status: number; body: any }> {
  const r = await fetch(`${node.api}/v1/admin/channels/meters`, { method: "PUT", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ file }), signal: AbortSignal.timeout(30_000) });
  return { status: r.status, body: await r.json() };
}

const litresOf = (input: unknown): number => ((input as { data?: { litres?: number } }).data?.litres ?? -1);

describe("an upgrade at a height on real nodes", () => {
  const v2 = () => join(dir, "v2", "meters.yaml");
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "statecell-upgrade-"));
    nodes = await layoutNetwork(dir, ["v-1", "v-2", "v-3", "v-4"], [join(dir, "v1", "meters.yaml")]);
    for (const v of ["v1", "v2", "v3"]) mkdirSync(join(dir, v));
    writeFileSync(join(dir, "v1", "meters.yaml"), readFileSync(METERS, "utf8"));
    for (const n of nodes) startNode(n);
    await until(async () => (await Promise.all(nodes.map((n) => ready(n.api)))).every(Boolean), 150_000, "four ready nodes");
  }, 180_000);

  afterAll(async () => {
    await stopNodes(nodes);
    if (process.env.STATECELL_KEEP_TEST_DIR === undefined) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  let H = 0;
  const acked: Ack[] = [];

  it("every node switches at block H of every cell under load; nothing acknowledged is lost; identical chains", async () => {
    const source = readFileSync(METERS, "utf8");
    let stop = false;
    let n = 0;
    // Steady load on all four nodes: every third reading is 4,000 litres (version 1 takes it, version 2 refuses it).
    const loader = (async () => {
      while (!stop) {
        const a = await submit(nodes[n % 4].api, { meter: `m-${n}`, street: n % 2 === 0 ? "elm" : "oak", litres: n % 3 === 0 ? 4000 : 100 + (n % 50) });
        n++;
        if (a !== undefined && a.status === "pending") acked.push({ ...a, at: nodes[(n - 1) % 4].name });
        await sleep(15);
      }
    })();
    try {
      await until(() => acked.length >= 30, 60_000, "load");
      // The activation height: ahead of every cell on every node, so each stages it before its cells get there.
      const hs = await Promise.all(nodes.map((x) => heights(x.api)));
      H = Math.max(...hs.flatMap((h) => Object.values(h))) + 60;
      writeFileSync(v2(), source.replace("version: 1", `version: 2\nactivation: ${H}`).replace("5000 ] }", "3000 ] }").replace("5,000", "3,000"));
      const staged = await Promise.all(nodes.map((x) => put(x, v2())));
      for (const s of staged) expect(s, JSON.stringify(s.body)).toMatchObject({ status: 200, body: { channel: "meters", version: 2, activation: H } });
      for (const x of nodes) {
        const c = await channel(x.api);
        // Staged, not running: version 1 commits until block H.
        if (Math.min(...c.cells.map((cc: any) => cc.height)) < H - 1) expect(c).toMatchObject({ version: 1, staged: [{ version: 2, activation: H }] });
      }
      // The same file again is answered "already staged".
      const again = await cli(["channel", "upgrade", v2(), "--config", nodes[0].config]);
      expect(again.code, again.out).toBe(0);
      expect(again.out).toContain(`already staged (in force from block ${H})`);

      // v-4 is restarted while the upgrade is staged: it must run version 2 from H on, loaded from its ledger.
      const v4 = nodes[3];
      const exited = new Promise((r) => v4.child!.once("exit", r));
      v4.child!.kill("SIGTERM");
      await exited;
      startNode(v4);

      await until(
        async () => {
          const all = await Promise.all(nodes.map((x) => heights(x.api)));
          return all.every((h) => CELLS.every((c) => (h[c] ?? 0) >= H + 10));
        },
        150_000,
        `every cell on every node past block ${H + 10}`,
      );
    } finally {
      stop = true;
      await loader;
    }

    // Every acknowledged input reaches a final status (committed, or rejected with a code), none pending,
    // as the node that acknowledged it answers (an input the new version refused at the switch is settled
    // where it was pending; a node it was never gossiped to does not know it).
    const final = new Map<string, { status: string; code?: string; rule?: string; height?: number }>();
    await until(
      async () => {
        for (const a of acked) {
          if (final.has(a.id)) continue;
          try {
            const at = nodes.find((x) => x.name === a.at)!;
            const s = (await (await fetch(`${at.api}/v1/inputs/${a.id}`, { signal: AbortSignal.timeout(5000) })).json()) as { status?: string; code?: string; rule?: string; height?: number };
            if (s.status === "committed" || s.status === "rejected") final.set(a.id, s as { status: string });
          } catch {
            // asked again
          }
        }
        return final.size === acked.length;
      },
      90_000,
      "every acknowledged input to reach a final status",
    ).catch(async (e: Error) => {
      const left = acked.filter((a) => !final.has(a.id)).slice(0, 5);
      const seen = await Promise.all(left.map(async (a) => [a.id.slice(0, 12), a.at, await Promise.all(nodes.map(async (x) => ((await (await fetch(`${x.api}/v1/inputs/${a.id}`)).json()) as { status?: string }).status ?? "unknown"))]));
      throw new Error(`${e.message}: ${acked.length - final.size} left, e.g. ${JSON.stringify(seen)}`);
    });
    for (const s of final.values()) if (s.status === "rejected") expect(s.code).toMatch(/^[A-Z_]+$/);

    // Identical chains on every node, and the verdicts change at H exactly.
    for (const cell of CELLS) {
      const top = Math.min(...(await Promise.all(nodes.map((x) => heights(x.api)))).map((h) => h[cell]));
      const chains: ApiBlock[][] = await Promise.all(nodes.map((x) => blocksAt(x.api, "meters", cell, top)));
      for (const c of chains.slice(1)) expect(c.map((b) => b.hash)).toEqual(chains[0].map((b) => b.hash));
      if (cell !== "readings") continue;
      let bigBelow = 0;
      let acceptedFrom = 0;
      for (const b of chains[0]) {
        b.value.inputs.forEach((input, i) => {
          const v = b.value.verdicts[i] as { accepted: boolean; code?: string; rule?: string };
          if (b.height < H && v.accepted && litresOf(input) === 4000) bigBelow++;
          if (b.height >= H && v.accepted) acceptedFrom++;
          // From H on, version 2's rule judges: nothing above 3,000 litres is accepted.
          if (b.height >= H && litresOf(input) > 3000) expect(v).toMatchObject({ accepted: false, code: "CELL_RULE", rule: "plausible-use" });
        });
      }
      expect(bigBelow).toBeGreaterThan(0);
      expect(acceptedFrom).toBeGreaterThan(0);
    }
    for (const x of nodes) {
      const c = await channel(x.api);
      expect(c).toMatchObject({ version: 2, staged: [], status: "running" });
      expect(c.cells.map((cc: any) => cc.version)).toEqual([2, 2]);
      const log = readFileSync(x.log, "utf8");
      for (const cell of CELLS) expect(log).toMatch(new RegExp(`"cell":"${cell}","height":${H},"version":2,[^\\n]*"msg":"version in force"`));
    }
    // After the switch a 4,000-litre reading is refused by version 2's rule; 2,000 commits.
    expect(await submit(nodes[0].api, { meter: "after-big", street: "elm", litres: 4000 })).toMatchObject({ status: "rejected", rule: "plausible-use" });
  }, 300_000);

  it("a broken version 3 is refused on every node with its lint errors and counted; version 2 keeps committing", async () => {
    writeFileSync(join(dir, "v3", "meters.yaml"), `${readFileSync(v2(), "utf8").replace("version: 2", "version: 3").replace(`activation: ${H}`, `activation: ${H + 100000}`)}\nbogus-key: 1\n`);
    const refused = await Promise.all(nodes.map((x) => put(x, join(dir, "v3", "meters.yaml"))));
    for (const r of refused) {
      expect(r.status).toBe(422);
      expect(r.body.code).toBe("NODE_CHANNEL_INVALID");
      expect(r.body.problems.join("\n")).toMatch(/meters\.yaml:\d+:\d+.*bogus-key/s);
    }
    for (const x of nodes) {
      const metrics = await (await fetch(`${x.api}/metrics`)).text();
      expect(metrics).toContain('statecell_reload_failures_total{channel="meters"} 1');
      expect(await channel(x.api)).toMatchObject({ version: 2, staged: [], lastError: { code: "NODE_CHANNEL_INVALID" } });
    }
    const before = (await heights(nodes[1].api)).readings;
    const ok = await submit(nodes[1].api, { meter: "v2-still", street: "elm", litres: 2000 });
    expect(ok?.status).toBe("pending");
    await until(async () => ((await (await fetch(`${nodes[1].api}/v1/inputs/${ok!.id}`)).json()) as { status: string }).status === "committed", 30_000, "a reading to commit under version 2");
    expect((await heights(nodes[1].api)).readings).toBeGreaterThan(before);
    expect(await submit(nodes[2].api, { meter: "v2-big", street: "elm", litres: 4000 })).toMatchObject({ status: "rejected", rule: "plausible-use" });
  }, 90_000);

  it("the export spanning the upgrade verifies with both files; with only version 1 verify names block H", async () => {
    const out = join(dir, "meters.jsonl");
    let text = "";
    expect(await main(["export", "--node", nodes[0].api, "--channel", "meters", "--out", out], (s) => (text += s)), text).toBe(0);
    const lines = readFileSync(out, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[1]).toMatchObject({ type: "definition", version: 1 });
    expect(lines[2]).toMatchObject({ type: "definition", version: 2, activation: H });
    text = "";
    const code = await main(["verify", out, join(dir, "v1", "meters.yaml"), v2()], (s) => (text += s));
    expect(text).toContain(`version 2`);
    expect(text).toContain(`re-executed from block ${H}`);
    expect(code, text).toBe(0);
    // Without files: the definitions the export carries.
    text = "";
    expect(await main(["verify", out], (s) => (text += s)), text).toBe(0);
    // Only the old file: the first block it cannot check is block H of the first cell.
    text = "";
    expect(await main(["verify", out, join(dir, "v1", "meters.yaml")], (s) => (text += s))).toBe(1);
    expect(text).toContain(`CLI_VERIFY_DIVERGENCE (block, cell readings, height ${H})`);
    expect(text).toContain("under version 2");
    expect(text).toMatch(/fix: give the channel file of version 2 too/);
  }, 120_000);
});
