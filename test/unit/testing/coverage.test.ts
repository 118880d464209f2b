import { describe, it, expect } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ruleOutcome, RULE_STAGE_CODES } from "../../../runtime/testing/index.js";
import type { CellPlan } from "../../../runtime/definition/plan.js";

const cell = { rules: [{ name: "a" }, { name: "b" }, { name: "c" }] } as unknown as CellPlan;

describe("ruleOutcome", () => {
  it("accepted: every rule held", () => {
    expect(ruleOutcome(cell, { accepted: true })).toEqual({ held: 3 });
  });

  it("rejected by a rule: the rules before it held, it rejected, the rest were not evaluated", () => {
    expect(ruleOutcome(cell, { accepted: false, code: "CELL_RULE", rule: "a" })).toEqual({ held: 0, rejectedBy: 0 });
    expect(ruleOutcome(cell, { accepted: false, code: "CELL_RULE", rule: "c" })).toEqual({ held: 2, rejectedBy: 2 });
    // a rule that faults while evaluating rejects like a failing rule
    expect(ruleOutcome(cell, { accepted: false, code: "RULES_TYPE", rule: "b" })).toEqual({ held: 1, rejectedBy: 1 });
  });

  it("rejected before the rules: none evaluated; after the rules: all held", () => {
    for (const code of RULE_STAGE_CODES.before) expect(ruleOutcome(cell, { accepted: false, code })).toEqual({ held: 0 });
    for (const code of RULE_STAGE_CODES.after) expect(ruleOutcome(cell, { accepted: false, code })).toEqual({ held: 3 });
  });

  it("a rule name the plan does not know is not counted", () => {
    expect(ruleOutcome(cell, { accepted: false, code: "CELL_RULE", rule: "zz" })).toEqual({ held: 0 });
  });
});

describe("rule-stage classification", () => {
  it("classifies every rejection code the cells module raises", () => {
    const dir = "runtime/cells";
    const raised = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
      const text = readFileSync(join(dir, f), "utf8");
      for (const m of text.matchAll(/reject\(\s*"([A-Z0-9_]+)"/g)) raised.add(m[1]);
    }
    for (const f of readdirSync("runtime/sandbox").filter((n) => n.endsWith(".ts"))) {
      for (const m of readFileSync(join("runtime/sandbox", f), "utf8").matchAll(/"(SANDBOX_(?:TIMEOUT|MEMORY|THROW|OUTPUT))"/g)) raised.add(m[1]);
    }
    raised.delete("CELL_RULE");
    expect(raised.size).toBeGreaterThan(10);
    const known = new Set<string>([...RULE_STAGE_CODES.before, ...RULE_STAGE_CODES.after]);
    expect([...raised].filter((c) => !known.has(c)).sort()).toEqual([]);
  });
});
