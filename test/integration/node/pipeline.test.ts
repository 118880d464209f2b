/**
 * The two-cell sensor pipeline (channels/air-quality.yaml) on its own
 * processes: seven validators, the edge group of four and the city group of
 * five overlapping in two of them. A client sends many submissions over the
 * stream (STATECELL_PIPELINE_SUBMISSIONS, 1,000 by default; `npm run soak`
 * sends 10,000) with exact duplicates, readings the rules refuse, readings
 * the schema refuses and second readings for a sensor and time already taken
 * mixed in. Every one reaches a final status; every acknowledged valid
 * reading is committed exactly once in `readings` and its output exactly
 * once in `districts`; every node holds identical chains.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { inputId } from "../../../runtime/ledger/input-id.js";
import { blocksAt, chain, head, inputStatus, up, waitFor, StreamClient, type UpNetwork, type UpNode, type Result } from "./network.js";

const TOTAL = Number(process.env.STATECELL_PIPELINE_SUBMISSIONS ?? 1000);
const TIME_BUDGET_MS = Number(process.env.STATECELL_PIPELINE_BUDGET_MS ?? 290_000);
const CH = "air-quality";
const dir = mkdtempSync(join(tmpdir(), "statecell-pipeline-"));
const t0 = Date.now();
/** A milestone on the test's output, with the time since the file started (where a slow run spent it). */
const step = (what: string) => console.log(`[+${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
let net: UpNetwork | undefined;

afterAll(async () => {
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Kind = "valid" | "duplicate" | "rule" | "schema" | "same-key";

/** The submissions, in the order sent, with what each one is. */
function traffic(n: number): Array<{ kind: Kind; sub: { data: Json } }> {
  const out: Array<{ kind: Kind; sub: { data: Json } }> = [];
  const valid: Array<{ data: { sensor: string; pm25: number; pm10: number; at: number } }> = [];
  const t0 = Date.now() - 10 * 60_000;
  for (let i = 0; out.length < n; i++) {
    const roll = i % 50;
    if (roll === 7 && valid.length > 0) out.push({ kind: "duplicate", sub: valid[(i * 7919) % valid.length] });
    else if (roll === 13 || roll === 31) out.push({ kind: "rule", sub: { data: { sensor: "nor-2", pm25: 600 + i, pm10: 900 + i, at: t0 + i } } });
    else if (roll === 19) out.push({ kind: "schema", sub: { data: { sensor: "NOT A SENSOR", pm25: 10, at: t0 + i } } });
    else if (roll === 41 && valid.length > 0) {
      const v = valid[valid.length - 1];
      out.push({ kind: "same-key", sub: { data: { ...v.data, pm25: v.data.pm25 + 0.5, pm10: v.data.pm10 + 1 } } });
    } else {
      const sub = { data: { sensor: `${["cen", "nor", "sou", "eas", "wes"][i % 5]}-${i % 40}`, pm25: 5 + (i % 300) / 10, pm10: 40 + (i % 300) / 10, at: t0 + i } };
      valid.push(sub);
      out.push({ kind: "valid", sub });
    }
  }
  return out;
}

/** Every listed node holds the same blocks of `cell` up to the lowest head among them. */
async function sameChains(nodes: readonly UpNode[], cell: string): Promise<number> {
  const h = Math.min(...(await Promise.all(nodes.map((n) => head(n.api, CH, cell)))).map((x) => x.height));
  const chains = await Promise.all(nodes.map((n) => chain(n.api, CH, cell, h)));
  for (const c of chains.slice(1)) expect(c).toEqual(chains[0]);
  return h;
}

describe("the two-cell sensor pipeline on seven processes", () => {
  it(`${TOTAL} submissions with duplicates and invalid ones: each final, committed exactly once in each cell, identical chains`, async () => {
    const started = Date.now();
    net = await up(["channels/air-quality.yaml"], dir);
    step("network ready");
    const edge = ["edge-1", "edge-2", "edge-3", "edge-4"].map((n) => net!.byName(n));
    const city = ["edge-1", "edge-2", "city-1", "city-2", "city-3"].map((n) => net!.byName(n));
    const clients = await Promise.all(edge.map((n) => StreamClient.open(n.api)));
    // Final statuses as the node announces them: one input event per input of each committed block.
    const watcher = await StreamClient.open(edge[0].api, { channels: [CH], events: ["input"] });

    // Send: batches of 25 to the edge nodes in turn, one batch every 250 ms (100 submissions/s, as a
    // fleet of sensors would), at most 2 in flight. Not one burst: a districts block costs each city
    // validator about 1 ms per output in its code hook (docs/node.md, "Tests and figures").
    const plan = traffic(TOTAL);
    const answers: Array<{ kind: Kind; id: string; result: Result; at: UpNode }> = [];
    const batches: Array<typeof plan> = [];
    for (let i = 0; i < plan.length; i += 25) batches.push(plan.slice(i, i + 25));
    let next = 0;
    await Promise.all(
      Array.from({ length: 2 }, async (_, lane) => {
        await new Promise((r) => setTimeout(r, lane * 250));
        while (next < batches.length) {
          const k = next++;
          const pace = new Promise((r) => setTimeout(r, 500));
          const results = await clients[k % 4].submit(CH, "readings", batches[k].map((b) => b.sub));
          expect(results.length).toBe(batches[k].length);
          results.forEach((r, j) => {
            expect(r.id).toBe(inputId(batches[k][j].sub as unknown as Json)); // the id a client computes
            answers.push({ kind: batches[k][j].kind, id: r.id, result: r, at: edge[k % 4] });
          });
          await pace;
        }
      }),
    );
    const sentIn = Date.now() - started;
    step(`${answers.length} submissions answered`);
    for (const c of clients) c.close();

    // Answers at submission: refusals carry a code (and the rule).
    for (const a of answers.filter((x) => x.kind === "rule")) expect([a.result.status, a.result.code, a.result.rule]).toEqual(["rejected", "CELL_RULE", "plausible"]);
    for (const a of answers.filter((x) => x.kind === "schema")) {
      expect(a.result.status).toBe("rejected");
      expect(a.result.code).toMatch(/^CELL_/);
    }
    for (const a of answers.filter((x) => x.kind === "valid")) expect(a.result.status, JSON.stringify(a.result)).not.toBe("rejected");

    // Every acknowledged input reaches a final status (the stream's input events), and the node that
    // acknowledged it says the same (GET /v1/inputs/{id}, for a sample).
    const acked = new Map<string, UpNode>();
    for (const a of answers) if (a.result.status !== "rejected") acked.set(a.id, a.at);
    const final = watcher.final;
    await waitFor(() => [...acked.keys()].every((id) => final.has(id)), 90_000, () => `${[...acked.keys()].filter((id) => !final.has(id)).length} of ${acked.size} acknowledged inputs without a final status`);
    watcher.close();
    step("every acknowledged input final (input events)");
    const sample = [...acked].filter((_, i) => i % Math.max(1, Math.floor(acked.size / 60)) === 0);
    for (const [id, at] of sample) {
      const s = await inputStatus(at.api, id);
      expect(s.body.status).toBe(final.get(id)!.status);
      if (s.body.status === "committed") expect([s.body.height, s.body.index]).toEqual([final.get(id)!.height, final.get(id)!.index]);
    }
    step("sampled statuses agree");
    const validIds = new Set(answers.filter((a) => a.kind === "valid").map((a) => a.id));
    for (const id of validIds) expect(final.get(id)?.status, id).toBe("committed");
    // A second reading for a taken sensor and time: refused at submission, or rejected in its block.
    for (const a of answers.filter((x) => x.kind === "same-key")) {
      const code = a.result.status === "rejected" ? a.result.code : (await inputStatus(a.at.api, a.id)).body.code;
      expect(code).toBe("CELL_DUPLICATE_KEY");
    }

    // Cell 1: each accepted reading exactly once in the chain.
    const readingsHeight = (await head(edge[0].api, CH, "readings")).height;
    const accepted = new Map<string, number>();
    const sensors: string[] = [];
    for (const b of await blocksAt(edge[0].api, CH, "readings", readingsHeight)) {
      b.value.inputs.forEach((input, i) => {
        const id = inputId(input);
        expect(accepted.has(id), `input ${id} in two blocks`).toBe(false);
        if (b.value.verdicts[i].accepted) {
          accepted.set(id, 1);
          sensors.push(String((input as { data: { sensor: string } }).data.sensor));
        }
      });
    }
    for (const id of validIds) expect(accepted.has(id), `valid input ${id} committed`).toBe(true);
    expect(accepted.size).toBe(validIds.size);

    step("readings: each accepted input once");
    // Cell 2: the output of each accepted reading exactly once, numbered 0..n-1.
    const seqs = new Map<number, string>();
    await waitFor(
      async () => {
        seqs.clear();
        const h = (await head(city[2].api, CH, "districts")).height;
        for (const b of await blocksAt(city[2].api, CH, "districts", h)) {
          b.value.inputs.forEach((input, i) => {
            const o = (input as { output?: { from: string; seq: number; data: { sensor: string } } }).output;
            if (o === undefined || !b.value.verdicts[i].accepted) return;
            expect(o.from).toBe("readings");
            expect(seqs.has(o.seq), `output ${o.seq} delivered twice`).toBe(false);
            seqs.set(o.seq, o.data.sensor);
          });
        }
        return seqs.size >= accepted.size;
      },
      60_000,
      () => `${seqs.size} of ${accepted.size} outputs committed in districts`,
    );
    expect(seqs.size).toBe(accepted.size);
    expect([...seqs.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: accepted.size }, (_, i) => i));
    expect([...seqs.values()].sort()).toEqual([...sensors].sort());

    step("districts: each output once");
    // Identical chains at every node of each group.
    const comparedReadings = await sameChains(edge, "readings");
    const comparedDistricts = await sameChains(city, "districts");
    expect(comparedReadings).toBeGreaterThanOrEqual(readingsHeight);
    expect(comparedDistricts).toBeGreaterThan(0);
    console.log(`pipeline: ${TOTAL} submissions sent in ${sentIn} ms, ${acked.size} acknowledged, ${accepted.size} committed in readings and districts; chains compared up to ${comparedReadings} and ${comparedDistricts}`);
  }, TIME_BUDGET_MS);
});
