/**
 * The timeout policy of docs/sandbox.md: a validator agrees with a proposer's
 * SANDBOX_TIMEOUT iff its own run takes at least half the budget, and gives an
 * input the proposer completed four budgets before calling it a timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { itemTiming, TIMEOUT_AGREE_FRACTION, TIMEOUT_GRACE_FACTOR, type CodeRunner, type SandboxFault } from "../../../runtime/sandbox/index.js";
import { disposeAll, fixture, items, runner } from "./helpers.js";

afterAll(disposeAll);

const TIME_MS = 100;
let slow: CodeRunner;
/** Spin counts that take about 0.05x, 1.5x and 2x of TIME_MS on this machine. */
let fast = 0, over = 0, wayOver = 0;

beforeAll(() => {
  slow = runner(fixture("slow.js"), { memoryMb: 32, timeMs: TIME_MS });
  const probe = runner(fixture("slow.js"), { memoryMb: 32, timeMs: 1000 });
  // Calibrate: time a known spin count (best of 3) and scale.
  let best = Infinity;
  const spins = 2_000_000;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    probe.validate(items([{ spins }]));
    best = Math.min(best, performance.now() - t);
  }
  const perMs = spins / Math.max(best, 1);
  fast = Math.round(perMs * TIME_MS * 0.05);
  over = Math.round(perMs * TIME_MS * 1.5);
  wayOver = Math.round(perMs * TIME_MS * 2);
});

const code = (r: { fault?: string } | object) => ("fault" in r ? r.fault : "ok");

describe("itemTiming", () => {
  it("gives proposers the plain budget, validators the agreement bound or the grace budget", () => {
    expect(TIMEOUT_AGREE_FRACTION).toBe(0.5);
    expect(TIMEOUT_GRACE_FACTOR).toBe(4);
    expect(itemTiming(50, 3, undefined)).toEqual({ budgetMs: 50, agreeMs: -1 });
    expect(itemTiming(50, 3, { timedOut: new Set([3]) })).toEqual({ budgetMs: 50, agreeMs: 25 });
    expect(itemTiming(50, 4, { timedOut: new Set([3]) })).toEqual({ budgetMs: 200, agreeMs: -1 });
  });
});

describe("proposer mode", () => {
  it("times out an input that runs over the budget and reports the elapsed time", () => {
    const res = slow.validate(items([{ spins: fast }, { spins: over }]));
    expect(res.map(code)).toEqual(["ok", "SANDBOX_TIMEOUT"]);
    expect((res[1] as SandboxFault).elapsedMs).toBeGreaterThan(TIME_MS);
  });

  it("honours a per-call timeMs override", () => {
    expect(slow.validate(items([{ spins: over }]), { timeMs: TIME_MS * 4 }).map(code)).toEqual(["ok"]);
  });
});

describe("validator mode", () => {
  it("agrees with the proposer's timeout when its own run is at least half the budget", () => {
    // Input 1 runs ~0.75x the budget here (it completed!) but the proposer timed it out: agree.
    const threeQuarters = Math.round(over / 2);
    const res = slow.validate(items([{ spins: fast }, { spins: threeQuarters }]), { verify: { timedOut: [1] } });
    expect(res.map(code)).toEqual(["ok", "SANDBOX_TIMEOUT"]);
  });

  it("disagrees (returns the real result) when a proposer's timeout input runs fast here", () => {
    const res = slow.validate(items([{ spins: fast }, { spins: fast }]), { verify: { timedOut: [1] } });
    expect(res.map(code)).toEqual(["ok", "ok"]);
  });

  it("gives inputs the proposer completed a grace budget of 4x before timing them out", () => {
    expect(slow.validate(items([{ spins: wayOver }]), { verify: { timedOut: [] } }).map(code)).toEqual(["ok"]);
    expect(slow.validate(items([{ spins: wayOver }])).map(code)).toEqual(["SANDBOX_TIMEOUT"]);
  });

  it("words every timeout verdict like the proposer's, whatever budget this run had", () => {
    const proposer = slow.validate(items([{ spins: wayOver * 3 }]));
    const agreed = slow.validate(items([{ spins: over }]), { verify: { timedOut: [0] } });
    const graceExceeded = slow.validate(items([{ spins: wayOver * 3 }]), { verify: { timedOut: [] } });
    const inBatch = slow.validate(items([{ spins: fast }, { spins: over }]), { verify: { timedOut: [1] } });
    for (const r of [proposer[0], agreed[0], graceExceeded[0], inBatch[1]]) {
      expect(r).toMatchObject({ fault: "SANDBOX_TIMEOUT", message: `the hook ran over its time budget of ${TIME_MS} ms` });
    }
  });

  it("rolls the reduce state back over an agreed timeout", () => {
    const out = slow.reduce({ n: 0 }, items([{ spins: fast }, { spins: over }, { spins: fast }]), { verify: { timedOut: [1] } });
    expect(out.results.map(code)).toEqual(["ok", "SANDBOX_TIMEOUT", "ok"]);
    expect(out.state).toEqual({ n: 2 });
  });

  it("keys agreement on ctx.index, not the position in the call", () => {
    const its = items([{ spins: over }]).map((it) => ({ ...it, ctx: { ...it.ctx, index: 9 } }));
    expect(slow.validate(its, { verify: { timedOut: [9] } }).map(code)).toEqual(["SANDBOX_TIMEOUT"]);
    expect(slow.validate(its, { verify: { timedOut: [0] } }).map(code)).toEqual(["ok"]);
  });
});
