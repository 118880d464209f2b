/**
 * Canonical JSON (RFC 8785, JCS). Everything validators hash or sign goes
 * through here, so two machines that hold equal values produce equal bytes.
 * `canonicalize` implements the number and string rules of the RFC; we add the
 * checks it leaves to callers: no NaN/Infinity, no undefined, no functions,
 * no cycles, plain objects only.
 */
import canonicalizeJcs from "canonicalize";
import { StatecellError } from "./errors.js";

/** A JSON value as statecell stores and hashes it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const encoder = new TextEncoder();

/**
 * Throws CORE_NOT_JSON when `value` holds something JSON cannot carry
 * faithfully (non-finite numbers, undefined, functions, symbols, bigints,
 * class instances, cycles). Depth-limited so hostile values cannot overflow
 * the stack.
 */
export function assertJson(value: unknown, maxDepth = 256): asserts value is Json {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string, depth: number): void => {
    if (depth > maxDepth) {
      throw new StatecellError("CORE_NOT_JSON", `value nests deeper than ${maxDepth} levels at ${path}`, {
        remedy: "flatten the value",
        payload: { path },
      });
    }
    if (v === null || typeof v === "string" || typeof v === "boolean") return;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) {
        throw new StatecellError("CORE_NOT_JSON", `${String(v)} at ${path} is not a JSON number`, {
          remedy: "use a finite number, or null",
          payload: { path },
        });
      }
      return;
    }
    if (typeof v !== "object") {
      throw new StatecellError("CORE_NOT_JSON", `a ${typeof v} at ${path} cannot be encoded as JSON`, {
        remedy: "use only null, booleans, numbers, strings, arrays and plain objects",
        payload: { path },
      });
    }
    if (seen.has(v)) {
      throw new StatecellError("CORE_NOT_JSON", `the value at ${path} refers to itself`, { payload: { path } });
    }
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i], `${path}/${i}`, depth + 1);
    } else {
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new StatecellError("CORE_NOT_JSON", `the object at ${path} is not a plain object`, {
          remedy: "use plain objects",
          payload: { path },
        });
      }
      for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k], `${path}/${k}`, depth + 1);
    }
    seen.delete(v);
  };
  walk(value, "", 0);
}

/** RFC 8785 canonical text of a JSON value. */
export function canonicalString(value: unknown): string {
  assertJson(value);
  const s = canonicalizeJcs(value);
  if (s === undefined) {
    throw new StatecellError("CORE_NOT_JSON", "value has no JSON encoding", { remedy: "pass a JSON value" });
  }
  return s;
}

/** RFC 8785 canonical UTF-8 bytes of a JSON value. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalString(value));
}

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}
