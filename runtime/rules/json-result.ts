/**
 * Turning whatever an evaluation produced into a fresh JSON value, and turning
 * whatever it threw into RULES_RUNTIME.
 *
 * Results are copied so a caller can store them in state without aliasing the
 * input or the plan's literals, and `undefined` becomes null so nothing
 * un-encodable leaks into canonical JSON (docs/architecture.md, "What validators compare"). A number
 * in a result must be exact: within ±(2^53 − 1) (see inexactNumber).
 */
import type { Json } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";

/** Deepest result we copy; deeper values are refused rather than overflowing the stack. */
export const MAX_RESULT_DEPTH = 256;

const hasOwn = Object.prototype.hasOwnProperty;

/** A fresh JSON copy of `value`; throws RULES_RUNTIME for numbers beyond ±(2^53 − 1) (or not finite) and over-deep values. */
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
      if (!(v <= Number.MAX_SAFE_INTEGER && v >= -Number.MAX_SAFE_INTEGER)) throw inexactNumber("the result", v);
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

/**
 * The fault for a number a rule may not produce: not finite, or an integer
 * beyond ±(2^53 − 1), where doubles no longer hold every integer (2^53 + 1
 * rounds to 2^53). Every double that large is an integer, so the test is the
 * magnitude alone. `what` says whose number it is ("the result of +").
 */
export function inexactNumber(what: string, v: number): StatecellError {
  if (Number.isNaN(v)) return runtimeError(`${what} is not a number`, "check the values are numbers before computing with them");
  if (!Number.isFinite(v)) return runtimeError(`${what} is ${v > 0 ? "" : "-"}infinite`, "keep arithmetic within finite numbers (check for division by zero and overflow)");
  return runtimeError(
    `${what} is ${String(v)}, beyond ±(2^53 − 1) = ±9,007,199,254,740,991, where numbers are no longer exact (2^53 + 1 rounds to 2^53)`,
    "keep numbers within ±9,007,199,254,740,991; send larger numbers (amounts in small units, big ids) as text, and compare or store them as text",
  );
}

/** A RULES_RUNTIME error with a message and a remedy. */
export function runtimeError(message: string, remedy: string, cause?: unknown): StatecellError {
  return new StatecellError("RULES_RUNTIME", message, { remedy, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Maps whatever an evaluation threw to RULES_RUNTIME in statecell's own words.
 *
 * Validators compare verdicts, messages included, so a message must never
 * carry text written by V8 or a library: another Node version words its
 * TypeErrors differently ("x.map is not a function"), and library errors
 * change between versions. statecell's operators throw their own
 * RULES_RUNTIME (naming the operator and the value); what is left here are
 * the engine's own guards, mapped to fixed sentences. The original error is
 * kept as `cause`, which no verdict contains.
 */
export function toRuntimeError(e: unknown): StatecellError {
  if (e instanceof StatecellError) {
    // Another module's error (core's, say) is still a rule fault; its text is statecell's.
    return e.code.startsWith("RULES_") ? e : runtimeError(e.message, e.remedy ?? "check the values the expression reads", e);
  }
  if (typeof e === "number" && Number.isNaN(e)) {
    return runtimeError("an operator met a value that is not a number", "check that the values are numbers (e.g. with a schema) before comparing or computing with them", e);
  }
  if (e instanceof RangeError) {
    return runtimeError("the expression ran out of room: a value it built, or its nesting, is too large", "use smaller or flatter values", e);
  }
  if (e !== null && typeof e === "object" && (e as { type?: unknown }).type === "Exceeded Allowed Depth") {
    // json-logic-engine's guard on reduce accumulators (maxDepth 0 in engine.ts).
    return runtimeError(
      "reduce's accumulator became a list or object that holds lists or objects",
      "a reduce accumulator may hold only flat values (numbers, text, or a list/object of them); use map/filter, or a code hook",
      e,
    );
  }
  return runtimeError("an operator met a value it cannot work with", "check the types of the values the expression reads (a schema is the usual fix)", e);
}
