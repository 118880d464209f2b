/**
 * `var` paths: splitting, the forbidden segments, and own-property lookup.
 *
 * Paths split on "." exactly like json-logic-js (no escapes), so a rule means
 * the same thing in the reference interpreter, in templates and in state paths.
 * Lookups read own properties only: a JSON value never needs an inherited
 * property, and reading one is how prototype tricks start (DESIGN.md, Security).
 * Text is a sequence of code points (text.ts): `s.length` counts them and
 * `s.0` is the first code point, never half of a surrogate pair.
 */
import { StatecellError } from "../core/errors.js";
import { codePointAt, codePointLength, cutText, toWellFormed } from "./text.js";

/** Segments no path may contain, anywhere (DESIGN.md, Security). */
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

const hasOwn = Object.prototype.hasOwnProperty;

/** Splits a `var` path into segments ("a.b.0" -> ["a", "b", "0"]); numbers are one segment. */
export function splitPath(path: string | number): string[] {
  return typeof path === "number" ? [String(path)] : path.split(".");
}

/** The first forbidden segment of a path, or undefined. */
export function forbiddenSegment(segments: readonly string[]): string | undefined {
  for (const s of segments) if (FORBIDDEN_SEGMENTS.has(s)) return s;
  return undefined;
}

/** The error a computed path with a forbidden segment raises at run time. */
export function forbiddenAtRuntime(path: string, segment: string): StatecellError {
  // A computed path is data: only its start goes into the message, so the message stays short.
  const shown = toWellFormed(cutText(path, 64));
  return new StatecellError("RULES_RUNTIME", `the computed path "${shown}" contains "${segment}", which rules may not read`, {
    remedy: "compute paths only from values that cannot contain __proto__, constructor or prototype",
    payload: { path: shown, segment },
  });
}

/**
 * True when `o` is an object with an own property `key` (what compiled var
 * paths step through). Text is not stepped through here: its `length` and
 * indices count code points, which `resolveSegments` computes.
 */
export const ownProperty = Object.assign(
  (o: unknown, key: string): boolean => o !== null && typeof o === "object" && hasOwn.call(o, key),
  { [Symbol.for("json_logic_sync")]: true },
);

/** True for "0", "1", ... "4294967294": the segments that index a list or text (as own properties do). */
function isIndex(seg: string): boolean {
  if (seg.length === 0 || seg.length > 10) return false;
  if (seg.length > 1 && seg.charCodeAt(0) === 48) return false; // "01" is not an index
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(seg) < 4_294_967_295;
}

/**
 * One step into text: `length` is its number of code points, an index is the
 * code point there; anything else is missing. `charge` pays for the scan.
 */
function textStep(s: string, seg: string, charge: ((n: number) => void) | undefined): unknown {
  if (seg !== "length" && !isIndex(seg)) return undefined;
  if (charge !== undefined) charge(s.length >>> 6); // one visit per 64 code units scanned, like cat
  return seg === "length" ? codePointLength(s) : codePointAt(s, Number(seg));
}

/**
 * Walks `segments` from `root` through own properties only. Returns `notFound`
 * when a step is missing (json-logic-js semantics: a present `null` is returned
 * as null, the default applies only to a missing value). A step into text reads
 * code points (see textStep); `charge`, when given, is called with the work
 * that costs.
 */
export function resolveSegments(root: unknown, segments: readonly string[], notFound: unknown, charge?: (n: number) => void): unknown {
  let cur = root;
  for (let i = 0; i < segments.length; i++) {
    if (cur === null || cur === undefined) return notFound;
    const seg = segments[i];
    if (typeof cur === "string") cur = textStep(cur, seg, charge);
    else if (typeof cur !== "object" || !hasOwn.call(cur, seg)) return notFound; // numbers and booleans have no properties
    else cur = (cur as Record<string, unknown>)[seg];
    if (cur === undefined) return notFound;
  }
  return cur;
}

/**
 * Resolves a path computed at run time: rejects forbidden segments before
 * reading anything, then walks own properties.
 */
export function resolveDynamic(root: unknown, path: unknown, notFound: unknown, charge?: (n: number) => void): unknown {
  if (path === undefined || path === null || path === "") return root;
  if (typeof path !== "string" && typeof path !== "number") {
    throw new StatecellError("RULES_RUNTIME", `a var path must be text or a number, got ${describeType(path)}`, {
      remedy: "compute the path as text, e.g. with cat",
    });
  }
  const segments = splitPath(path);
  const bad = forbiddenSegment(segments);
  if (bad !== undefined) throw forbiddenAtRuntime(String(path), bad);
  return resolveSegments(root, segments, notFound, charge);
}

/** "a list", "an object", "a number" ... for messages. */
export function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  const t = typeof v;
  return t === "object" ? "an object" : t === "undefined" ? "nothing" : `a ${t}`;
}
