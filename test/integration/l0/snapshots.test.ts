/**
 * Snapshots on real nodes: four validator nodes (real WebSockets, SQLite
 * ledgers, group drivers) run two channels and send their snapshots to a real
 * `statecell l0` process through the outbox.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadNodeConfig } from "../../../runtime/node/config/index.js";
import { startNode, type RunningNode } from "../../../runtime/node/node.js";
import { l0Client, verifyAck } from "../../../runtime/l0/index.js";
import { FIXTURES, freePort, startL0Process, until, writeNetwork, type L0Process } from "./network.js";

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } } as never;

describe("snapshots to L0", () => {
  const dir = mkdtempSync(join(tmpdir(), "statecell-l0c-"));
  const nodes: RunningNode[] = [];
  let l0: L0Process | undefined;
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await l0?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("two channels: L0 holds both snapshot chains and every acknowledgement verifies", async () => {
    const port = await freePort();
    l0 = await startL0Process(join(dir, "l0"), port);
    const alpha = join(FIXTURES, "alpha.yaml");
    const beta = join(FIXTURES, "beta.yaml");
    const net = await writeNetwork(dir, { v1: [alpha, beta], v2: [alpha, beta], v3: [alpha, beta], v4: [alpha, beta] }, { url: l0.url, key: l0.key });
    for (const name of ["v1", "v2", "v3", "v4"]) {
      const { config, problems } = loadNodeConfig(net.configs[name]);
      expect(problems.filter((p) => p.severity === "error")).toEqual([]);
      nodes.push(await startNode(config!, { log: silent }));
    }
    const client = l0Client(l0.url);
    for (const channel of ["alpha", "beta"]) {
      await until(`${channel} at L0 height 3`, async () => {
        const r = await client.channel(channel);
        return r.ok && (r.channel as unknown as { head: { height: number } }).head.height >= 3 ? true : undefined;
      }, 90_000, 500);
    }
    for (const channel of ["alpha", "beta"]) {
      const r = await client.snapshots(channel, { from: 1, limit: 100 });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const heights = r.snapshots.map((s) => s.height);
      expect(heights.slice(0, 3)).toEqual([1, 2, 3]);
      for (const s of r.snapshots) expect(verifyAck(s.ack as never, [l0.key], { channel, height: s.height, hash: s.hash }).ok).toBe(true);
    }
  }, 180_000);
});
