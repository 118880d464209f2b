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

/**
 * One part of a computed path: a literal segment, or a `{placeholder}` whose
 * value fills exactly one segment. `placeholder` is a plain `var` path (no
 * braces), trimmed of surrounding spaces.
 */
export type PathPart = { readonly literal: string } | { readonly placeholder: string };

/** A parsed computed path, or what is wrong with it (`offset`: the code unit where the problem starts). */
export type ParsedPath =
  | { readonly ok: true; readonly parts: readonly PathPart[] }
  | { readonly ok: false; readonly message: string; readonly offset: number };

/**
 * True when `path` is computed: text with a `{` or `}` in it. A `var` path
 * with no brace keeps json-logic-js semantics (split on every dot); one with a
 * brace is parsed by parseComputedPath, so no brace is ever read as part of a key.
 */
export function isComputedPath(path: unknown): path is string {
  return typeof path === "string" && (path.includes("{") || path.includes("}"));
}

/**
 * Most placeholders one path may have. Real paths have one to three; each
 * placeholder is compiled as a var of its own, and a path of 10,000 of them
 * (one string, a single node for the expression limits) took 0.6 s to compile
 * and one of 70,000 could not be compiled at all.
 */
export const MAX_PLACEHOLDERS = 16;

/**
 * Splits a computed path (`state.nfts.{data.collection}.{data.token}.owner`)
 * into literal segments and placeholders. The one definition of a segment for
 * both reading (`var`, message templates) and writing (state-update paths):
 * dots outside braces separate segments; a segment is either a name without
 * braces or exactly one `{path}`; dots inside a placeholder belong to its path,
 * and its value fills one segment whatever it contains (placeholderSegment).
 * Refused: an empty segment (two dots in a row, a dot at an end), an empty
 * `{}`, a `{` inside a placeholder, an unclosed `{`, a lone `}`, and a segment
 * that mixes text and a placeholder (`a{data.x}`), and more than
 * MAX_PLACEHOLDERS placeholders. A path without braces is
 * split on its dots (under the same rule for empty segments). Forbidden
 * segments and roots are not checked here (check.ts and the loader do). Never throws.
 *
 * @example
 * parseComputedPath("totals.{data.district}.count")
 * // { ok: true, parts: [{ literal: "totals" }, { placeholder: "data.district" }, { literal: "count" }] }
 */
export function parseComputedPath(text: string): ParsedPath {
  const parts: PathPart[] = [];
  let start = 0; // code unit where the current segment starts
  let open = -1; // code unit of the `{` of the current segment, or -1
  let close = -1; // code unit of its `}`, or -1
  let placeholders = 0;
  const fail = (message: string, offset: number): ParsedPath => ({ ok: false, message: `${quotePath(text)} ${message}`, offset });
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // the end closes the last segment like a dot
    if (c === 123 /* { */) {
      if (open >= 0 && close < 0) return fail(`has a "{" at character ${i + 1} inside the placeholder opened at character ${open + 1}; placeholders do not nest`, i);
      if (open >= 0 || i > start) return fail(`mixes text and a placeholder in the segment ${quotePath(segmentAround(text, start))}; a segment is either a name or one {placeholder}`, start);
      open = i;
    } else if (c === 125 /* } */) {
      if (open < 0 || close >= 0) return fail(`has a "}" at character ${i + 1} without a "{"`, i);
      close = i;
    } else if (open >= 0 && close < 0) {
      if (i === text.length) return fail(`has a "{" at character ${open + 1} that is never closed`, open);
      // inside a placeholder: dots and everything else belong to its path
    } else if (c === 46 /* . */) {
      if (i === start) return fail(`has an empty segment at character ${i + 1} (two dots in a row, or a dot at an end)`, i);
      if (open >= 0) {
        const inner = text.slice(open + 1, close).trim();
        if (inner === "") return fail(`has an empty placeholder "{}" at character ${open + 1}`, open);
        if (++placeholders > MAX_PLACEHOLDERS) return fail(`has more than ${MAX_PLACEHOLDERS} placeholders (the one at character ${open + 1} is the ${placeholders}th)`, open);
        parts.push({ placeholder: inner });
      } else parts.push({ literal: text.slice(start, i) });
      start = i + 1;
      open = -1;
      close = -1;
    } else if (close >= 0) {
      return fail(`mixes text and a placeholder in the segment ${quotePath(segmentAround(text, start))}; a segment is either a name or one {placeholder}`, start);
    }
  }
  return { ok: true, parts };
}

/** The segment starting at `start` (up to the next dot outside braces), for messages. */
function segmentAround(text: string, start: number): string {
  let depth = 0;
  let i = start;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123) depth++;
    else if (c === 125) depth--;
    else if (c === 46 && depth <= 0) break;
  }
  return text.slice(start, i);
}

/** A path in quotes for a message, its start only when it is long (paths come from channel files and data). */
function quotePath(text: string): string {
  return `"${toWellFormed(cutText(text, 120))}"`;
}

/**
 * The segment a placeholder's value fills: text as it is, a whole number
 * (0 to 2^53 − 1) as its decimal text. Anything else (null, a boolean, a list,
 * an object, a negative or fractional number, empty text, or a forbidden
 * segment) fills no segment: undefined, so the path names nothing. The
 * same rule for reading (`var`) and writing (state-update paths), so a value
 * written at `seen.{data.name}` is read back by `state.seen.{data.name}`.
 */
export const placeholderSegment = Object.assign(
  (v: unknown): string | undefined => {
    // FORBIDDEN_SEGMENTS spelt out: with a Set lookup here a rule reading a two-placeholder path
    // took ~125 ns per evaluation, with the comparisons ~90 ns (a plain path of the same depth: ~37 ns).
    if (typeof v === "string") return v === "" || v === "__proto__" || v === "constructor" || v === "prototype" ? undefined : v;
    if (typeof v === "number" && v >= 0 && Number.isSafeInteger(v)) return String(v); // -0 is "0"
    return undefined;
  },
  { [Symbol.for("json_logic_sync")]: true },
);

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
