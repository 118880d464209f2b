/**
 * What every stage of one block's execution reads: the cell, the header,
 * the channel's constants and limits, the state at the block start, and the
 * optional collaborators (code runner, timing hook). Built once per block.
 */
import type { Json } from "../../core/canonical.js";
import type { CellPlan, ChannelPlan } from "../../definition/plan.js";
import type { RuleContext } from "../../rules/index.js";
import type { BlockInput, CodeRunner, ExecuteModules, HookName, HookRunOptions, PhaseTimings } from "../types.js";
import type { StateInternals } from "../commitment.js";

export interface BlockEnv {
  plan: ChannelPlan;
  cell: CellPlan;
  cellName: string;
  inputs: readonly BlockInput[];
  block: RuleContext["block"];
  channel: RuleContext["channel"];
  token: Json;
  start: StateInternals;
  runner: CodeRunner | undefined;
  hooks: ReadonlySet<HookName>;
  hookOptions: HookRunOptions | undefined;
  /** Adds the time since the last lap to `phase` (a no-op without a timing hook). */
  lap: (phase: keyof PhaseTimings) => void;
}

/** A lap function over an optional timing hook (bench/execute.ts). */
export function lapper(modules: ExecuteModules): (phase: keyof PhaseTimings) => void {
  const clock = modules.timings !== undefined && modules.now !== undefined ? modules.now : undefined;
  const timings = modules.timings;
  if (!clock || !timings) return () => undefined;
  let t0 = clock();
  return (phase) => {
    const t = clock();
    timings[phase] += t - t0;
    t0 = t;
  };
}
