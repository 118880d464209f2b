/**
 * Sandbox limits: defaults and operator maximums (BRIEF channel language:
 * `limits: { memoryMb: 32, timeMs: 50 }`, maximums 256 / 1000).
 */
import { StatecellError } from "../core/index.js";
import type { SandboxLimits } from "./types.js";

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze({ memoryMb: 32, timeMs: 50 });
export const MAX_MEMORY_MB = 256;
/** isolated-vm refuses heaps under 8 MB. */
export const MIN_MEMORY_MB = 8;
export const MAX_TIME_MS = 1000;
export const DEFAULT_MAX_OUTPUT_CHARS = 1 << 20;
export const DEFAULT_MAX_STATE_CHARS = 16 << 20;

/**
 * Checks limits against the operator range; throws SANDBOX_LIMITS naming the
 * allowed range so a channel author knows what to write instead.
 */
export function checkLimits(limits: SandboxLimits, where: string): SandboxLimits {
  const { memoryMb, timeMs } = limits;
  if (!Number.isInteger(memoryMb) || memoryMb < MIN_MEMORY_MB || memoryMb > MAX_MEMORY_MB) {
    throw new StatecellError("SANDBOX_LIMITS", `${where}: memoryMb ${String(memoryMb)} is outside ${MIN_MEMORY_MB}..${MAX_MEMORY_MB}`, {
      remedy: `write limits: { memoryMb: N } with an integer N from ${MIN_MEMORY_MB} to ${MAX_MEMORY_MB} (default ${DEFAULT_LIMITS.memoryMb})`,
    });
  }
  checkTimeMs(timeMs, where);
  return { memoryMb, timeMs };
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
