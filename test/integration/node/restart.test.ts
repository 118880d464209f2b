/**
 * Four validator processes of the meter channel. Quiet first: a block with
 * one input is not followed by an empty block (the idle pacer holds the next
 * height until the heartbeat). Then under load: one is killed
 * with SIGKILL and started again with `statecell node --config` from
 * up.json; it catches up, every chain is identical, and nothing acknowledged
 * is lost. Then two of four are killed: commits stop without a fork and
 * /readyz says why; one comes back: commits resume, what was pending commits,
 * and /readyz turns 200.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { alive, chain, committedOnce, getJson, head, headOrNull, inputStatus, restart, up, waitFor, type UpNetwork, type UpNode } from "./network.js";
import { Load, METER, meterReading } from "./traffic.js";

const dir = mkdtempSync(join(tmpdir(), "statecell-restart-"));
let net: UpNetwork | undefined;

afterAll(async () => {
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CH = "meter";
const t0 = Date.now();
/** A milestone on the test's output, with the time since the file started (where a slow run spent it). */
const step = (what: string) => console.log(`[+${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
const CELL = "readings";

function kill9(n: UpNode): void {
  process.kill(n.pid, "SIGKILL");
}

/** Every listed node holds the same blocks 1..(the lowest head among them). */
async function sameChains(nodes: readonly UpNode[]): Promise<number> {
  const heads = await Promise.all(nodes.map((n) => head(n.api, CH, CELL)));
  const h = Math.min(...heads.map((x) => x.height));
  const chains = await Promise.all(nodes.map((n) => chain(n.api, CH, CELL, h)));
  for (const c of chains.slice(1)) expect(c).toEqual(chains[0]);
  return h;
}

/** Every input `load` got acknowledged is accepted exactly once in the chain at `at`. */
async function allCommitted(load: Load, at: UpNode, ms: number): Promise<void> {
  await committedOnce(at.api, CH, CELL, load.acked.keys(), ms);
}

/**
 * Answers of GET /readyz at `n`, polled every 10 ms until 200 (or `ms`). Not
 * waitFor's 100 ms: on a quiet machine a restarted node can hear from a
 * quorum and catch up within one such interval of its API's first answer, and
 * the 503 it gave meanwhile would go unseen (a run saw only the 200).
 */
async function readyzUntilReady(n: UpNode, ms: number): Promise<Array<{ status: number; missing: string[] }>> {
  const seen: Array<{ status: number; missing: string[] }> = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await getJson<{ ready: boolean; missing: string[] }>(`${n.api}/readyz`);
      seen.push({ status: r.status, missing: r.body.missing });
      if (r.status === 200) return seen;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${n.name} not ready after ${ms} ms; last answers: ${JSON.stringify(seen.slice(-3))}`);
}

describe("validators killed with SIGKILL", () => {
  it("a restarted validator catches up with identical chains; two of four down stops commits without a fork until one returns", async () => {
    net = await up([METER], dir);
    step("network ready");
    const [m1, m2, m3, m4] = ["meter-1", "meter-2", "meter-3", "meter-4"].map((n) => net!.byName(n));
    const liveNodes = new Set([m1, m2, m3, m4]);

    // Quiet first: a block with an input is not followed by an empty one. Nothing is pending, so the
    // group holds its next height until the heartbeat, a second after the decision.
    {
      const r = await fetch(`${m2.api}/v1/channels/${CH}/cells/${CELL}/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(meterReading()) });
      const id = ((await r.json()) as { results: Array<{ id: string; status: string }> }).results[0].id;
      let at = 0;
      await waitFor(async () => {
        const st = (await inputStatus(m1.api, id)).body;
        at = st.height ?? 0;
        return st.status === "committed";
      }, 30_000, () => "the quiet input committed");
      for (let i = 0; i < 5; i++) {
        await new Promise((res) => setTimeout(res, 100));
        for (const n of [m1, m2, m3, m4]) expect((await head(n.api, CH, CELL)).height, `${n.name} within 0.5 s of the input's block`).toBeLessThanOrEqual(at);
      }
      // The heartbeat still moves an idle head.
      await waitFor(async () => (await head(m1.api, CH, CELL)).height > at, 10_000, () => "a heartbeat block after the quiet input");
      step("a quiet input's block is not followed by an empty one");
    }

    const load = new Load(() => [...liveNodes], CH, CELL, () => meterReading());
    load.start(100);
    step("load started");
    await waitFor(async () => (await head(m1.api, CH, CELL)).height >= 5 && load.acked.size >= 200, 60_000, () => "first commits under load");

    // One of four, killed under load, then started again from up.json's config.
    liveNodes.delete(m4);
    kill9(m4);
    await waitFor(() => !alive(m4.pid), 5000, () => "meter-4 dead");
    const behindFrom = (await head(m1.api, CH, CELL)).height;
    await waitFor(async () => (await head(m1.api, CH, CELL)).height >= behindFrom + 10, 60_000, () => "commits go on with three of four");
    restart(net, m4);
    step("meter-4 restarted");
    const answers = await readyzUntilReady(m4, 60_000);
    expect(answers.some((a) => a.status === 503 && a.missing.length > 0), JSON.stringify(answers)).toBe(true);
    console.log(`readyz at the restarted node: ${[...new Set(answers.map((a) => `${a.status} ${a.missing.join("; ")}`))].join(" | ")}`);
    const caught = await head(m4.api, CH, CELL);
    step("meter-4 ready");
    expect(caught.height).toBeGreaterThanOrEqual(behindFrom + 10);
    liveNodes.add(m4);
    await new Promise((r) => setTimeout(r, 2000));
    await load.stop();
    await allCommitted(load, m1, 60_000);
    await allCommitted(load, m4, 60_000);
    step("every acknowledged input committed once at meter-1 and meter-4");
    expect(load.refused).toEqual([]);
    const compared = await sameChains([m1, m2, m3, m4]);
    expect(compared).toBeGreaterThan(behindFrom + 10);

    // Two of four: no quorum, so no commits, and no fork between the two left.
    kill9(m3);
    kill9(m4);
    await waitFor(() => !alive(m3.pid) && !alive(m4.pid), 5000, () => "meter-3 and meter-4 dead");
    const pending = new Load(() => [m1, m2], CH, CELL, () => meterReading(), 5);
    pending.start(300);
    await new Promise((r) => setTimeout(r, 1500));
    const stalled = await head(m1.api, CH, CELL);
    await new Promise((r) => setTimeout(r, 3000));
    await pending.stop();
    expect(pending.acked.size).toBeGreaterThan(0);
    expect((await head(m1.api, CH, CELL)).height).toBe(stalled.height);
    expect((await head(m2.api, CH, CELL)).height).toBe(stalled.height);
    await sameChains([m1, m2]);
    step("two of four: stalled, no fork");
    const noQuorum = await getJson<{ ready: boolean; missing: string[] }>(`${m1.api}/readyz`);
    expect(noQuorum.status).toBe(503);
    expect(noQuorum.body.missing.join("\n")).toMatch(/meter\/readings: 2 of 4 validators connected, a quorum is 3/);
    for (const id of pending.acked.keys()) expect((await inputStatus(m1.api, id)).body.status).toBe("pending");

    // One comes back: commits resume and everything pending commits.
    restart(net, m3);
    await readyzUntilReady(m3, 60_000);
    step("meter-3 back and ready");
    await waitFor(async () => ((await headOrNull(m1.api, CH, CELL))?.height ?? 0) > stalled.height, 30_000, () => "commits resume");
    await allCommitted(pending, m1, 60_000);
    await allCommitted(pending, m3, 60_000);
    expect((await getJson(`${m1.api}/readyz`)).status).toBe(200);
    await sameChains([m1, m2, m3]);
  }, 290_000);
});
