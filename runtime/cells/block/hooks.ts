/**
 * The cell's code hooks as settle.ts asks for them: the result a hook gives
 * input `p` against the state the earlier accepted inputs of the block left
 * (docs/execution.md "Batching is invisible"), asked for in as few calls as
 * that allows: a call costs ~5 us of crossing alone.
 *
 * validate and transform: one call for the whole block against the state at
 * its start. The runner says which inputs read `ctx.state` (tracksReads), and
 * the records reader sees which record keys each input read; an input's
 * result stays right after earlier inputs changed things unless it read the
 * state and the state changed, or it read a record key that was added since.
 * Only such inputs (and faults, which may depend on anything) run again,
 * alone, against the current state.
 *
 * reduce: folds. When the cell's own expressions (rules, key, emits) never
 * read the state and it has no transform hook, what the host will decide
 * about the inputs that follow does not depend on what the fold leaves, so
 * one call folds the run of following inputs that will certainly reach the
 * hooks and whose later steps (key, outputs, limits) are known to accept
 * them (`foldFrom`). With a validate hook too the fold starts at validate and
 * runs both hooks per input (`runner.fold`), validate seeing the fold's state
 * before the input; an input whose key is certainly refused runs validate
 * only. The fold's per-input results are handed out as settle reaches each
 * input (settle must follow the fold; if it ever does not, `resync` folds
 * again what it accepted and the block goes on input by input), and the state
 * after the last input the fold accepted is the state of all of them
 * together. A hook reading a record an earlier input of the same fold adds
 * spoils the fold (the host's reader cannot answer it yet). Anything else
 * runs one input per call, as before.
 *
 * Every call of the block shares one time budget (docs/sandbox.md "The block
 * budget"); `ctx.channel` is the channel's name, version, hash and params.
 */
import type { Json } from "../../core/canonical.js";
import { canonicalString } from "../../core/canonical.js";
import type { CellPlan, EmitPlan, RulePlan } from "../../definition/plan.js";
import type { FoldItemResult, HookContext, HookRunOptions, ReduceItemResult, Rejected, SandboxFault, TransformResult, ValidateResult } from "../types.js";
import { inspectValue, reject } from "../inspect.js";
import { recordGet } from "../records-store.js";
import type { BlockEnv } from "./env.js";
import type { Prechecked, PrecheckResult } from "./precheck.js";
import { ruleContext, type Working } from "./settle.js";
import { checkOutputLimits, evalEmits, evalKey, runRules, type OutputTally } from "./decide.js";

export interface HookStage {
  validate?(p: Prechecked, wk: Working): Rejected | undefined;
  transform?(p: Prechecked, wk: Working): { items: Json[] } | Rejected;
  /**
   * The state after `p`, or `state: undefined` when `p` is part of a fold
   * whose state comes with a later input of the same fold (settle counts it
   * as a change and leaves the state to that input).
   */
  reduce?(p: Prechecked, wk: Working): { state: Record<string, Json> | undefined } | Rejected;
  /** Settle tells the stage each input it accepted. */
  accepted?(p: Prechecked, wk: Working): void;
  /** After the last input: the state is the block's. */
  finish?(wk: Working): void;
}

/** One batched call's results, and what each result read. */
interface Batch<R> {
  results: Map<number, R>;
  /** Inputs (by index) whose hook read ctx.state. */
  readState: Set<number>;
  /** Record keys each input (by index) read. */
  keysRead: Map<number, string[]>;
  /** Working counters when the batch ran. */
  writes: number;
  stateWrites: number;
  /** Records added in the block before the batch ran. */
  addedBefore: ReadonlySet<string>;
}

/** An input of a fold: validate only (its key is certainly refused), and the record key it adds. */
interface FoldEntry {
  p: Prechecked;
  validateOnly: boolean;
  key?: string;
}

/** A fold run ahead over inputs settle has not reached yet. */
interface Fold {
  /** Input indexes in block order, and each one's position. */
  order: number[];
  at: Map<number, number>;
  results: FoldItemResult[];
  /** The state after the whole fold, and the last input the fold accepted (-1: none). */
  final: Record<string, Json>;
  lastOk: number;
  /** The state the fold started from, for a resync. */
  start: Json;
  /** Next position validate and reduce expect; inputs the fold accepted before each position. */
  vnext: number;
  rnext: number;
  okBefore: number[];
  /** Inputs of the fold settle accepted, and how many the fold did. */
  hostAccepted: number[];
  foldAccepted: number;
  /** The fold's last input. */
  last: number;
}

/** The hook stage of a block (no hooks: an empty stage). */
export function hookStage(env: BlockEnv, pre: readonly PrecheckResult[]): HookStage {
  const runner = env.runner;
  if (runner === undefined) return {};
  const tracks = runner.tracksReads === true;
  // One budget for every hook call of the block (the caller's, when it wants to read the time spent).
  const budget = env.hookOptions?.budget ?? { spentMs: 0 };
  const base: HookRunOptions = { ...env.hookOptions, budget, channel: env.channel, token: env.token };
  const rejects = env.cell.code?.rejects ?? {};
  // The user state hooks are given, as of the block so far: copied again only when an accepted input changed it.
  let stateFor = -1;
  let stateCopy: Json = null;
  const hookState = (wk: Working): Json => {
    if (stateFor !== wk.stateWrites) {
      stateFor = wk.stateWrites;
      stateCopy = canonicalCopy(wk.w.root);
    }
    return stateCopy;
  };
  const ctxOf = (p: Prechecked, wk: Working): HookContext => ({ block: env.block, signer: p.input.signer ?? null, index: p.index, state: hookState(wk) });
  const recordNow = (wk: Working, key: string): Json | undefined => (wk.src.added.has(key) ? wk.src.added.get(key) : recordGet(env.start.records, key));
  // Records as of the block so far (the records an earlier accepted input added are visible).
  const recordsNow = (wk: Working): HookRunOptions => ({ ...base, records: (key) => recordNow(wk, key) });

  /** One call of `call` over every input still in the block, against the block so far. */
  const batchFor = <R>(call: (items: HookItems, opts: HookRunOptions) => R[], wk: Working): Batch<R> => {
    const items = itemsAt(pre, (p) => ctxOf(p, wk));
    const keysRead = new Map<number, string[]>();
    const reads: number[] = [];
    const opts: HookRunOptions = {
      ...base,
      stateReads: reads,
      records: (key, item) => {
        const index = items[item].ctx.index;
        const list = keysRead.get(index);
        if (list === undefined) keysRead.set(index, [key]);
        else list.push(key);
        return recordNow(wk, key);
      },
    };
    const results = call(items, opts);
    const out = new Map<number, R>();
    items.forEach((it, j) => out.set(it.ctx.index, results[j]));
    return {
      results: out,
      readState: new Set(reads.map((j) => items[j].ctx.index)),
      keysRead,
      writes: wk.writes,
      stateWrites: wk.stateWrites,
      addedBefore: new Set(wk.src.added.keys()),
    };
  };
  /** Whether input `index`'s batched result is the one a call now would give. */
  const stillRight = <R>(b: Batch<R>, index: number, wk: Working, addedAhead?: ReadonlySet<string>): boolean => {
    if (wk.writes === b.writes && addedAhead === undefined) return true;
    const r = b.results.get(index);
    // Without read tracking, and for faults (a timeout, a memory fault: they may depend on anything), only an unchanged block.
    if (!tracks || r === undefined || "fault" in (r as object)) return false;
    if (b.readState.has(index) && (wk.stateWrites !== b.stateWrites || addedAhead !== undefined)) return false;
    const keys = b.keysRead.get(index);
    if (keys !== undefined) {
      for (const k of keys) {
        if (wk.src.added.has(k) && !b.addedBefore.has(k)) return false;
        if (addedAhead?.has(k)) return false;
      }
    }
    return true;
  };
  const refusal = (reason: string): Rejected => {
    // A declared name gives its sentence and the name as the rule; any other text is the message itself.
    if (Object.prototype.hasOwnProperty.call(rejects, reason)) return reject("CELL_CODE_REJECT", rejects[reason], undefined, reason);
    return reject("CELL_CODE_REJECT", reason);
  };
  const validateVerdict = (r: ValidateResult | undefined): Rejected | undefined => {
    r ??= missing("validate");
    if ("ok" in r && r.ok) return undefined;
    return "fault" in r ? reject(r.fault, r.message) : refusal((r as { reason: string }).reason);
  };

  const stage: HookStage = {};
  let vbatch: Batch<ValidateResult> | undefined;
  /** The validate result of `p` from the block's batch, when it is still right. */
  const batchedValidate = (p: Prechecked, wk: Working, addedAhead?: ReadonlySet<string>): ValidateResult | undefined => {
    vbatch ??= batchFor((items, o) => runner.validate(items, o), wk);
    return stillRight(vbatch, p.index, wk, addedAhead) ? vbatch.results.get(p.index) : undefined;
  };
  if (env.hooks.has("transform")) {
    let batch: Batch<TransformResult> | undefined;
    stage.transform = (p, wk) => {
      batch ??= batchFor((items, o) => runner.transform(items, o), wk);
      let r = stillRight(batch, p.index, wk) ? batch.results.get(p.index) : undefined;
      r ??= runner.transform([{ data: p.input.data, ctx: ctxOf(p, wk) }], recordsNow(wk))[0];
      r ??= missing("transform");
      return "fault" in r ? reject(r.fault, r.message) : { items: r.outputs };
    };
  }

  // ---- reduce ----
  let fold: Fold | undefined;
  // Folding ahead needs a runner that tracks reads, no transform, and the cell's own expressions not reading the state.
  let foldsOff = !tracks || env.hooks.has("transform") || readsState(env.cell);
  // Validate inside the fold too (one call through both hooks), when the runner can.
  const both = env.hooks.has("validate") && env.hooks.has("reduce") && runner.fold !== undefined && !foldsOff;

  /** Settle went past the fold: make sure the state is the one its accepted inputs left. */
  function closeFold(wk: Working, index: number): void {
    const f = fold;
    if (f === undefined || index <= f.last) return;
    fold = undefined;
    if (f.hostAccepted.length === f.foldAccepted) return;
    // One input alone, refused by settle after reduce (its outputs): settle never applied its state.
    if (f.order.length === 1) return;
    resync(f, wk);
  }
  /** Settle did not follow the fold (it never should): the state of what it accepted, folded again, and no more folds. */
  function resync(f: Fold, wk: Working): void {
    fold = undefined;
    foldsOff = true;
    const items = f.hostAccepted.map((i) => itemOf(pre[i] as Prechecked));
    const res = runner!.reduce(f.start, items, recordsNow(wk));
    const s = storable(res.state);
    const user = "accepted" in s ? (f.start as Record<string, Json>) : s.state;
    wk.w.root = user;
    wk.src.user = user;
  }
  const itemOf = (q: Prechecked): { data: Json; ctx: HookContext } => ({ data: q.input.data, ctx: { block: env.block, signer: q.input.signer ?? null, index: q.index, state: null } });
  const reduceVerdict = (r: ReduceItemResult | undefined): Rejected | undefined => {
    r ??= missing("reduce");
    if ("fault" in r) return reject(r.fault, r.message);
    if (!r.ok) return refusal(r.reason);
    return undefined;
  };
  const accepts = (r: FoldItemResult): boolean => "ok" in r.validate && r.validate.ok && r.reduce !== undefined && !("fault" in r.reduce) && r.reduce.ok;

  /** Folds `entries` from the block so far in one call; false when the fold cannot be used (then folds stop). */
  function startFold(entries: FoldEntry[], wk: Working): boolean {
    const started = hookState(wk);
    const items = entries.map((e) => itemOf(e.p));
    // A record that an earlier input of the fold adds is not there yet for the host's reader: such a read spoils the fold.
    const addedBy = new Map<string, number>();
    entries.forEach((e, k) => {
      if (e.key !== undefined) addedBy.set(e.key, k);
    });
    let spoiled = false;
    const opts: HookRunOptions = {
      ...base,
      records: (key, item) => {
        const by = addedBy.get(key);
        if (by !== undefined && by < item) spoiled = true;
        return recordNow(wk, key);
      },
    };
    let results: FoldItemResult[];
    let state: Json;
    if (both) {
      const only = new Set<number>();
      entries.forEach((e, k) => {
        if (e.validateOnly) only.add(k);
      });
      ({ results, state } = runner!.fold!(started, items, { ...opts, validateOnly: only }));
    } else {
      const r = runner!.reduce(started, items, opts);
      state = r.state;
      results = r.results.map((x) => ({ validate: { ok: true }, reduce: x }));
    }
    const s = storable(state);
    if (spoiled || "accepted" in s) {
      foldsOff = true;
      return false;
    }
    let lastOk = -1;
    let foldAccepted = 0;
    const okBefore: number[] = [];
    results.forEach((r, k) => {
      okBefore.push(foldAccepted);
      if (accepts(r)) {
        lastOk = entries[k].p.index;
        foldAccepted++;
      }
    });
    const order = entries.map((e) => e.p.index);
    fold = { order, at: new Map(order.map((i, k) => [i, k])), results, final: s.state, lastOk, start: started, vnext: 0, rnext: 0, okBefore, hostAccepted: [], foldAccepted, last: order[order.length - 1] };
    return true;
  }

  if (env.hooks.has("validate")) {
    stage.validate = (p, wk) => {
      if (both) {
        let f = fold;
        if (f !== undefined && f.at.has(p.index) && f.at.get(p.index) !== f.vnext) {
          resync(f, wk);
          f = undefined;
        }
        if (f !== undefined && !f.at.has(p.index)) {
          closeFold(wk, p.index);
          f = fold;
        }
        if (f === undefined && !foldsOff && startFold(foldFrom(p, wk, true), wk)) f = fold;
        if (f !== undefined && f.at.get(p.index) === f.vnext && f.hostAccepted.length === f.okBefore[f.vnext]) return validateVerdict(f.results[f.vnext++].validate);
        if (f !== undefined) resync(f, wk);
        return validateVerdict(runner.validate([{ data: p.input.data, ctx: ctxOf(p, wk) }], recordsNow(wk))[0]);
      }
      closeFold(wk, p.index);
      const r = batchedValidate(p, wk) ?? runner.validate([{ data: p.input.data, ctx: ctxOf(p, wk) }], recordsNow(wk))[0];
      return validateVerdict(r);
    };
  }
  if (env.hooks.has("reduce")) {
    stage.reduce = (p, wk) => {
      let f = fold;
      if (f !== undefined) {
        const k = f.at.get(p.index);
        const expected = both ? k !== undefined && k === f.vnext - 1 : k === f.rnext && f.hostAccepted.length === f.okBefore[k];
        if (expected && k !== undefined && f.results[k].reduce !== undefined) {
          f.rnext = k + 1;
          const bad = reduceVerdict(f.results[k].reduce);
          if (bad !== undefined) return bad;
          return { state: p.index === f.lastOk ? f.final : undefined };
        }
        if (p.index <= f.last) resync(f, wk);
        else closeFold(wk, p.index);
        f = fold;
      }
      if (!both && !foldsOff) {
        const ahead = foldFrom(p, wk, false);
        if (ahead.length > 1 && startFold(ahead, wk)) return stage.reduce!(p, wk);
      }
      const res = runner.reduce(hookState(wk), [{ data: p.input.data, ctx: tracks ? { ...ctxOf(p, wk), state: null } : ctxOf(p, wk) }], recordsNow(wk));
      const bad = reduceVerdict(res.results[0]);
      if (bad !== undefined) return bad;
      return storable(res.state);
    };
    stage.accepted = (p) => {
      const f = fold;
      if (f !== undefined && f.at.has(p.index)) f.hostAccepted.push(p.index);
    };
    stage.finish = (wk) => closeFold(wk, Number.MAX_SAFE_INTEGER);
  }

  /**
   * The inputs to fold from `p` on: `p` (at validate when `fromValidate`,
   * else at reduce: it passed its rules, validate and key), then the inputs
   * after it that will certainly reach the hooks with the host accepting
   * whatever the fold accepts, up to the first whose fate depends on the
   * fold's results: a key an input before it in the fold may take, or
   * outputs that fail or would pass a block limit. An input whose key is
   * certainly refused runs validate only (its verdict may be validate's);
   * inputs refused by their rules are skipped. `p` alone when its own
   * outputs may fail. Without validate in the fold, a validate result that
   * may change (it read the state, or a record an input of the fold adds) ends it too.
   */
  function foldFrom(p: Prechecked, wk: Working, fromValidate: boolean): FoldEntry[] {
    const keys = new Set<string>();
    const tally: OutputTally = { sizes: [], blockCount: wk.tally.blockCount, blockBytes: wk.tally.blockBytes };
    const out: FoldEntry[] = [];
    const taken = (k: string): boolean => wk.src.added.has(k) || recordGet(wk.src.records, k) !== undefined;
    const pCtx = ruleContext(env, p, wk);
    const pKey = keyOf(p, pCtx);
    if (fromValidate && pKey !== undefined && (typeof pKey !== "string" || taken(pKey))) out.push({ p, validateOnly: true });
    else {
      if (!outputsCertain(p, pCtx, wk, tally)) return [{ p, validateOnly: false, key: typeof pKey === "string" ? pKey : undefined }];
      if (typeof pKey === "string") keys.add(pKey);
      out.push({ p, validateOnly: false, key: typeof pKey === "string" ? pKey : undefined });
    }
    for (let i = p.index + 1; i < pre.length; i++) {
      const q = pre[i];
      if ("accepted" in q) continue;
      const ctx = ruleContext(env, q, wk);
      if (runRules(env.cell.rules, ctx) !== undefined || (q.op !== undefined && runRules(q.op.rules, ctx) !== undefined)) continue;
      if (!fromValidate && env.hooks.has("validate")) {
        const v = batchedValidate(q, wk, keys);
        if (v === undefined || "fault" in v) break;
        if (!v.ok) continue;
      }
      const k = keyOf(q, ctx);
      if (k !== undefined) {
        if (typeof k !== "string" || taken(k)) {
          if (fromValidate) out.push({ p: q, validateOnly: true });
          continue;
        }
        if (keys.has(k)) break;
      }
      if (!outputsCertain(q, ctx, wk, tally)) break;
      if (k !== undefined) keys.add(k);
      out.push({ p: q, validateOnly: false, key: k });
    }
    return out;
  }
  function keyOf(q: Prechecked, ctx: ReturnType<typeof ruleContext>): string | Rejected | undefined {
    const expr = q.op?.key ?? env.cell.key;
    return expr === undefined ? undefined : evalKey(expr, ctx);
  }
  /** True when `q`'s outputs evaluate and fit the block's limits on top of those before it (all assumed accepted). */
  function outputsCertain(q: Prechecked, ctx: ReturnType<typeof ruleContext>, wk: Working, tally: OutputTally): boolean {
    tally.sizes.length = 0;
    const from = { cellName: env.cellName, index: q.index, signer: q.input.signer ?? null, limits: env.plan.outputLimits };
    const outs: Parameters<typeof evalEmits>[4] = [];
    if (evalEmits(env.cell.emit, from, ctx, wk.w.owned, outs, tally) !== undefined) return false;
    if (q.op !== undefined && evalEmits(q.op.emit, from, ctx, wk.w.owned, outs, tally) !== undefined) return false;
    if (checkOutputLimits(env.plan.outputLimits, tally) !== undefined) return false;
    for (const x of tally.sizes) tally.blockBytes += x;
    tally.blockCount += tally.sizes.length;
    return true;
  }
  return stage;
}

type HookItems = Array<{ data: Json; ctx: HookContext }>;

/** A reduce state the host can store: a plain object, its records key dropped (records stay write-once). */
function storable(s: Json): { state: Record<string, Json> } | Rejected {
  if (typeof s !== "object" || s === null || Array.isArray(s)) return reject("SANDBOX_OUTPUT", "reduce must return an object (the new state)");
  const bad = inspectValue(s, 1024, Number.MAX_SAFE_INTEGER);
  if (bad) return reject("SANDBOX_OUTPUT", `reduce returned a state that cannot be stored: ${bad.message}`, bad.path);
  if (!Object.prototype.hasOwnProperty.call(s, "records")) return { state: s as Record<string, Json> };
  const user: Record<string, Json> = {};
  for (const k of Object.keys(s)) if (k !== "records") user[k] = (s as Record<string, Json>)[k];
  return { state: user };
}

/**
 * True when one of the cell's own expressions may read the state: a rule,
 * its `when` or message, a record key, an emit's `when` or mapping (of the
 * cell or of an operation). Conservative: any mention of "state", and any
 * path that is computed, count. Such a cell's reduce runs one input per call.
 */
function readsState(cell: CellPlan): boolean {
  const known = stateReaders.get(cell);
  if (known !== undefined) return known;
  const sources: unknown[] = [cell.keySource];
  const rules = (rs: readonly RulePlan[]): void => {
    for (const r of rs) sources.push(r.require, r.whenSource, r.message);
  };
  const emits = (es: readonly EmitPlan[]): void => {
    for (const e of es) sources.push(e.whenSource, e.dataSource);
  };
  rules(cell.rules);
  emits(cell.emit);
  for (const op of Object.values(cell.operations ?? {})) {
    rules(op.rules);
    emits(op.emit);
    sources.push(op.keySource);
  }
  const r = sources.some((s) => mayReadState(s));
  stateReaders.set(cell, r);
  return r;
}
const stateReaders = new WeakMap<CellPlan, boolean>();
const PATH_OPS = new Set(["var", "val", "exists", "missing", "missing_some"]);

function mayReadState(v: unknown): boolean {
  if (typeof v === "string") return /state/i.test(v);
  if (v === null || typeof v !== "object") return false;
  if (Array.isArray(v)) return v.some(mayReadState);
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (/state/i.test(k)) return true;
    // A path given by anything but text written out (or an empty path: the whole context) may reach the state.
    if (PATH_OPS.has(k) && !literalPaths(k, x)) return true;
    if (mayReadState(x)) return true;
  }
  return false;
}
function literalPaths(op: string, x: unknown): boolean {
  const text = (s: unknown): boolean => typeof s === "string" && s !== "";
  if (op === "var") return text(x) || (Array.isArray(x) && x.length > 0 && text(x[0]) && x.slice(1).every((d) => d === null || typeof d !== "object"));
  if (op === "missing_some") return Array.isArray(x) && typeof x[0] === "number" && Array.isArray(x[1]) && (x[1] as unknown[]).every(text);
  return text(x) || (Array.isArray(x) && x.length > 0 && x.every(text));
}

function itemsAt(pre: readonly PrecheckResult[], ctx: (p: Prechecked) => HookContext): HookItems {
  const items: HookItems = [];
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
