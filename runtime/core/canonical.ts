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

/** Thrown by the fast encoder when the value needs the checked path (an error, or something unusual). */
const SLOW = Symbol("canonical: slow path");
/** Any UTF-16 surrogate: only a string with one needs the exact lone-surrogate scan. */
const SURROGATE = /[\uD800-\uDFFF]/;
const MAX_DEPTH = 256;

function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function fastString(s: string): string {
  if (SURROGATE.test(s) && hasLoneSurrogate(s)) throw SLOW;
  return JSON.stringify(s);
}

/**
 * RFC 8785 text in one walk: keys sorted by UTF-16 code units, strings and
 * numbers as ECMAScript's JSON.stringify writes them (what the RFC
 * prescribes, and what `canonicalize` does). It returns only for values
 * `assertJson` accepts and `canonicalize` encodes; anything else (a
 * non-finite number, undefined, a class instance, a lone surrogate, a cycle
 * or nesting past MAX_DEPTH) throws SLOW, and the checked path gives the
 * exact error. Equal output to the checked path is pinned by a property
 * test (test/unit/core/canonical-fast.test.ts).
 */
function fast(v: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw SLOW;
  switch (typeof v) {
    case "string":
      return fastString(v);
    case "number":
      if (!Number.isFinite(v)) throw SLOW;
      return JSON.stringify(v);
    case "boolean":
      return v ? "true" : "false";
    case "object": {
      if (v === null) return "null";
      if (Array.isArray(v)) {
        let out = "[";
        for (let i = 0; i < v.length; i++) out += (i === 0 ? "" : ",") + fast(v[i], depth + 1);
        return out + "]";
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) throw SLOW;
      const keys = Object.keys(v).sort();
      let out = "{";
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        out += (i === 0 ? "" : ",") + fastString(k) + ":" + fast((v as Record<string, unknown>)[k], depth + 1);
      }
      return out + "}";
    }
    default:
      throw SLOW;
  }
}

/** RFC 8785 canonical text of a JSON value. */
export function canonicalString(value: unknown): string {
  try {
    return fast(value, 0);
  } catch (e) {
    if (e !== SLOW && !(e instanceof RangeError)) throw e;
    // The checked path: the same text for what it accepts, and its exact error for what it does not.
  }
  return checkedCanonicalString(value);
}

/** The checked path: `assertJson`, then the `canonicalize` package (the reference the fast path must equal). */
export function checkedCanonicalString(value: unknown): string {
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
