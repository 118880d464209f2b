/**
 * The timeout policy of docs/sandbox.md: a validator agrees with a proposer's
 * SANDBOX_TIMEOUT iff its own run takes at least half the budget, and gives an
 * input the proposer completed four budgets before calling it a timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { itemTiming, TIMEOUT_AGREE_FRACTION, TIMEOUT_GRACE_FACTOR, type CodeRunner, type SandboxFault } from "../../../runtime/sandbox/index.js";
import { disposeAll, fixture, items, runner, startCounter } from "./helpers.js";

afterAll(disposeAll);

const TIME_MS = 100;
/** Spins that never finish within any budget. */
const FOREVER = 1e12;
let slow: CodeRunner;
let probe: CodeRunner;

beforeAll(() => {
  slow = runner(fixture("slow.js"), { memoryMb: 32, timeMs: TIME_MS });
  probe = runner(fixture("slow.js"), { memoryMb: 32, timeMs: 1000 });
});

/**
 * Spin count that takes about `factor` x TIME_MS right now. Measured just
 * before use, converging on runs of the target length (short samples run
 * faster per spin than long ones once optimised, so scaling one sample up
 * overshoots); tests that depend on it also retry, since a burst on the shared
 * machine between the measurement and the run can still move it.
 */
function spinsFor(factor: number): number {
  const target = TIME_MS * factor;
  let spins = 1_000_000;
  for (let i = 0; i < 4; i++) {
    const t = performance.now();
    probe.validate(items([{ spins }]));
    spins = Math.round((spins * target) / Math.max(performance.now() - t, 0.5));
  }
  return spins;
}
const TIMING = { retry: 2 };

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
    const res = slow.validate(items([{ spins: 1000 }, { spins: FOREVER }]));
    expect(res.map(code)).toEqual(["ok", "SANDBOX_TIMEOUT"]);
    expect((res[1] as SandboxFault).elapsedMs).toBeGreaterThanOrEqual(TIME_MS);
  });

  it("honours a per-call timeMs override", TIMING, () => {
    const oneAndHalf = spinsFor(1.5);
    expect(slow.validate(items([{ spins: oneAndHalf }])).map(code)).toEqual(["SANDBOX_TIMEOUT"]);
    expect(slow.validate(items([{ spins: oneAndHalf }]), { timeMs: TIME_MS * 4 }).map(code)).toEqual(["ok"]);
  });
});

describe("validator mode", () => {
  it("agrees with the proposer's timeout when its own run is at least half the budget", TIMING, () => {
    // Input 1 completes here in ~0.75x the budget, but the proposer timed it out: agree.
    const res = slow.validate(items([{ spins: 1000 }, { spins: spinsFor(0.75) }]), { verify: { timedOut: [1] } });
    expect(res.map(code)).toEqual(["ok", "SANDBOX_TIMEOUT"]);
  });

  it("disagrees (returns the real result) when a proposer's timeout input runs fast here", TIMING, () => {
    const res = slow.validate(items([{ spins: 1000 }, { spins: spinsFor(0.05) }]), { verify: { timedOut: [1] } });
    expect(res.map(code)).toEqual(["ok", "ok"]);
  });

  it("agrees with the proposer's timeout of an input that never ends", () => {
    const res = slow.validate(items([{ spins: 1000 }, { spins: FOREVER }]), { verify: { timedOut: [1] } });
    expect(res.map(code)).toEqual(["ok", "SANDBOX_TIMEOUT"]);
  });

  it("gives inputs the proposer completed a grace budget of 4x before timing them out", TIMING, () => {
    const twice = spinsFor(2);
    expect(slow.validate(items([{ spins: twice }]), { verify: { timedOut: [] } }).map(code)).toEqual(["ok"]);
    expect(slow.validate(items([{ spins: twice }])).map(code)).toEqual(["SANDBOX_TIMEOUT"]);
    expect(slow.validate(items([{ spins: FOREVER }]), { verify: { timedOut: [] } }).map(code)).toEqual(["SANDBOX_TIMEOUT"]);
  });

  it("words every timeout verdict like the proposer's, whatever budget this run had", TIMING, () => {
    const proposer = slow.validate(items([{ spins: FOREVER }]));
    const agreed = slow.validate(items([{ spins: spinsFor(0.75) }]), { verify: { timedOut: [0] } });
    const graceExceeded = slow.validate(items([{ spins: FOREVER }]), { verify: { timedOut: [] } });
    const inBatch = slow.validate(items([{ spins: 1000 }, { spins: FOREVER }]), { verify: { timedOut: [1] } });
    for (const r of [proposer[0], agreed[0], graceExceeded[0], inBatch[1]]) {
      expect(r).toMatchObject({ fault: "SANDBOX_TIMEOUT", message: `the hook ran over its time budget of ${TIME_MS} ms` });
    }
  });

  it("rolls the reduce state back over an agreed timeout", () => {
    const out = slow.reduce({ n: 0 }, items([{ spins: 1000 }, { spins: FOREVER }, { spins: 1000 }]), { verify: { timedOut: [1] } });
    expect(out.results.map(code)).toEqual(["ok", "SANDBOX_TIMEOUT", "ok"]);
    expect(out.state).toEqual({ n: 2 });
  });

  it("keys agreement on ctx.index, not the position in the call", TIMING, () => {
    const its = items([{ spins: spinsFor(0.75) }]).map((it) => ({ ...it, ctx: { ...it.ctx, index: 9 } }));
    expect(slow.validate(its, { verify: { timedOut: [9] } }).map(code)).toEqual(["SANDBOX_TIMEOUT"]);
    expect(slow.validate(its, { verify: { timedOut: [0] } }).map(code)).toEqual(["ok"]);
  });
});

describe("proposer mode costs one budget per looping input", () => {
  it("records a timeout without running the input again", () => {
    const r = runner("function validate(d, ctx) { ctx.record('start'); for (let i = 0; i < d.spins; i++) {} return true; }", { memoryMb: 32, timeMs: TIME_MS });
    const count = startCounter();
    const res = r.validate(items([{ spins: FOREVER }, { spins: 1000 }]), { records: count.records });
    expect(res.map(code)).toEqual(["SANDBOX_TIMEOUT", "ok"]);
    // Before, a proposer ran a timed-out input a second time, alone (two budgets for a loop).
    expect(count.starts).toEqual([1, 1]);
  });
});
