import { describe, expect, it } from "vitest";
import { campaign } from "./campaign.js";
import { runSchedule } from "./simulator.js";

// CI's share of the seeded schedules: 1,000 runs over group sizes 1, 4 and 7, honest, Byzantine
// below the threshold and Byzantine above it (fork mode). `npm run simulate -- --runs N` runs more.
describe("seeded simulation", () => {
  it("1,000 schedules: no safety or liveness violation; forks above the threshold are detected and attributed", () => {
    const t = campaign(1, 1000);
    const failing = t.failing.map((r) => `seed ${r.seed}: ${r.violations.join("; ")}`);
    expect(failing).toEqual([]);
    expect(t.schedules).toBe(1000);
    expect(Object.keys(t.bySize).sort()).toEqual(["n=1", "n=4", "n=7"]);
    expect(t.byMode.byzantine).toBeGreaterThan(100);
    expect(t.byMode.fork).toBeGreaterThan(10);
    // Every fork-mode run that forked named only Byzantine signers (else it is a violation above).
    expect(t.forksDetected).toBeGreaterThan(5);
    expect(t.blocks).toBeGreaterThan(2000);
    expect(t.evidence).toBeGreaterThan(0);
    expect(t.badPeers).toBeGreaterThan(0);
    // Nodes that fell behind caught up through the shipped driver's catch-up messages.
    expect(t.catchupServed).toBeGreaterThan(100);
    // Crashes landed inside the driver's signer-store and WAL writes, losing or tearing them, and the nodes restarted from what survived.
    expect(t.cutWrites).toBeGreaterThan(10);
    for (const k of ["dropped", "duplicated", "partitioned", "crash-clean", "crash-lose", "crash-tear", "byzantine-equivocate", "byzantine-amnesia", "byzantine-forge"]) {
      expect(t.faultKinds[k] ?? 0, k).toBeGreaterThan(0);
    }
  });

  it("a seed replays exactly", () => {
    const a = runSchedule(4242);
    const b = runSchedule(4242);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it("a fork-mode run names the validators that signed both blocks, all of them Byzantine", () => {
    const forks = [];
    for (let seed = 1; seed <= 40 && forks.length === 0; seed++) {
      const r = runSchedule(seed, { n: 4, mode: "fork" });
      expect(r.violations).toEqual([]);
      forks.push(...r.forks);
    }
    expect(forks.length).toBeGreaterThan(0);
    expect(forks[0].valueIds).toHaveLength(2);
    expect(forks[0].signers.length).toBeGreaterThanOrEqual(2);
  });
});
