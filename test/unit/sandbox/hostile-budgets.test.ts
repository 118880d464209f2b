/**
 * Hostile time use: an input that loops costs one budget (the batch resumes
 * after it instead of re-running the inputs that finished), and all the hook
 * calls of a block share `limits.blockTimeMs`: once it is spent, the inputs not
 * finished are refused SANDBOX_BLOCK_BUDGET without running. Work is counted
 * (how often each input started, through ctx.record); the time bounds are
 * generous and only back the counts up.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/index.js";
import { blockBudgetAgrees, createBlockBudget, TIMEOUT_AGREE_FRACTION, type SandboxFault } from "../../../runtime/sandbox/index.js";
import { disposeAll, items, runner, startCounter } from "./helpers.js";

afterAll(disposeAll);

/** validate and reduce that loop on { loop: true } and record every start. */
const LOOPER = `
function validate(d, ctx) { ctx.record("start"); if (d.loop) for (;;) {} return true; }
function reduce(s, d, ctx) { ctx.record("start"); if (d.loop) for (;;) {} s.seen.push(d.n); return s; }
`;
const code = (r: object) => ("fault" in r ? (r as SandboxFault).fault : "ok");

describe("a looping input costs one budget", () => {
  it("runs every input of a batch once, loopers included, and keeps the results of the others", () => {
    const r = runner(LOOPER, { memoryMb: 32, timeMs: 200, blockTimeMs: 10_000 });
    const count = startCounter();
    const datas: Json[] = [{}, { loop: true }, {}, {}, { loop: true }, {}];
    const t0 = performance.now();
    const res = r.validate(items(datas), { records: count.records });
    const ms = performance.now() - t0;
    expect(res.map(code)).toEqual(["ok", "SANDBOX_TIMEOUT", "ok", "ok", "SANDBOX_TIMEOUT", "ok"]);
    expect(count.starts).toEqual([1, 1, 1, 1, 1, 1]);
    // Two budgets of 200 ms; before, the batch ran 1 s, then every input again and each looper twice (~1.8 s).
    expect(ms).toBeLessThan(1500);
  });

  it("folds around looping inputs and runs each looper once", () => {
    const r = runner(LOOPER, { memoryMb: 32, timeMs: 200, blockTimeMs: 10_000 });
    const count = startCounter();
    const out = r.reduce({ seen: [] }, items([{ n: 1 }, { n: 2, loop: true }, { n: 3 }, { n: 4, loop: true }, { n: 5 }]), { records: count.records });
    expect(out.results.map(code)).toEqual(["ok", "SANDBOX_TIMEOUT", "ok", "SANDBOX_TIMEOUT", "ok"]);
    expect(out.state).toEqual({ seen: [1, 3, 5] });
    // A reduce input after the last checkpoint may be redone to rebuild the state; a looper never.
    expect(count.starts[1]).toBe(1);
    expect(count.starts[3]).toBe(1);
  });

  it("costs 20 looping inputs 20 budgets, not 40 plus a batch", () => {
    const r = runner(LOOPER, { memoryMb: 32, timeMs: 100, blockTimeMs: 10_000 });
    const count = startCounter();
    const t0 = performance.now();
    const res = r.validate(items(Array.from({ length: 20 }, () => ({ loop: true }))), { records: count.records });
    const ms = performance.now() - t0;
    expect(res.every((x) => code(x) === "SANDBOX_TIMEOUT")).toBe(true);
    expect(count.starts).toEqual(new Array(20).fill(1));
    // 20 x 100 ms plus the timer's slack; before: 1 s of batch and 2 x 100 ms per input (~5 s).
    expect(ms).toBeLessThan(4000);
  });
});

describe("the block budget", () => {
  it("refuses the inputs not reached in limits.blockTimeMs without running them (20 loopers at 1 s: 2 s, not 42 s)", () => {
    const r = runner(LOOPER, { memoryMb: 32, timeMs: 1000, blockTimeMs: 2000 });
    const count = startCounter();
    const t0 = performance.now();
    const res = r.validate(items(Array.from({ length: 20 }, () => ({ loop: true }))), { records: count.records });
    const ms = performance.now() - t0;
    // The first looper runs its budget; the second starts with just under 1 s of block time left and is cut.
    const codes = res.map(code);
    expect(codes[0]).toBe("SANDBOX_TIMEOUT");
    expect(codes.slice(1)).toEqual(new Array(19).fill("SANDBOX_BLOCK_BUDGET"));
    expect(res[5]).toEqual({
      fault: "SANDBOX_BLOCK_BUDGET",
      message: "the hooks of this block used up their shared time budget of 2000 ms before this input finished",
    });
    expect(count.starts.filter((x) => x > 0).length).toBe(2);
    expect(ms).toBeLessThan(6000);
  });

  it("is shared by every call given the same budget object, and counts their time", () => {
    const r = runner(LOOPER, { memoryMb: 32, timeMs: 300, blockTimeMs: 500 });
    const budget = createBlockBudget();
    const count = startCounter();
    const first = r.validate(items([{ loop: true }, { loop: true }, {}]), { budget, records: count.records });
    expect(first.map(code)).toEqual(["SANDBOX_TIMEOUT", "SANDBOX_BLOCK_BUDGET", "SANDBOX_BLOCK_BUDGET"]);
    expect(budget.spentMs).toBeGreaterThanOrEqual(490);
    const starts = count.starts.slice();
    const second = r.reduce({ seen: [] }, items([{ n: 1 }, { n: 2 }]), { budget, records: count.records });
    expect(second.results.map(code)).toEqual(["SANDBOX_BLOCK_BUDGET", "SANDBOX_BLOCK_BUDGET"]);
    expect(second.state).toEqual({ seen: [] });
    expect(count.starts).toEqual(starts);
    // Without a shared budget each call has the whole block budget to itself.
    expect(r.validate(items([{}, {}])).map(code)).toEqual(["ok", "ok"]);
  });

  it("lets a validator refuse exactly the inputs the proposer cut, without running them", () => {
    const r = runner(LOOPER, { memoryMb: 32, timeMs: 300, blockTimeMs: 500 });
    const count = startCounter();
    const res = r.validate(items([{}, {}, {}, {}]), { verify: { timedOut: [], blockBudget: [1, 3] }, records: count.records });
    expect(res.map(code)).toEqual(["ok", "SANDBOX_BLOCK_BUDGET", "ok", "SANDBOX_BLOCK_BUDGET"]);
    expect(res[1]).toEqual(res[3]);
    expect([count.starts[1], count.starts[3]]).toEqual([undefined, undefined]);
  });

  it("gives a validator four block budgets before it cuts inputs the proposer finished", () => {
    const r = runner(LOOPER, { memoryMb: 32, timeMs: 100, blockTimeMs: 300 });
    // Proposer: 3 loopers at 100 ms each use up 300 ms. Validator: 400 ms each, then its limit (1,200 ms).
    const proposer = r.validate(items(Array.from({ length: 5 }, () => ({ loop: true })))).map(code);
    expect(proposer.filter((c) => c === "SANDBOX_TIMEOUT").length).toBeGreaterThanOrEqual(2);
    expect(proposer[4]).toBe("SANDBOX_BLOCK_BUDGET");
    const validator = r.validate(items(Array.from({ length: 5 }, () => ({ loop: true }))), { verify: { timedOut: [] } }).map(code);
    expect(validator.slice(0, 2)).toEqual(["SANDBOX_TIMEOUT", "SANDBOX_TIMEOUT"]);
    expect(validator[4]).toBe("SANDBOX_BLOCK_BUDGET");
  });

  it("agrees with a proposer's cut iff the validator's own calls took at least half the block budget", () => {
    expect(TIMEOUT_AGREE_FRACTION).toBe(0.5);
    expect(blockBudgetAgrees(1000, 2000)).toBe(true);
    expect(blockBudgetAgrees(999, 2000)).toBe(false);
    expect(blockBudgetAgrees(2500, 2000)).toBe(true);
  });
});
