/**
 * One batch of meter readings sent by a client to all four validator
 * processes at once (as a client that wants its inputs taken whichever node
 * is up). Each node gets every input from the client and again from the
 * gossip of each peer that took it first: it admits each input once, whoever
 * brings it (statecell_admissions_total, by source), and every input is
 * committed once with identical chains. A copy that reaches a node after its
 * input was committed there is admitted again (then found known): a batch is
 * sent once first, so no node is still cold when the measured one goes out.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chain, committedOnce, head, up, type UpNetwork } from "./network.js";
import { METER, meterReading } from "./traffic.js";

const dir = mkdtempSync(join(tmpdir(), "statecell-gossip-"));
let net: UpNetwork | undefined;
const CH = "meter";
const CELL = "readings";
const N = 60;

afterAll(async () => {
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** statecell_admissions_total of the meter cell at `api`, by source. */
async function admissions(api: string): Promise<{ client: number; peer: number }> {
  const text = await (await fetch(`${api}/metrics`)).text();
  const of = (source: string) => Number(new RegExp(`statecell_admissions_total\\{channel="${CH}",cell="${CELL}",source="${source}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return { client: of("client"), peer: of("peer") };
}

describe("gossip of inputs a node already holds", () => {
  it("costs no second admission: each node checks each input once, whoever brings it", async () => {
    net = await up([METER], dir);
    const toAll = (inputs: unknown[]) =>
      Promise.all(
        net!.nodes.map(async (n) => {
          const r = await fetch(`${n.api}/v1/channels/${CH}/cells/${CELL}/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs }) });
          expect(r.status).toBe(200);
          return ((await r.json()) as { results: Array<{ id: string; status: string }> }).results;
        }),
      );
    // Warm-up: every node's submission path and gossip have run once.
    const warm = await toAll(Array.from({ length: N }, () => meterReading()));
    for (const n of net.nodes) await committedOnce(n.api, CH, CELL, warm[0].map((a) => a.id), 60_000);

    const before = await Promise.all(net.nodes.map((n) => admissions(n.api)));
    const answers = await toAll(Array.from({ length: N }, () => meterReading()));
    // Every node acknowledged every input (pending, or already committed if its copy came late), with the same ids.
    const ids = answers[0].map((a) => a.id);
    for (const a of answers) {
      expect(a.map((x) => x.id)).toEqual(ids);
      for (const x of a) expect(["pending", "committed"]).toContain(x.status);
    }
    const height = await committedOnce(net.nodes[0].api, CH, CELL, ids, 60_000);
    for (const n of net.nodes.slice(1)) await committedOnce(n.api, CH, CELL, ids, 60_000);
    const h = Math.min(height, ...(await Promise.all(net.nodes.map((n) => head(n.api, CH, CELL)))).map((x) => x.height));
    const chains = await Promise.all(net.nodes.map((n) => chain(n.api, CH, CELL, h)));
    for (const c of chains.slice(1)) expect(c).toEqual(chains[0]);

    const after = await Promise.all(net.nodes.map((n) => admissions(n.api)));
    for (let i = 0; i < net.nodes.length; i++) {
      const client = after[i].client - before[i].client;
      const peer = after[i].peer - before[i].peer;
      // Once per input at each node. Before, a node admitted an input again from every peer that gossiped
      // it (four times here: 240 for 60 inputs); a rare copy later than its commit here is in the slack.
      expect(client + peer, `${net.nodes[i].name}: ${client} admissions from the client, ${peer} from peers`).toBeGreaterThanOrEqual(N);
      expect(client + peer, `${net.nodes[i].name}: ${client} admissions from the client, ${peer} from peers`).toBeLessThan(N * 1.25);
    }
  }, 240_000);
});
