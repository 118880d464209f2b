/**
 * executeBlock: the pure state transition of one cell for one block
 * (docs/execution.md). Same plan, state, inputs and header give the same
 * verdicts, state, outputs and state root on every machine: no clock, no
 * randomness, no I/O, no iteration over unordered collections.
 *
 * Three stages, each in its own file under block/:
 *   precheck  what depends on an input alone: source, signer, operation,
 *             limits, canonical bytes, schema
 *   settle    each input in order through rules, hooks, record key, state
 *             updates (or reduce) and outputs, against the state the earlier
 *             accepted inputs left: batching is invisible
 *   commit    records chain, user digest, state root
 *
 * blockVerdicts runs the first two only: the verdicts without the next state.
 */
import { StatecellError } from "../core/errors.js";
import type { Json } from "../core/canonical.js";
import type { ChannelPlan } from "../definition/plan.js";
import type { BlockHeader, BlockInput, BlockResult, CellState, ExecuteModules, HookName, Verdict } from "./types.js";
import { internalsOf } from "./commitment.js";
import { lapper, type BlockEnv } from "./block/env.js";
import { precheck } from "./block/precheck.js";
import { settle } from "./block/settle.js";
import { hookStage } from "./block/hooks.js";
import { commit } from "./block/commit.js";

export { MAX_KEY_LENGTH } from "./block/decide.js";

/**
 * Executes one block of `inputs` against `cellName`'s `state`.
 *
 * @example
 * const r = executeBlock(plan, "readings", {}, [admitted], { height: 1, time: 1700000001000, hash: "ab.." });
 * r.verdicts[0]; // { accepted: true } or { accepted: false, code: "CELL_RULE", rule: "plausible", message: "..." }
 * @throws StatecellError CELL_UNKNOWN_CELL, CELL_NO_CODE_RUNNER, CELL_BAD_STATE, CELL_NO_COMMITMENT
 *   (caller errors, never caused by an input: inputs only ever produce verdicts).
 */
export function executeBlock(
  plan: ChannelPlan,
  cellName: string,
  state: CellState,
  inputs: readonly BlockInput[],
  header: BlockHeader,
  modules: ExecuteModules = {},
): BlockResult {
  const env = blockEnv(plan, cellName, state, inputs, header, modules);
  return commit(env, state, settleBlock(env));
}

/**
 * The verdicts executeBlock would give the same block, without making the
 * next state: a node's dry run of the submissions it admits, and its re-check
 * of what waits after a commit. Skipping the commit stage matters beyond its
 * own cost: adding records to a state that is not the newest of its chain's
 * record store copies the whole store (records-store.ts, a fork), and a node
 * dry-runs against its committed state many times per height.
 * @throws as executeBlock (caller errors only).
 */
export function blockVerdicts(
  plan: ChannelPlan,
  cellName: string,
  state: CellState,
  inputs: readonly BlockInput[],
  header: BlockHeader,
  modules: ExecuteModules = {},
): Verdict[] {
  return settleBlock(blockEnv(plan, cellName, state, inputs, header, modules)).verdicts;
}

/** The first two stages: each input prechecked, then settled in order. */
function settleBlock(env: BlockEnv): ReturnType<typeof settle> {
  const pre = precheck(env);
  return settle(env, pre, hookStage(env, pre));
}

function blockEnv(plan: ChannelPlan, cellName: string, state: CellState, inputs: readonly BlockInput[], header: BlockHeader, modules: ExecuteModules): BlockEnv {
  const cell = Object.prototype.hasOwnProperty.call(plan.cells, cellName) ? plan.cells[cellName] : undefined;
  if (cell === undefined) {
    throw new StatecellError("CELL_UNKNOWN_CELL", `the channel ${plan.channel} has no cell "${cellName}"`, {
      remedy: `use one of: ${Object.keys(plan.cells).sort().join(", ")}`,
    });
  }
  const hasHooks = cell.code !== undefined && cell.code.hooks.length > 0;
  const runner = hasHooks ? modules.code?.(cellName) : undefined;
  if (hasHooks && runner === undefined) {
    throw new StatecellError("CELL_NO_CODE_RUNNER", `cell "${cellName}" has code (${cell.code!.path}) but no code runner was given`, {
      remedy: "pass modules.code = (cell) => createCodeRunner(...) from runtime/sandbox",
    });
  }
  const params = (plan.document as { params?: Json } | null)?.params;
  return {
    plan,
    cell,
    cellName,
    inputs,
    block: { height: header.height, time: header.time, hash: header.hash },
    channel: { name: plan.channel, version: plan.version, hash: plan.hash, params: params ?? null },
    token: modules.token ?? null,
    start: internalsOf(state),
    runner,
    hooks: new Set<HookName>(runner?.hooks ?? []),
    hookOptions: modules.hookOptions,
    lap: lapper(modules),
  };
}
