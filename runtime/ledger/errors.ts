/**
 * LEDGER_* errors (docs/errors.md, "ledger"): what happened with the actual
 * and expected values, and what to do instead.
 */
import { StatecellError } from "../core/errors.js";

/** A StatecellError of the ledger module. */
export function ledgerError(code: string, message: string, remedy: string, payload: Record<string, unknown> = {}, cause?: unknown): StatecellError {
  return new StatecellError(code, message, { remedy, payload, ...(cause === undefined ? {} : { cause }) });
}

/** `s` cut to `n` characters for a message (names and hashes from callers can be long). */
export function clip(s: string, n = 80): string {
  return s.length <= n ? s : `${s.slice(0, n)}...`;
}

/** `n` as a row count for LIMIT: a whole number from 0 to `max` (SQLite reads a negative LIMIT as no limit). */
export function rowLimit(n: number, max: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.min(Math.floor(n), max)) : 0;
}
