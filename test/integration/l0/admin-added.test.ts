/**
 * A channel added to running nodes through the admin API joins the global
 * network like one listed in the node files: its snapshot group starts on
 * each member, registers the channel with L0 (a threshold of signatures),
 * and sends its snapshots, acknowledged by a real `statecell l0` process.
 * Removed again, its snapshot group stops with it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadNodeConfig } from "../../../runtime/node/config/index.js";
import { startNode, type RunningNode } from "../../../runtime/node/node.js";
import { l0Client } from "../../../runtime/l0/index.js";
import { FIXTURES, freePort, startL0Process, until, writeNetwork, type L0Process } from "./network.js";

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } } as never;
const NAMES = ["v1", "v2", "v3", "v4"];

describe("a channel added at run time", () => {
  const dir = mkdtempSync(join(tmpdir(), "statecell-added-"));
  const nodes: RunningNode[] = [];
  let l0: L0Process | undefined;
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await l0?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("registers with L0 and sends its snapshots; removed, its snapshot group stops", async () => {
    l0 = await startL0Process(join(dir, "l0"), await freePort());
    const net = await writeNetwork(dir, Object.fromEntries(NAMES.map((n) => [n, [join(FIXTURES, "alpha.yaml")]])), { url: l0.url, key: l0.key });
    for (const name of NAMES) nodes.push(await startNode(loadNodeConfig(net.configs[name]).config!, { log: silent }));
    for (const n of nodes) expect(n.admin.add(join(FIXTURES, "beta.yaml"))).toMatchObject({ ok: true, channel: "beta" });
    // beta's snapshot group is b (v2, v3, v4): its members host it, v1 does not.
    expect(nodes.map((n) => n.snapshots.hosts.has("beta"))).toEqual([false, true, true, true]);
    for (let i = 0; i < 12; i++) {
      const r = await fetch(`${net.api.v2}/v1/channels/beta/cells/src/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [{ data: { n: i } }] }) });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    const client = l0Client(l0.url);
    const head = async () => {
      const r = await client.channel("beta");
      return r.ok ? ((r.channel as unknown as { head: { height: number } | null }).head?.height ?? 0) : 0;
    };
    await until("beta registered and at L0 height 1", async () => ((await head()) >= 1 ? true : undefined), 120_000, 300);
    const snaps = await client.snapshots("beta", { from: 1, limit: 10 });
    expect(snaps.ok && snaps.snapshots[0].snapshot.channel).toBe("beta");
    expect(nodes[1].snapshots.l0Status().find((c) => c.channel === "beta")).toMatchObject({ registered: true });

    expect(nodes[3].admin.remove("beta")).toMatchObject({ ok: true });
    expect(nodes[3].snapshots.hosts.has("beta")).toBe(false);
  }, 240_000);
});
