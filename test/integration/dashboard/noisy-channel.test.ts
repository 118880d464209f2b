/**
 * One noisy channel cannot starve the others: a real node process hosts
 * two channels with a quota of inputs per second per client; a client
 * floods one of them with large batches while another client's inputs to
 * the quiet one are timed from submission to commit. The flood is refused
 * past its quota (NODE_QUOTA_RATE, nothing stored) and the quiet channel
 * keeps its latency.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layoutNetwork, ready, sleep, startNode, stopNodes, until, type TestNode } from "./network.js";
import { soloChannel } from "../../fixtures/node/solo-channel.js";

const RATE = 200;
let dir: string;
let nodes: TestNode[] = [];

const channel = (name: string) => soloChannel(name, { rule: true });

async function post(api: string, ch: string, inputs: unknown[]): Promise<Array<{ id: string; status: string; code?: string }>> {
  const r = await fetch(`${api}/v1/channels/${ch}/cells/readings/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs }) });
  return ((await r.json()) as { results: Array<{ id: string; status: string; code?: string }> }).results;
}

/** Submission to commit of one input to the quiet channel, in ms. */
async function quietLatency(api: string, n: number): Promise<number> {
  const t0 = performance.now();
  const [r] = await post(api, "quiet", [{ data: { meter: `q-${n}-${Math.random()}`, litres: 10 } }]);
  expect(r.status).toBe("pending");
  for (;;) {
    const s = (await (await fetch(`${api}/v1/inputs/${r.id}`)).json()) as { status: string };
    if (s.status === "committed") return performance.now() - t0;
    await sleep(10);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe("a noisy channel on a shared node", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "statecell-noisy-"));
    writeFileSync(join(dir, "quiet.yaml"), channel("quiet"));
    writeFileSync(join(dir, "noisy.yaml"), channel("noisy"));
    nodes = await layoutNetwork(dir, ["solo"], [join(dir, "quiet.yaml"), join(dir, "noisy.yaml")], { token: false });
    appendFileSync(nodes[0].config, `quotas:\n  default:\n    inputsPerSecondPerClient: 1000\n  channels:\n    noisy:\n      inputsPerSecondPerClient: ${RATE}\n`);
    startNode(nodes[0]);
    await until(() => ready(nodes[0].api), 60_000, "the node");
  }, 90_000);

  afterAll(async () => {
    await stopNodes(nodes);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("refuses the flood past its quota and keeps the quiet channel's latency", async () => {
    const api = nodes[0].api;
    const before: number[] = [];
    for (let i = 0; i < 8; i++) before.push(await quietLatency(api, i));

    let flooding = true;
    const counts = { pending: 0, rate: 0, other: 0 };
    let seq = 0;
    const started = performance.now();
    const flood = Promise.all(
      Array.from({ length: 2 }, async () => {
        while (flooding) {
          const batch = Array.from({ length: 500 }, () => ({ data: { meter: `n-${seq++}`, litres: seq % 4000 } }));
          for (const r of await post(api, "noisy", batch)) {
            if (r.status === "pending") counts.pending++;
            else if (r.code === "NODE_QUOTA_RATE") counts.rate++;
            else counts.other++;
          }
        }
      }),
    );
    await sleep(300);
    const during: number[] = [];
    for (let i = 0; i < 8; i++) during.push(await quietLatency(api, 100 + i));
    flooding = false;
    await flood;
    const seconds = (performance.now() - started) / 1000;

    // The flood: at most a second's worth plus the rate over its time got in; the rest was refused with the code.
    expect(counts.rate).toBeGreaterThan(counts.pending);
    expect(counts.pending).toBeLessThanOrEqual(RATE * (seconds + 1) + 1);
    expect(counts.other).toBe(0);
    // The quiet channel: its median latency stays within a small factor of before.
    const m0 = median(before);
    const m1 = median(during);
    console.log(`noisy channel: ${counts.pending} of the flood stored, ${counts.rate} refused NODE_QUOTA_RATE in ${seconds.toFixed(1)} s; quiet median ${m0.toFixed(0)} ms before, ${m1.toFixed(0)} ms during`);
    expect(m1, `quiet median ${m0.toFixed(0)} ms before, ${m1.toFixed(0)} ms during the flood`).toBeLessThan(Math.max(3 * m0, m0 + 500));
    const metrics = await (await fetch(`${api}/metrics`)).text();
    expect(metrics).toMatch(/statecell_rejections_total\{channel="noisy",cell="readings",rule="none",code="NODE_QUOTA_RATE",stage="admission"\} [1-9]/);
  }, 90_000);
});
