/**
 * A node's block-time quota (`proposerBlockTimeMs`, node file
 * `quotas.sandboxBlockTimeMs`): it lowers the block limit of proposer-mode
 * calls only, never below 3/4 of the cell's `blockTimeMs`, and never the
 * validator-mode limit; the verdicts it cuts read exactly as the cell's own
 * limit's, so a validator re-executing the block agrees byte for byte.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/index.js";
import { blockBudgetAgrees, blockLimitMs, createBlockBudget, createCodeRunner, PROPOSER_CAP_FLOOR, TIMEOUT_GRACE_FACTOR, type CodeRunner, type SandboxFault } from "../../../runtime/sandbox/index.js";
import { items } from "./helpers.js";

const LOOPER = "function validate(d) { if (d.loop) for (;;) {} return true; }";
const code = (r: object) => ("fault" in r ? (r as SandboxFault).fault : "ok");
const open: CodeRunner[] = [];
afterAll(() => {
  for (const r of open) r.dispose();
});
const make = (cap?: number) => {
  const r = createCodeRunner({ name: "test/cap", source: LOOPER, file: "hooks.js", limits: { memoryMb: 32, timeMs: 500, blockTimeMs: 4000 }, ...(cap !== undefined ? { proposerBlockTimeMs: cap } : {}) });
  open.push(r);
  return r;
};

describe("blockLimitMs with a node's cap", () => {
  it("lowers the proposer's limit down to 3/4 of the cell's, never raises it, and leaves the validator's alone", () => {
    expect(PROPOSER_CAP_FLOOR).toBe(0.75);
    expect(blockLimitMs(2000, false)).toBe(2000);
    expect(blockLimitMs(2000, false, 1800)).toBe(1800);
    expect(blockLimitMs(2000, false, 500)).toBe(1500);
    expect(blockLimitMs(2000, false, 9000)).toBe(2000);
    expect(blockLimitMs(2000, true, 500)).toBe(2000 * TIMEOUT_GRACE_FACTOR);
    expect(blockLimitMs(3, false, 1)).toBe(3); // ceil(2.25)
  });

  it("keeps the floor's cut plausible to a validator of the same speed (it spends the floor, over half the cell's budget)", () => {
    const floor = blockLimitMs(2000, false, 1);
    expect(blockBudgetAgrees(floor, 2000)).toBe(true);
    // A validator up to 1.5x faster still agrees.
    expect(blockBudgetAgrees(floor / 1.5, 2000)).toBe(true);
  });
});

describe("a runner with proposerBlockTimeMs", () => {
  it("cuts a proposer's block earlier than the cell's own limit, with the cell's own message", () => {
    const datas: Json[] = Array.from({ length: 12 }, () => ({ loop: true }));
    const plainBudget = createBlockBudget();
    const plain = make().validate(items(datas), { budget: plainBudget });
    const cappedBudget = createBlockBudget();
    const capped = make(3000).validate(items(datas), { budget: cappedBudget });
    const timeouts = (rs: object[]) => rs.filter((r) => code(r) === "SANDBOX_TIMEOUT").length;
    // Loopers of 500 ms: about 7 fit in 4000 ms and 5 in 3000 ms; whatever the machine's load, the cap runs fewer.
    expect(timeouts(capped)).toBeGreaterThanOrEqual(1);
    expect(timeouts(capped)).toBeLessThan(timeouts(plain));
    expect(capped[capped.length - 1]).toEqual({ fault: "SANDBOX_BLOCK_BUDGET", message: "the hooks of this block used up their shared time budget of 4000 ms before this input finished" });
    expect(plain[plain.length - 1]).toEqual(capped[capped.length - 1]);
  }, 30_000);

  it("runs a validator's re-execution under the cell's own limits, cap or not", () => {
    // The proposer cut 2..4; a validator with a cap runs 0 and 1 to completion under the 4x grace.
    const r = make(3000).validate(items([{}, {}, { loop: true }, {}, {}]), { verify: { timedOut: [], blockBudget: [2, 3, 4] } });
    expect(r.map(code)).toEqual(["ok", "ok", "SANDBOX_BLOCK_BUDGET", "SANDBOX_BLOCK_BUDGET", "SANDBOX_BLOCK_BUDGET"]);
  });

  it("refuses a cap that is not a whole number of ms", () => {
    expect(() => make(0)).toThrow(/SANDBOX_LIMITS|proposerBlockTimeMs/);
    expect(() => make(1.5)).toThrow(/proposerBlockTimeMs/);
  });
});
