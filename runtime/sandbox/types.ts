/**
 * The sandbox contract (docs/sandbox.md): what cells see of code hooks.
 * Everything that crosses this boundary is plain JSON; no host reference ever
 * enters an isolate and no isolate reference ever leaves one.
 */
import type { Json } from "../core/index.js";

export type HookName = "validate" | "transform" | "reduce";

/** The hook names, in the order lint reports them. */
export const HOOK_NAMES: readonly HookName[] = ["validate", "transform", "reduce"];

/**
 * What a hook receives besides the data. Inside the isolate `ctx` also has
 * `random()`, `record(key)` (one record, read through `RunOptions.records`)
 * and `channel` (`RunOptions.channel`, deep-frozen; null when none was given).
 */
export interface HookContext {
  block: { height: number; time: number; hash: string };
  signer: string | null;
  /** Index of the input in its block; with `block.hash` it seeds `ctx.random()`. */
  index: number;
  /**
   * Read-only (deep-frozen inside the isolate) view of the cell state: its
   * user fields, without `records` (hooks read records one at a time with
   * `ctx.record(key)`). It is copied into the isolate once per call; a state
   * over `memoryMb * STATE_CHARS_PER_MB` characters of JSON faults every input
   * of the call with SANDBOX_STATE_TOO_LARGE. `reduce` ignores it: there
   * `ctx.state` is the fold's state before the item (made inside the isolate
   * when the hook reads it), so one call folds a whole block.
   */
  state: Json;
}

export type SandboxFaultCode =
  | "SANDBOX_TIMEOUT"
  | "SANDBOX_MEMORY"
  | "SANDBOX_THROW"
  | "SANDBOX_OUTPUT"
  | "SANDBOX_BLOCK_BUDGET"
  | "SANDBOX_STATE_TOO_LARGE"
  | "SANDBOX_RECORD_READS";

/** A hook that did not produce a usable result for one input. */
export interface SandboxFault {
  fault: SandboxFaultCode;
  message: string;
  /**
   * Wall time the input ran for, in ms, on SANDBOX_TIMEOUT (measured, so it
   * differs between machines: never hash it; see docs/sandbox.md).
   */
  elapsedMs?: number;
}

export type ValidateResult = { ok: true } | { ok: false; reason: string } | SandboxFault;
export type TransformResult = { outputs: Json[] } | SandboxFault;
/** `reason`: the hook refused the item (it returned `{ reject: "..." }`); the state stays as before it. */
export type ReduceItemResult = { ok: true } | { ok: false; reason: string } | SandboxFault;

/** One input as hooks see it. */
export interface HookItem {
  data: Json;
  ctx: HookContext;
}

/**
 * The time the hook calls of one block took together (docs/sandbox.md "The
 * block budget"). The caller makes one per block (`createBlockBudget()`) and
 * passes it to every hook call of that block in `RunOptions.budget`; each call
 * adds its wall time. Measured, so it differs between machines: never hash it.
 */
export interface BlockBudget {
  /** Wall time, in ms, of the calls given this budget so far. */
  spentMs: number;
}

/**
 * Per-call options: how the caller's role in consensus bends the time budgets
 * (docs/sandbox.md "Timeouts"), the block's shared budget and the records.
 * Omitted: proposer mode, budget `limits.timeMs` per input and
 * `limits.blockTimeMs` for this call alone, no records.
 */
export interface RunOptions {
  /** Replaces `limits.timeMs` as the per-input budget of this call (1..1000). */
  timeMs?: number;
  /**
   * Validator mode, from the proposer's verdicts. `timedOut` lists the
   * `ctx.index` of inputs the proposer reported as SANDBOX_TIMEOUT. Such an
   * input is a timeout here too iff it runs at least
   * `timeMs * TIMEOUT_AGREE_FRACTION`; every other input gets the grace budget
   * `timeMs * TIMEOUT_GRACE_FACTOR` before it is a timeout. `blockBudget`
   * lists the `ctx.index` of inputs the proposer refused SANDBOX_BLOCK_BUDGET:
   * they are refused here too, without running; the block's own limit is then
   * `blockTimeMs * TIMEOUT_GRACE_FACTOR`, and `blockBudgetAgrees()` tells
   * whether this machine's spent time makes the proposer's cut plausible.
   */
  verify?: { timedOut: readonly number[]; blockBudget?: readonly number[] };
  /**
   * The block's shared time budget: pass the same object to every hook call of
   * one block (validate, transform, reduce, and their re-runs). Once
   * `spentMs` reaches `limits.blockTimeMs`, inputs not finished are refused
   * SANDBOX_BLOCK_BUDGET without running. Omitted: this call has the whole
   * block budget to itself.
   */
  budget?: BlockBudget;
  /**
   * Reads one record for `ctx.record(key)` inside a hook. `item` is the
   * position of the input in this call's `items`, so the caller can answer as
   * of that input (records added by the inputs before it). Return the record,
   * or undefined when there is none; the hook gets a frozen copy. Called at
   * most `maxRecordReads` times per input, never for a key longer than 1024
   * UTF-16 units or not well-formed (no record has one). The answer must be a
   * pure function of (key, item): an input can be run again after a fault of
   * its neighbours. Omitted: `ctx.record` always gives undefined. An error it
   * throws makes the call throw it.
   */
  records?: (key: string, item: number) => Json | undefined;
  /**
   * Filled by validate and transform with the positions (in `items`) of the
   * items whose hook read `ctx.state`: every other item's result does not
   * depend on the state, so it stays right after the state changes.
   * Host-made verdicts (a timeout, the block budget, a memory fault) are never
   * listed: treat them as depending on everything.
   */
  stateReads?: number[];
  /**
   * What hooks see as `ctx.channel` (deep-frozen). The runner copies it into
   * the isolate once, and again only for another channel (compared by name,
   * version, hash and the identity of `params`) or after the isolate was rebuilt.
   */
  channel?: { name: string; version: number; hash: string; params: Json };
  /**
   * What hooks see as `ctx.token` (deep-frozen): the channel's token as the
   * block reads it (`{ balances, supply, ... }`, the view rules read as
   * `token`), or null for a channel without one. Copied with `channel`, again
   * only when another object is given (a block naming another token height).
   */
  token?: Json;
}

/** A compiled hook file bound to one isolate; one per hosted (channel, cell). */
export interface CodeRunner {
  readonly hooks: readonly HookName[];
  /**
   * True for a runner that fills `RunOptions.stateReads` and gives each
   * reduce item the fold's state before it as `ctx.state` (createCodeRunner's
   * does). Cells batch calls across state changes only for such a runner.
   */
  readonly tracksReads?: boolean;
  validate(items: ReadonlyArray<HookItem>, opts?: RunOptions): ValidateResult[];
  transform(items: ReadonlyArray<HookItem>, opts?: RunOptions): TransformResult[];
  /** Folds in order; a faulting or refused item leaves the state as it was before it. */
  reduce(
    state: Json,
    items: ReadonlyArray<HookItem>,
    opts?: RunOptions,
  ): { state: Json; results: Array<ReduceItemResult> };
  /**
   * A block through both hooks in one call: for each item in order, validate
   * (against the fold's state before it, as `ctx.state`) and, when it accepts
   * and the item is not in `validateOnly` (positions in `items`), reduce. Each
   * item's two hooks share its time budget; each gets its own copy of the data,
   * random stream and record reads. Without a validate hook, reduce alone.
   * Present on runners that track reads.
   */
  fold?(state: Json, items: ReadonlyArray<HookItem>, opts?: RunOptions & { validateOnly?: ReadonlySet<number> }): { state: Json; results: FoldItemResult[] };
  /** The isolate's heap now (V8 heap statistics), undefined without a live isolate; for metrics only. */
  heap?(): { usedBytes: number; totalBytes: number; limitBytes: number } | undefined;
  /** Frees the isolate. Calls after dispose throw SANDBOX_DISPOSED. */
  dispose(): void;
  /** True once dispose() ran. */
  readonly disposed: boolean;
}

/**
 * One input of a fold through validate (`CodeRunner.fold`): validate's result,
 * and reduce's when validate accepted and the input was not validate-only.
 */
export interface FoldItemResult {
  validate: ValidateResult;
  reduce?: ReduceItemResult;
}

/** Per-cell limits as written in the channel (`limits: { memoryMb, timeMs, blockTimeMs }`). */
export interface SandboxLimits {
  memoryMb: number;
  timeMs: number;
  /** Time all the hook calls of one block share, in ms (1..10000; default 2000). */
  blockTimeMs?: number;
}

export interface CreateCodeRunnerOptions {
  /** For messages and logs, e.g. `air-quality/districts`. */
  name: string;
  source: string;
  /** Path shown in positions and stack traces. */
  file: string;
  limits: SandboxLimits;
  /** Largest JSON text (UTF-16 code units) one input's output may take. Default 1 MiB. */
  maxOutputChars?: number;
  /**
   * Largest JSON text of the state a reduce hook returns. Default 16 MiB, and
   * never more than the state the isolate can take (`memoryMb * STATE_CHARS_PER_MB`).
   */
  maxStateChars?: number;
  /** Most `ctx.record` reads of one input; one more faults it SANDBOX_RECORD_READS. Default 1000. */
  maxRecordReads?: number;
  /**
   * A node's cap on the block time of the blocks it proposes (its quota,
   * ms): lowers `limits.blockTimeMs` in proposer mode only, and never below
   * 3/4 of it (`blockLimitMs`, `PROPOSER_CAP_FLOOR`). Verdict messages still
   * name `limits.blockTimeMs`, so they are the same on every validator.
   * Validator mode keeps the cell's own limits. Omitted: no cap.
   */
  proposerBlockTimeMs?: number;
  /**
   * Called by isolated-vm when V8 lost control of the isolate (its resources
   * are unrecoverable): the node should log, stop taking work and exit.
   */
  onCatastrophicError?: (message: string) => void;
}
