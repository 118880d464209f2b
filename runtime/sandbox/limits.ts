/**
 * Sandbox limits: defaults and operator maximums (channel language:
 * `limits: { memoryMb: 32, timeMs: 50, blockTimeMs: 2000 }`, maximums 256 /
 * 1000 / 10000, schemas/channel.schema.json).
 */
import { StatecellError } from "../core/index.js";
import type { SandboxLimits } from "./types.js";

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze({ memoryMb: 32, timeMs: 50, blockTimeMs: 2000 });
export const MAX_MEMORY_MB = 256;
/** isolated-vm refuses heaps under 8 MB. */
export const MIN_MEMORY_MB = 8;
export const MAX_TIME_MS = 1000;
export const DEFAULT_MAX_OUTPUT_CHARS = 1 << 20;
export const DEFAULT_MAX_STATE_CHARS = 16 << 20;
/** Default time all the hook calls of one block share (the plan's default, runtime/definition). */
export const DEFAULT_BLOCK_TIME_MS = 2000;
/** Largest `limits.blockTimeMs` (schemas/channel.schema.json). */
export const MAX_BLOCK_TIME_MS = 10_000;
/** Default most `ctx.record` reads of one input. */
export const DEFAULT_MAX_RECORD_READS = 1000;
/**
 * JSON characters of state a call may copy into the isolate, per MB of heap
 * (2 Mi for 32 MB, 16 Mi for 256 MB). Measured: a parsed state takes 2.5-3
 * bytes of heap per character of its JSON, and a reduce call holds the
 * block-start state, the fold state, a checked copy and two texts of it
 * (about 13 bytes per character), besides the hook's own work.
 */
export const STATE_CHARS_PER_MB = 1 << 16;

/** Limits with every field set, as a runner uses them. */
export type ResolvedLimits = Required<SandboxLimits>;

/**
 * Checks limits against the operator range; throws SANDBOX_LIMITS naming the
 * allowed range so a channel author knows what to write instead.
 */
export function checkLimits(limits: SandboxLimits, where: string): ResolvedLimits {
  const { memoryMb, timeMs } = limits;
  const blockTimeMs = limits.blockTimeMs ?? DEFAULT_BLOCK_TIME_MS;
  if (!Number.isInteger(memoryMb) || memoryMb < MIN_MEMORY_MB || memoryMb > MAX_MEMORY_MB) {
    throw new StatecellError("SANDBOX_LIMITS", `${where}: memoryMb ${String(memoryMb)} is outside ${MIN_MEMORY_MB}..${MAX_MEMORY_MB}`, {
      remedy: `write limits: { memoryMb: N } with an integer N from ${MIN_MEMORY_MB} to ${MAX_MEMORY_MB} (default ${DEFAULT_LIMITS.memoryMb})`,
    });
  }
  checkTimeMs(timeMs, where);
  if (!Number.isInteger(blockTimeMs) || blockTimeMs < 1 || blockTimeMs > MAX_BLOCK_TIME_MS) {
    throw new StatecellError("SANDBOX_LIMITS", `${where}: blockTimeMs ${String(blockTimeMs)} is outside 1..${MAX_BLOCK_TIME_MS}`, {
      remedy: `write limits: { blockTimeMs: N } with an integer N from 1 to ${MAX_BLOCK_TIME_MS} (default ${DEFAULT_BLOCK_TIME_MS})`,
    });
  }
  return { memoryMb, timeMs, blockTimeMs };
}

/** Throws SANDBOX_LIMITS unless `timeMs` is an integer in 1..MAX_TIME_MS. */
export function checkTimeMs(timeMs: number, where: string): number {
  if (!Number.isInteger(timeMs) || timeMs < 1 || timeMs > MAX_TIME_MS) {
    throw new StatecellError("SANDBOX_LIMITS", `${where}: timeMs ${String(timeMs)} is outside 1..${MAX_TIME_MS}`, {
      remedy: `write limits: { timeMs: N } with an integer N from 1 to ${MAX_TIME_MS} (default ${DEFAULT_LIMITS.timeMs})`,
    });
  }
  return timeMs;
}
