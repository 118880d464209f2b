/**
 * The cell's code hooks as settle.ts asks for them: the result a hook gives
 * input `p` against the state the earlier accepted inputs of the block left.
 *
 * A hook call per input would cost ~5 us of crossing alone, so calls are
 * batched where a batch cannot change a result: `validate` and `transform`
 * run once for the whole block against the state at its start, and that
 * result is used for an input as long as no accepted input before it changed
 * anything (a batch over a block of pure filters is one call). Past the first
 * change, an input's hook runs alone against the current state. `reduce`
 * folds one input at a time into the current state, so the rules of the next
 * input see exactly what it left.
 *
 * Hooks get the user fields as `ctx.state` and read records one at a time
 * (`ctx.record(key)`, answered as of the input asking); every call of the
 * block shares one time budget (docs/sandbox.md "The block budget").
 */
import type { Json } from "../../core/canonical.js";
import { canonicalString } from "../../core/canonical.js";
import type { HookContext, HookRunOptions, Rejected, SandboxFault, TransformResult, ValidateResult } from "../types.js";
import { inspectValue, reject } from "../inspect.js";
import { recordGet } from "../records-store.js";
import type { BlockEnv } from "./env.js";
import type { Prechecked, PrecheckResult } from "./precheck.js";
import type { Working } from "./settle.js";

export interface HookStage {
  validate?(p: Prechecked, wk: Working): Rejected | undefined;
  transform?(p: Prechecked, wk: Working): { items: Json[] } | Rejected;
  reduce?(p: Prechecked, wk: Working): { state: Record<string, Json> } | Rejected;
}

/** The hook stage of a block (no hooks: an empty stage). */
export function hookStage(env: BlockEnv, pre: readonly PrecheckResult[]): HookStage {
  const runner = env.runner;
  if (runner === undefined) return {};
  // One budget for every hook call of the block (the caller's, when it wants to read the time spent).
  const budget = env.hookOptions?.budget ?? { spentMs: 0 };
  const base: HookRunOptions = { ...env.hookOptions, budget };
  // The user state hooks are given, as of the block so far: copied again only when an accepted input changed it.
  let stateFor = -1;
  let stateCopy: Json = null;
  const hookState = (wk: Working): Json => {
    if (stateFor !== wk.writes) {
      stateFor = wk.writes;
      stateCopy = canonicalCopy(wk.w.root);
    }
    return stateCopy;
  };
  const ctxOf = (p: Prechecked, wk: Working): HookContext => ({ block: env.block, signer: p.input.signer ?? null, index: p.index, state: hookState(wk) });
  // Records as of the block so far (the records an earlier accepted input added are visible).
  const recordsNow = (wk: Working): HookRunOptions => ({
    ...base,
    records: (key) => (wk.src.added.has(key) ? wk.src.added.get(key) : recordGet(env.start.records, key)),
  });
  const batchFor = <R>(call: (items: Array<{ data: Json; ctx: HookContext }>, opts: HookRunOptions) => R[], wk: Working): Map<number, R> => {
    const items = itemsAt(pre, (p) => ctxOf(p, wk));
    const results = call(items, recordsNow(wk));
    const out = new Map<number, R>();
    items.forEach((it, j) => out.set(it.ctx.index, results[j]));
    return out;
  };
  const stage: HookStage = {};
  if (env.hooks.has("validate")) {
    let batch: Map<number, ValidateResult> | undefined;
    stage.validate = (p, wk) => {
      let r: ValidateResult | undefined;
      if (wk.writes === 0) r = (batch ??= batchFor((items, o) => runner.validate(items, o), wk)).get(p.index);
      else r = runner.validate([{ data: p.input.data, ctx: ctxOf(p, wk) }], recordsNow(wk))[0];
      r ??= missing("validate");
      if ("ok" in r && r.ok) return undefined;
      return "fault" in r ? reject(r.fault, r.message) : reject("CELL_CODE_REJECT", (r as { reason: string }).reason);
    };
  }
  if (env.hooks.has("transform")) {
    let batch: Map<number, TransformResult> | undefined;
    stage.transform = (p, wk) => {
      let r: TransformResult | undefined;
      if (wk.writes === 0) r = (batch ??= batchFor((items, o) => runner.transform(items, o), wk)).get(p.index);
      else r = runner.transform([{ data: p.input.data, ctx: ctxOf(p, wk) }], recordsNow(wk))[0];
      r ??= missing("transform");
      return "fault" in r ? reject(r.fault, r.message) : { items: r.outputs };
    };
  }
  if (env.hooks.has("reduce")) {
    stage.reduce = (p, wk) => {
      const res = runner.reduce(hookState(wk), [{ data: p.input.data, ctx: ctxOf(p, wk) }], recordsNow(wk));
      const r = res.results[0] ?? missing("reduce");
      if ("fault" in r) return reject(r.fault, r.message);
      const s = res.state;
      if (typeof s !== "object" || s === null || Array.isArray(s)) return reject("SANDBOX_OUTPUT", "reduce must return an object (the new state)");
      const bad = inspectValue(s, 1024, Number.MAX_SAFE_INTEGER);
      if (bad) return reject("SANDBOX_OUTPUT", `reduce returned a state that cannot be stored: ${bad.message}`, bad.path);
      // Records stay write-once: whatever reduce says about them is ignored.
      const user: Record<string, Json> = {};
      for (const k of Object.keys(s)) if (k !== "records") user[k] = (s as Record<string, Json>)[k];
      return { state: user };
    };
  }
  return stage;
}

function itemsAt(pre: readonly PrecheckResult[], ctx: (p: Prechecked) => HookContext): Array<{ data: Json; ctx: HookContext }> {
  const items: Array<{ data: Json; ctx: HookContext }> = [];
  for (const p of pre) if (!("accepted" in p)) items.push({ data: p.input.data, ctx: ctx(p) });
  return items;
}

function missing(hook: string): SandboxFault {
  return { fault: "SANDBOX_OUTPUT", message: `the ${hook} hook returned no result for this input` };
}

/**
 * A plain copy in canonical key order. Hook code can iterate keys, and the
 * live key order depends on history (insertion order, or trie order for wide
 * objects): a validator restarted from a snapshot would otherwise hand its
 * hooks the same state in another order.
 */
function canonicalCopy(v: Json): Json {
  return JSON.parse(canonicalString(v)) as Json;
}
