/**
 * Runs many schedules and totals them: what the CLI prints and what the
 * vitest simulation test asserts on.
 */
import { runSchedule, type RunOptions, type RunResult } from "./simulator.js";

export interface CampaignTotals {
  schedules: number;
  faults: number;
  blocks: number;
  violations: number;
  forksDetected: number;
  evidence: number;
  badPeers: number;
  catchupServed: number;
  cutWrites: number;
  byMode: Record<string, number>;
  bySize: Record<string, number>;
  faultKinds: Record<string, number>;
  failing: RunResult[];
  ms: number;
}

/** Runs `runs` schedules from `seed`, seed + 1, ...; `onRun` sees each result. */
export function campaign(seed: number, runs: number, opts: RunOptions = {}, onRun?: (r: RunResult) => void): CampaignTotals {
  const t = { schedules: 0, faults: 0, blocks: 0, violations: 0, forksDetected: 0, evidence: 0, badPeers: 0, catchupServed: 0, cutWrites: 0, byMode: {}, bySize: {}, faultKinds: {}, failing: [], ms: 0 } as CampaignTotals;
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const r = runSchedule((seed + i) >>> 0, opts);
    t.schedules++;
    t.faults += r.faults;
    t.blocks += r.blocks;
    t.violations += r.violations.length;
    t.forksDetected += r.forks.length > 0 && r.mode === "fork" ? 1 : 0;
    t.evidence += r.evidence;
    t.badPeers += r.badPeers;
    t.catchupServed += r.catchupServed;
    t.cutWrites += r.cutWrites;
    t.byMode[r.mode] = (t.byMode[r.mode] ?? 0) + 1;
    t.bySize[`n=${r.n}`] = (t.bySize[`n=${r.n}`] ?? 0) + 1;
    for (const [k, v] of Object.entries(r.faultKinds)) t.faultKinds[k] = (t.faultKinds[k] ?? 0) + v;
    if (r.violations.length > 0) t.failing.push(r);
    onRun?.(r);
  }
  t.ms = performance.now() - start;
  return t;
}
