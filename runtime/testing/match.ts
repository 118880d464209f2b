/**
 * Partial matching of expected values against actual ones, as channel tests
 * use it for state and outputs: an expected object names only the keys it
 * cares about; arrays and scalars must match exactly (element by element,
 * same length). The first difference is reported with its path so the diff
 * points at the one value that is wrong rather than dumping both documents.
 */
import type { Json } from "../core/canonical.js";

/**
 * Written as an expected value, `"$absent"` asserts that the key is missing
 * (partial matching alone cannot say "this record was removed").
 */
export const ABSENT = "$absent";

/** The first difference between an expectation and a value. */
export interface Mismatch {
  /** `a.b[2].c`; "" for the value itself. */
  path: string;
  expected: Json;
  /** Undefined when the actual value has nothing at `path`. */
  actual: Json | undefined;
  /** What kind of difference, for the one-line message. */
  reason: "value" | "type" | "missing" | "present" | "length";
}

/**
 * First place where `actual` does not satisfy `expected`, or null when it does.
 * Objects: every key of `expected` must match (extra actual keys are ignored).
 * Arrays: same length, element-wise partial match. Scalars: strict equality.
 */
export function firstMismatch(expected: Json, actual: Json | undefined, path = ""): Mismatch | null {
  if (expected === ABSENT) {
    return actual === undefined ? null : { path, expected, actual, reason: "present" };
  }
  if (actual === undefined) return { path, expected, actual, reason: "missing" };
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return { path, expected, actual, reason: "type" };
    if (actual.length !== expected.length) {
      // Report the first differing element when there is one inside the shorter
      // length: it is usually the real cause; otherwise the length itself.
      const n = Math.min(actual.length, expected.length);
      for (let i = 0; i < n; i++) {
        const m = firstMismatch(expected[i], actual[i], `${path}[${i}]`);
        if (m) return m;
      }
      return { path, expected, actual, reason: "length" };
    }
    for (let i = 0; i < expected.length; i++) {
      const m = firstMismatch(expected[i], actual[i], `${path}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) {
      return { path, expected, actual, reason: "type" };
    }
    for (const k of Object.keys(expected)) {
      const child = Object.prototype.hasOwnProperty.call(actual, k) ? actual[k] : undefined;
      const m = firstMismatch(expected[k], child, joinPath(path, k));
      if (m) return m;
    }
    return null;
  }
  if (expected === actual) return null;
  const sameType = typeof expected === typeof actual && (expected === null) === (actual === null);
  return { path, expected, actual, reason: sameType ? "value" : "type" };
}

/** `a.b` for plain keys, `a["x.y"]` for keys a dot would make ambiguous. */
export function joinPath(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** The value at a path that firstMismatch produced, for display. */
export function describeMismatch(m: Mismatch): string {
  const at = m.path === "" ? "the value" : m.path;
  switch (m.reason) {
    case "missing":
      return `${at} is missing`;
    case "present":
      return `${at} should be absent`;
    case "length":
      return `${at} has ${(m.actual as Json[]).length} element(s), expected ${(m.expected as Json[]).length}`;
    case "type":
      return `${at} is ${kindOf(m.actual)}, expected ${kindOf(m.expected)}`;
    case "value":
      return `${at} differs`;
  }
}

function kindOf(v: Json | undefined): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `a ${typeof v}`;
}
