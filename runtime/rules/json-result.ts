/**
 * Turning whatever an evaluation produced into a fresh JSON value, and turning
 * whatever it threw into RULES_RUNTIME.
 *
 * Results are copied so a caller can store them in state without aliasing the
 * input or the plan's literals, and `undefined` becomes null so nothing
 * un-encodable leaks into canonical JSON (DESIGN.md, Determinism).
 */
import type { Json } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";

/** Deepest result we copy; deeper values are refused rather than overflowing the stack. */
export const MAX_RESULT_DEPTH = 256;

const hasOwn = Object.prototype.hasOwnProperty;

/** A fresh JSON copy of `value`; throws RULES_RUNTIME for non-finite numbers or over-deep values. */
export function toJsonResult(value: unknown): Json {
  return copy(value, 0);
}

function copy(v: unknown, depth: number): Json {
  if (v === undefined || v === null) return null;
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      if (!Number.isFinite(v)) throw runtimeError(`the result ${String(v)} is not a finite number`, "keep arithmetic within finite numbers (check for division by zero and overflow)");
      return v === 0 ? 0 : v; // -0 and 0 encode alike; keep one of them
    case "object": {
      if (depth >= MAX_RESULT_DEPTH) throw runtimeError(`the result nests deeper than ${MAX_RESULT_DEPTH} levels`, "return a flatter value");
      if (Array.isArray(v)) {
        const out: Json[] = new Array<Json>(v.length);
        for (let i = 0; i < v.length; i++) out[i] = copy(v[i], depth + 1);
        return out;
      }
      const out: { [k: string]: Json } = {};
      for (const k of Object.keys(v)) {
        if (!hasOwn.call(v, k)) continue;
        const x = copy((v as Record<string, unknown>)[k], depth + 1);
        // A plain assignment to "__proto__" would set the prototype instead of a key.
        if (k === "__proto__") Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
        else out[k] = x;
      }
      return out;
    }
    default:
      throw runtimeError(`the result is a ${typeof v}, not a JSON value`, "return only JSON values");
  }
}

/** A RULES_RUNTIME error with a message and a remedy. */
export function runtimeError(message: string, remedy: string, cause?: unknown): StatecellError {
  return new StatecellError("RULES_RUNTIME", message, { remedy, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Maps what json-logic-engine throws (NaN, `{ type }` objects, TypeError,
 * RangeError) to RULES_RUNTIME with a readable message.
 */
export function toRuntimeError(e: unknown): StatecellError {
  if (e instanceof StatecellError) {
    // CORE_NOT_JSON from canonical encoding (cat of a value nested too deep) is still a rule fault.
    return e.code === "RULES_RUNTIME" ? e : runtimeError(e.message, e.remedy ?? "check the values the expression reads", e);
  }
  if (typeof e === "number" && Number.isNaN(e)) {
    return runtimeError("arithmetic or a comparison met a value that is not a number", "check that the values are numbers (e.g. with a schema) before comparing or computing with them", e);
  }
  if (e instanceof RangeError) return runtimeError(`the expression ran out of room: ${e.message}`, "use smaller or flatter values", e);
  if (e instanceof Error) return runtimeError(`the expression failed: ${e.message}`, "check the types of the values the expression reads", e);
  if (e !== null && typeof e === "object" && typeof (e as { type?: unknown }).type === "string") {
    const type = (e as { type: string }).type;
    const hint =
      type === "Exceeded Allowed Depth"
        ? "a reduce accumulator may hold only flat values (numbers, text, or a flat list/object)"
        : "check the number and types of the operator's arguments";
    return runtimeError(`the expression failed: ${type}`, hint, e);
  }
  return runtimeError("the expression failed", "check the values the expression reads", e);
}
