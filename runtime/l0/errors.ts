/**
 * L0_* refusals and errors (docs/errors.md, "l0"). A refusal is an answer to
 * what a stranger sent (a value, never a throw); an error is thrown only for
 * mistakes of the caller or the operator (configuration, key files, the data
 * folder). Both say what happened with the actual and the required values,
 * and what to send or write instead.
 */
import type { Json } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import type { Refusal } from "./types.js";

/** A refusal with its code, the actual and the required values. */
export function refuse(code: string, message: string, remedy: string, actual: Json = null, required: Json = null): Refusal {
  return { code, message, remedy, actual, required };
}

/** A StatecellError of the l0 module. */
export function l0Error(code: string, message: string, remedy: string, payload: Record<string, unknown> = {}, cause?: unknown): StatecellError {
  return new StatecellError(code, message, { remedy, payload, ...(cause === undefined ? {} : { cause }) });
}

/** The first 12 characters of a hash or key, for messages (the full values are in `actual` / `required`). */
export function short(s: unknown): string {
  return typeof s === "string" ? (s.length > 12 ? `${s.slice(0, 12)}…` : s) : String(s);
}

/** A value shown in a message, cut to `n` characters (names and texts from strangers can be long). */
export function shown(v: unknown, n = 80): string {
  let s: string;
  try {
    s = typeof v === "string" ? JSON.stringify(v) : v === undefined ? "nothing" : (JSON.stringify(v) ?? String(v));
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s.length <= n ? s : `${s.slice(0, n)}…`;
}
