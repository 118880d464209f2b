/**
 * `var` paths: splitting, the forbidden segments, and own-property lookup.
 *
 * Paths split on "." exactly like json-logic-js (no escapes), so a rule means
 * the same thing in the reference interpreter, in templates and in state paths.
 * Lookups read own properties only: a JSON value never needs an inherited
 * property, and reading one is how prototype tricks start (DESIGN.md, Security).
 */
import { StatecellError } from "../core/errors.js";

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
  return new StatecellError("RULES_RUNTIME", `the computed path "${path}" contains "${segment}", which rules may not read`, {
    remedy: "compute paths only from values that cannot contain __proto__, constructor or prototype",
    payload: { path, segment },
  });
}

/** True when `o` is an object or string with an own property `key` (what compiled var paths step through). */
export const ownProperty = Object.assign(
  (o: unknown, key: string): boolean =>
    o !== null && o !== undefined && (typeof o === "object" || typeof o === "string") && hasOwn.call(o, key),
  { [Symbol.for("json_logic_sync")]: true },
);

/**
 * Walks `segments` from `root` through own properties only. Returns `notFound`
 * when a step is missing (json-logic-js semantics: a present `null` is returned
 * as null, the default applies only to a missing value).
 */
export function resolveSegments(root: unknown, segments: readonly string[], notFound: unknown): unknown {
  let cur = root;
  for (let i = 0; i < segments.length; i++) {
    if (cur === null || cur === undefined) return notFound;
    const seg = segments[i];
    // Strings have own index and length properties; numbers and booleans have none.
    if ((typeof cur !== "object" && typeof cur !== "string") || !hasOwn.call(cur, seg)) return notFound;
    cur = (cur as Record<string, unknown>)[seg];
    if (cur === undefined) return notFound;
  }
  return cur;
}

/**
 * Resolves a path computed at run time: rejects forbidden segments before
 * reading anything, then walks own properties.
 */
export function resolveDynamic(root: unknown, path: unknown, notFound: unknown): unknown {
  if (path === undefined || path === null || path === "") return root;
  if (typeof path !== "string" && typeof path !== "number") {
    throw new StatecellError("RULES_RUNTIME", `a var path must be text or a number, got ${describeType(path)}`, {
      remedy: "compute the path as text, e.g. with cat",
    });
  }
  const segments = splitPath(path);
  const bad = forbiddenSegment(segments);
  if (bad !== undefined) throw forbiddenAtRuntime(String(path), bad);
  return resolveSegments(root, segments, notFound);
}

/** "an array", "an object", "a number" ... for messages. */
export function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  const t = typeof v;
  return t === "object" ? "an object" : t === "undefined" ? "nothing" : `a ${t}`;
}
