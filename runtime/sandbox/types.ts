/**
 * The sandbox contract (BRIEF "Sandbox API"): what cells see of code hooks.
 * Everything that crosses this boundary is plain JSON; no host reference ever
 * enters an isolate and no isolate reference ever leaves one.
 */
import type { Json } from "../core/index.js";

export type HookName = "validate" | "transform" | "reduce";

/** The hook names, in the order lint reports them. */
export const HOOK_NAMES: readonly HookName[] = ["validate", "transform", "reduce"];

/** What a hook receives besides the data. Inside the isolate `ctx` also has `random()`. */
export interface HookContext {
  block: { height: number; time: number; hash: string };
  signer: string | null;
  /** Index of the input in its block; with `block.hash` it seeds `ctx.random()`. */
  index: number;
  /** Read-only (deep-frozen inside the isolate) view of the cell state. */
  state: Json;
}

export type SandboxFaultCode = "SANDBOX_TIMEOUT" | "SANDBOX_MEMORY" | "SANDBOX_THROW" | "SANDBOX_OUTPUT";

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
export type ReduceItemResult = { ok: true } | SandboxFault;

/** One input as hooks see it. */
export interface HookItem {
  data: Json;
  ctx: HookContext;
}

/**
 * Per-call options: how the caller's role in consensus bends the time budget
 * (docs/sandbox.md "Timeouts"). Omitted: proposer mode, budget `limits.timeMs`.
 */
export interface RunOptions {
  /** Replaces `limits.timeMs` as the per-input budget of this call (1..1000). */
  timeMs?: number;
  /**
   * Validator mode. `timedOut` lists the `ctx.index` of inputs the proposer
   * reported as SANDBOX_TIMEOUT. Such an input is a timeout here too iff it
   * runs at least `timeMs * TIMEOUT_AGREE_FRACTION`; every other input gets
   * the grace budget `timeMs * TIMEOUT_GRACE_FACTOR` before it is a timeout.
   */
  verify?: { timedOut: readonly number[] };
}

/** A compiled hook file bound to one isolate; one per hosted (channel, cell). */
export interface CodeRunner {
  readonly hooks: readonly HookName[];
  validate(items: ReadonlyArray<HookItem>, opts?: RunOptions): ValidateResult[];
  transform(items: ReadonlyArray<HookItem>, opts?: RunOptions): TransformResult[];
  /** Folds in order; a faulting item leaves the state as it was before it. */
  reduce(
    state: Json,
    items: ReadonlyArray<HookItem>,
    opts?: RunOptions,
  ): { state: Json; results: Array<ReduceItemResult> };
  /** Frees the isolate. Calls after dispose throw SANDBOX_DISPOSED. */
  dispose(): void;
  /** True once dispose() ran. */
  readonly disposed: boolean;
}

/** Per-cell limits as written in the channel (`limits: { memoryMb, timeMs }`). */
export interface SandboxLimits {
  memoryMb: number;
  timeMs: number;
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
  /** Largest JSON text of the state a reduce hook returns. Default 16 MiB. */
  maxStateChars?: number;
  /**
   * Called by isolated-vm when V8 lost control of the isolate (its resources
   * are unrecoverable): the node should log, stop taking work and exit.
   */
  onCatastrophicError?: (message: string) => void;
}
