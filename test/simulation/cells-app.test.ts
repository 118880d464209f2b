import { describe, expect, it } from "vitest";
import type { CellBlockValue, CellChainState } from "../../runtime/consensus/cell-application.js";
import { campaign } from "./campaign.js";
import { cellsSimApp } from "./cells-app.js";
import { checkRun } from "./checker.js";
import { makeSchedule } from "./schedule.js";
import { Simulation } from "./simulator.js";

type Verdict = { accepted: boolean; code?: string; rule?: string };

function simulate(seed: number, n: number): Simulation {
  const opts = { app: cellsSimApp, n, mode: "honest" as const };
  const sim = new Simulation(makeSchedule(seed, opts), opts);
  sim.run();
  return sim;
}

// The seeded schedules again, with every validator re-executing proposals with the real cells module.
describe("seeded simulation with the cells application", () => {
  it("120 schedules over group sizes 1, 4 and 7: no violation, blocks committed", () => {
    const t = campaign(1, 120, { app: cellsSimApp });
    expect(t.failing.map((r) => `seed ${r.seed}: ${r.violations.join("; ")}`)).toEqual([]);
    expect(t.schedules).toBe(120);
    expect(Object.keys(t.bySize).sort()).toEqual(["n=1", "n=4", "n=7"]);
    expect(t.byMode.byzantine).toBeGreaterThan(0);
    expect(t.blocks).toBeGreaterThan(120);
    expect(t.faultKinds["byzantine-garbage"] ?? 0).toBeGreaterThan(0);
  });

  it("committed blocks carry the cell's own verdicts, and the replicated state is the cell's", () => {
    const sim = simulate(7, 4);
    const e = sim.honest()[0];
    expect(e.ledger.length).toBeGreaterThan(1);
    const values = e.ledger.map((l) => l.block.value as unknown as CellBlockValue);
    const verdicts = values.flatMap((v) => v.verdicts as unknown as Verdict[]);
    expect(verdicts.some((v) => v.accepted)).toBe(true);
    const codes = new Set(verdicts.filter((v) => !v.accepted).map((v) => (v.code === "CELL_RULE" ? `rule:${v.rule}` : v.code)));
    expect([...codes].some((c) => c === "rule:at-most-50" || c === "rule:total-in-range")).toBe(true);
    expect(new Set(values.map((v) => v.stateRoot)).size).toBeGreaterThan(1);
    // Each stored state is the cells module's state after that block, with the root the block commits to.
    e.ledger.forEach((l, i) => expect((l.app as CellChainState).stateRoot).toBe(values[i].stateRoot));
    const last = e.ledger[e.ledger.length - 1].app as CellChainState;
    const accepted = values.reduce((s, v) => s + (v.verdicts as unknown as Verdict[]).filter((x) => x.accepted).length, 0);
    expect((last.cell as { count?: number }).count).toBe(accepted);
    expect(checkRun(sim).violations).toEqual([]);
  });

  it("the checker re-executes with the cells app: a corrupted stateRoot in one ledger entry is reported", () => {
    const sim = simulate(7, 4);
    expect(checkRun(sim).violations).toEqual([]);
    const e = sim.honest()[1];
    expect(e.ledger.length).toBeGreaterThan(1);
    const l = e.ledger[1];
    const value = l.block.value as unknown as CellBlockValue;
    const corrupt = { ...value, stateRoot: "0".repeat(64) };
    // Store it under its own id so only re-execution (not the id check) can catch it.
    l.block = { ...l.block, value: corrupt as never };
    l.valueId = cellsSimApp.app.valueId(corrupt as never);
    const violations = checkRun(sim).violations;
    expect(violations).toContain(`validity: ${e.name} height 2 does not re-execute to the same result`);
    expect(violations.some((v) => v.startsWith(`validity: ${e.name} height 2: `))).toBe(true); // the certificate is for the honest block
  });
});
