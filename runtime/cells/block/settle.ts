/**
 * Stage 2 of a block: each prechecked input, in block order, through the
 * cell's pipeline, against the state the earlier accepted inputs of the block
 * left (docs/execution.md, "Batching is invisible"):
 *
 *   rules (cell, then operation) -> validate hook -> record key ->
 *   state updates (cell, then operation) or the reduce hook ->
 *   outputs (emits, or the transform hook's items through the emits)
 *
 * An input is accepted only when every step accepts it; then, and only then,
 * its record, its state changes and its outputs become part of the block.
 * Hooks are asked through a HookStage (hooks.ts), which batches calls where
 * that cannot change a result.
 */
import type { Json } from "../../core/canonical.js";
import type { RuleContext } from "../../rules/index.js";
import type { BlockOutput, Rejected, Verdict } from "../types.js";
import { reject } from "../inspect.js";
import { recordGet } from "../records-store.js";
import { liveStateView, type LiveSource } from "../live-state.js";
import { addAt, appendAt, commitInput, removeAt, rollback, setAt, startUser, type UserWorking } from "../user-state.js";
import type { RecordBytes } from "../commitment.js";
import type { BlockEnv } from "./env.js";
import type { Prechecked, PrecheckResult } from "./precheck.js";
import { checkOutputLimits, countOutputs, evalEmits, evalKey, newPlanBuffer, newTally, planUpdates, runRules, type OutputTally, type PlanBuffer } from "./decide.js";
import type { HookStage } from "./hooks.js";

const ACCEPTED: Verdict = Object.freeze({ accepted: true }) as Verdict;

/** The block so far: the working user state, the records and outputs of accepted inputs. */
export interface Working {
  w: UserWorking;
  /** What the live rule view reads (user state, records at the block start, records added so far). */
  src: LiveSource;
  live: Json;
  /** Records added so far, in order, with the canonical bytes the records chain commits to. */
  added: RecordBytes[];
  outputs: BlockOutput[];
  tally: OutputTally;
  /** Inputs accepted so far that changed the user state or added a record. */
  writes: number;
  /** Inputs accepted so far that changed the user state (hooks that read ctx.state ask again after one). */
  stateWrites: number;
}

/** The settled block: a verdict per prechecked input, the working state, the accepted inputs. */
export interface Settled {
  verdicts: Verdict[];
  wk: Working;
  accepted: number;
}

export function startWorking(env: BlockEnv): Working {
  const w = startUser(env.start.user);
  const src: LiveSource = { user: w.root, records: env.start.records, added: new Map() };
  return { w, src, live: liveStateView(src), added: [], outputs: [], tally: newTally(), writes: 0, stateWrites: 0 };
}

/** The rule context of input `p` against the block so far. */
export function ruleContext(env: BlockEnv, p: Prechecked, wk: Working): RuleContext {
  const input = p.input;
  return {
    data: input.data,
    state: wk.live,
    block: env.block,
    signer: input.signer ?? null,
    token: env.token,
    channel: env.channel,
    // The roots a rule reads for where an input came from and which operation it is.
    source: input.source !== undefined ? { cell: input.source.cell } : null,
    op: input.op ?? null,
  } as RuleContext;
}

/** Settles every prechecked input in order (rejected ones keep their precheck verdict). */
export function settle(env: BlockEnv, pre: readonly PrecheckResult[], hooks: HookStage): Settled {
  const wk = startWorking(env);
  const verdicts: Verdict[] = new Array<Verdict>(pre.length);
  let accepted = 0;
  const planned = newPlanBuffer();
  for (let i = 0; i < pre.length; i++) {
    const p = pre[i];
    if ("accepted" in p) {
      verdicts[i] = p;
      continue;
    }
    const v = settleOne(env, p, wk, hooks, planned);
    verdicts[i] = v;
    if (v.accepted) {
      accepted++;
      hooks.accepted?.(p, wk);
    }
  }
  hooks.finish?.(wk);
  return { verdicts, wk, accepted };
}

/** One input through the pipeline; on acceptance its effects join the block. */
function settleOne(env: BlockEnv, p: Prechecked, wk: Working, hooks: HookStage, planned: PlanBuffer): Verdict {
  const { cell } = env;
  const op = p.op;
  const ctx = ruleContext(env, p, wk);
  // Rules: the cell's, then the operation's.
  let verdict: Rejected | undefined = runRules(cell.rules, ctx);
  if (verdict === undefined && op !== undefined) verdict = runRules(op.rules, ctx);
  env.lap("rules");
  if (verdict === undefined && hooks.validate !== undefined) {
    verdict = hooks.validate(p, wk);
    env.lap("hooks");
  }
  if (verdict !== undefined) return verdict;
  // Record key: write-once across blocks and within this one.
  let key: string | undefined;
  const keyExpr = op?.key ?? cell.key;
  if (keyExpr !== undefined) {
    const k = evalKey(keyExpr, ctx);
    if (typeof k !== "string") return k;
    if (wk.src.added.has(k) || recordGet(wk.src.records, k) !== undefined) {
      return reject("CELL_DUPLICATE_KEY", `a record with key "${k}" already exists; records are write-once`, `/records/${k}`);
    }
    key = k;
  }
  // State: declarative updates (evaluated against the state before this input, then applied), or reduce.
  planned.n = 0;
  verdict = planUpdates(cell.state, ctx, planned);
  if (verdict === undefined && op !== undefined) verdict = planUpdates(op.state, ctx, planned);
  env.lap("update");
  if (verdict !== undefined) return verdict;
  let reduced: Record<string, Json> | undefined;
  // Part of a fold whose state comes with a later input (hooks.ts): a change, applied there.
  let folded = false;
  if (hooks.reduce !== undefined) {
    const r = hooks.reduce(p, wk);
    env.lap("hooks");
    if ("accepted" in r) return r;
    reduced = r.state;
    folded = reduced === undefined;
  }
  // Outputs, into a buffer: they join the block only if the input is accepted.
  wk.tally.sizes.length = 0;
  const outs = emitsAll(env, p, hooks) ? settleOutputs(env, p, ctx, wk, hooks) : NO_OUTPUTS;
  if ("accepted" in outs) return outs;
  // Accepted: apply the state change, keep the record and the outputs.
  if (planned.n > 0) {
    const cpRoot = wk.w.root;
    const cpUndo = wk.w.top;
    for (let i = 0; i < planned.n; i++) {
      const u = planned.items[i];
      const bad =
        u.op === "set" ? setAt(wk.w, u.segs, u.value) : u.op === "add" ? addAt(wk.w, u.segs, u.value) : u.op === "append" ? appendAt(wk.w, u.segs, u.value) : removeAt(wk.w, u.segs);
      if (bad !== undefined) {
        rollback(wk.w, cpRoot, cpUndo);
        env.lap("update");
        return bad;
      }
    }
    commitInput(wk.w);
    wk.src.user = wk.w.root;
  }
  if (reduced !== undefined) {
    wk.w.root = reduced;
    wk.src.user = reduced;
  }
  if (key !== undefined) {
    wk.src.added.set(key, p.input.data);
    wk.added.push({ key, bytes: p.bytes });
  }
  const changed = planned.n > 0 || reduced !== undefined || folded;
  if (changed) wk.stateWrites++;
  if (changed || key !== undefined) wk.writes++;
  for (let i = 0; i < outs.length; i++) wk.outputs.push(outs[i]);
  countOutputs(wk.tally);
  env.lap("update");
  return ACCEPTED;
}

/** Outputs of a cell with neither emits nor a transform hook (shared: nothing is ever added to it). */
const NO_OUTPUTS: readonly BlockOutput[] = Object.freeze([]);

/** Whether input `p` can have outputs at all (without, settle skips the output stage and its allocations). */
function emitsAll(env: BlockEnv, p: Prechecked, hooks: HookStage): boolean {
  return env.cell.emit.length > 0 || (p.op !== undefined && p.op.emit.length > 0) || hooks.transform !== undefined;
}

/** The outputs of `p` (transform, then emits), with the per-input and block limits checked, or why it is refused. */
function settleOutputs(env: BlockEnv, p: Prechecked, ctx: RuleContext, wk: Working, hooks: HookStage): BlockOutput[] | Rejected {
  const outs: BlockOutput[] = [];
  const from = { cellName: env.cellName, index: p.index, signer: p.input.signer ?? null, limits: env.plan.outputLimits };
  if (hooks.transform !== undefined) {
    const t = hooks.transform(p, wk);
    env.lap("hooks");
    if ("accepted" in t) return t;
    for (const item of t.items) {
      // With a transform hook, emits map each item the hook returned, against the same state.
      const bad = emitsOf(env, p, { ...ctx, data: item }, wk, outs, from);
      if (bad !== undefined) return bad;
    }
  } else {
    const bad = emitsOf(env, p, ctx, wk, outs, from);
    if (bad !== undefined) return bad;
  }
  const over = checkOutputLimits(env.plan.outputLimits, wk.tally);
  env.lap("emit");
  return over ?? outs;
}

function emitsOf(env: BlockEnv, p: Prechecked, ctx: RuleContext, wk: Working, outs: BlockOutput[], from: Parameters<typeof evalEmits>[1]): Rejected | undefined {
  const bad = evalEmits(env.cell.emit, from, ctx, wk.w.owned, outs, wk.tally);
  if (bad !== undefined || p.op === undefined) return bad;
  return evalEmits(p.op.emit, from, ctx, wk.w.owned, outs, wk.tally);
}
