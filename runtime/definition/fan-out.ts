/**
 * Limits that contradict each other, and pipelines whose fan-out can exceed
 * the channel's output limits. Execution enforces the limits on every block
 * (CELL_OUTPUT_LIMIT, SANDBOX_BLOCK_BUDGET); lint refuses the definitions in
 * which they would be certain or structural failures:
 *
 * - a cell's per-input output bound is its number of `emit` entries, times
 *   `maxOutputsPerInput` when its code has a `transform` hook (each emit
 *   forwards every output the hook returns); a cell with more emits than
 *   `maxOutputsPerInput` could never accept an input;
 * - one input to a source cell can cascade down the pipeline: the product of
 *   the bounds along any path must not exceed `maxOutputsPerBlock`;
 * - `maxInputBytes` above `maxBlockBytes`: such an input could never enter a block;
 * - a cell's `blockTimeMs` below its `timeMs`: one input could use more than
 *   the budget of the whole block.
 */
import type { BlockLimitsPlan, InputLimitsPlan, LimitsPlan, OutputLimitsPlan } from "./plan.js";
import type { Reporter } from "./reporter.js";
import { formatCount } from "./suggest.js";

/** What the check needs to know of one cell. */
export interface FanOutCell {
  name: string;
  emits: number;
  /** True when its code defines a `transform` hook. */
  transform: boolean;
  limits: LimitsPlan;
  /** The limits keys written in the cell (`timeMs`, `blockTimeMs`), to point at. */
  written: ReadonlySet<string>;
}

/** Channel limits in force, and which keys the channel wrote (to point at them). */
export interface ChannelLimits {
  input: InputLimitsPlan;
  output: OutputLimitsPlan;
  block: BlockLimitsPlan;
  written: ReadonlySet<string>;
}

/** Largest product shown exactly; beyond it the text says "more than". */
const SATURATED = 1e15;

/** One input's most outputs from `cell` itself. */
export function outputBound(cell: Pick<FanOutCell, "emits" | "transform">, output: OutputLimitsPlan): number {
  return cell.emits * (cell.transform ? output.perInput : 1);
}

/**
 * Reports DEFINITION_LIMITS_CONFLICT and DEFINITION_FAN_OUT problems.
 * `order` is a topological order of the pipeline, `upstream` each cell's
 * senders. Returns false when it reported an error.
 */
export function checkFanOut(
  cells: ReadonlyMap<string, FanOutCell>,
  order: readonly string[],
  upstream: ReadonlyMap<string, readonly string[]>,
  limits: ChannelLimits,
  reporter: Reporter,
): boolean {
  let ok = true;
  const { input, output, block } = limits;

  if (input.maxBytes > block.maxBytes) {
    ok = false;
    const at = limits.written.has("maxInputBytes") ? "maxInputBytes" : "maxBlockBytes";
    reporter.error(
      "DEFINITION_LIMITS_CONFLICT",
      ["limits", at],
      `\`maxInputBytes\` is ${formatCount(input.maxBytes)} but \`maxBlockBytes\` is ${formatCount(block.maxBytes)}: an input that large could never enter a block`,
      `lower \`maxInputBytes\` to at most ${block.maxBytes}, or raise \`maxBlockBytes\` (at most 786432)`,
    );
  }

  for (const cell of cells.values()) {
    if (cell.limits.blockTimeMs < cell.limits.timeMs) {
      ok = false;
      const at = cell.written.has("blockTimeMs") ? "blockTimeMs" : "timeMs";
      reporter.error(
        "DEFINITION_LIMITS_CONFLICT",
        ["cells", cell.name, "limits", at],
        `cell "${cell.name}" has \`blockTimeMs\` ${formatCount(cell.limits.blockTimeMs)} below \`timeMs\` ${formatCount(cell.limits.timeMs)}: one input could use more than the hook budget of its whole block`,
        `raise \`blockTimeMs\` to at least ${cell.limits.timeMs}, or lower \`timeMs\` to at most ${cell.limits.blockTimeMs}`,
      );
    }
    if (cell.emits > output.perInput) {
      ok = false;
      reporter.error(
        "DEFINITION_FAN_OUT",
        ["cells", cell.name, "emit"],
        `cell "${cell.name}" has ${formatCount(cell.emits)} emits, more than \`maxOutputsPerInput\` (${formatCount(output.perInput)}): every input it accepts would produce more outputs than one input may`,
        `emit to at most ${output.perInput} cells (an emit's \`when\` can choose among them), or raise \`limits.maxOutputsPerInput\` (at most 10000)`,
        { anchor: "key" },
      );
    }
  }

  // The largest product of bounds on a path from a source into each cell, and the cell it came from.
  const into = new Map<string, { product: number; from?: string }>();
  for (const name of order) {
    const cell = cells.get(name);
    if (!cell) continue;
    let best: { product: number; from?: string } = { product: 1 };
    for (const u of upstream.get(name) ?? []) {
      const sender = cells.get(u);
      const reach = into.get(u);
      if (!sender || !reach) continue;
      const p = Math.min(SATURATED, reach.product * outputBound(sender, output));
      if (p > best.product || best.from === undefined) best = { product: p, from: u };
    }
    into.set(name, best);
    const out = Math.min(SATURATED, best.product * outputBound(cell, output));
    // Reported where the path first goes over: cells below it go over too.
    if (out > output.perBlock && best.product <= output.perBlock && cell.emits <= output.perInput) {
      ok = false;
      const path: string[] = [name];
      for (let at = into.get(name)?.from; at !== undefined; at = into.get(at)?.from) path.unshift(at);
      const terms = path.map((n) => {
        const c = cells.get(n) as FanOutCell;
        return `${n}: ${formatCount(c.emits)} emit${c.emits === 1 ? "" : "s"}${c.transform ? ` × ${formatCount(output.perInput)} from its transform hook` : ""}`;
      });
      const total = out >= SATURATED ? `more than ${formatCount(SATURATED)}` : formatCount(out);
      reporter.error(
        "DEFINITION_FAN_OUT",
        ["cells", name, "emit"],
        `one input to cell "${path[0]}" can produce ${total} outputs along ${path.join(" -> ")} (${terms.join("; ")}), more than \`maxOutputsPerBlock\` (${formatCount(output.perBlock)})`,
        "emit to fewer cells along this path, lower `limits.maxOutputsPerInput` (it bounds what a transform hook returns), or raise `limits.maxOutputsPerBlock` (at most 1000000)",
        { anchor: "key" },
      );
    }
  }
  return ok;
}
