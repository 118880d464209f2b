/**
 * Text as the rules language sees it: a sequence of code points, never of
 * UTF-16 code units. `length` counts code points and `substr` cuts between
 * them, so no expression can split a surrogate pair into lone surrogates,
 * which canonical JSON (RFC 8785) refuses to encode. A lone surrogate that is
 * already in a string counts as one code point, as `for...of` iterates it.
 *
 * Everything here is pure and costs at most one pass over the text; callers
 * charge `s.length >>> 6` to the work budget before calling on long text.
 */

const HIGH_FIRST = 0xd800;
const HIGH_LAST = 0xdbff;
const LOW_FIRST = 0xdc00;
const LOW_LAST = 0xdfff;

/** True when code unit `i` of `s` starts a surrogate pair (a high surrogate followed by a low one). */
function pairAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < HIGH_FIRST || c > HIGH_LAST || i + 1 >= s.length) return false;
  const d = s.charCodeAt(i + 1);
  return d >= LOW_FIRST && d <= LOW_LAST;
}

/** Number of code points in `s` (a surrogate pair counts once). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if (pairAt(s, i)) {
      n--;
      i++;
    }
  }
  return n;
}

/** The code-unit offset where code point `index` starts (s.length when index is past the end). */
function unitOffset(s: string, index: number): number {
  let i = 0;
  for (let k = 0; k < index && i < s.length; k++) i += pairAt(s, i) ? 2 : 1;
  return i;
}

/** The code point at `index` (a string of one code point), or undefined past the end. */
export function codePointAt(s: string, index: number): string | undefined {
  const i = unitOffset(s, index);
  if (i >= s.length) return undefined;
  return s.slice(i, pairAt(s, i) ? i + 2 : i + 1);
}

/** ToIntegerOrInfinity of ECMAScript (what String.prototype.substr applies to its arguments). */
function toInteger(n: number): number {
  if (Number.isNaN(n)) return 0;
  return Math.trunc(n);
}

/**
 * `substr` on code points, with the semantics json-logic-js gives it on code
 * units: a negative start counts from the end; a negative length drops that
 * many code points from the end; no length means "to the end".
 * `start` and `length` are numbers already (NaN counts as 0).
 */
export function substrCodePoints(s: string, start: number, length: number | undefined): string {
  const total = codePointLength(s);
  let from = toInteger(start);
  from = from < 0 ? Math.max(total + from, 0) : Math.min(from, total);
  const rest = total - from;
  let count: number;
  if (length === undefined) count = rest;
  else if (length < 0) count = toInteger(Math.max(0, rest + length));
  else count = Math.min(toInteger(length), rest);
  if (count <= 0) return "";
  if (total === s.length) return s.slice(from, from + count); // no pairs: code points are code units
  const a = unitOffset(s, from);
  const b = a + unitOffset(s.slice(a), count);
  return s.slice(a, b);
}

/** True when `s` holds no lone surrogate (canonical JSON can encode it). */
export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < HIGH_FIRST || c > LOW_LAST) continue;
    if (pairAt(s, i)) i++;
    else return false;
  }
  return true;
}

/** `s` with every lone surrogate replaced by U+FFFD, so it can be encoded and displayed. */
export function toWellFormed(s: string): string {
  if (isWellFormed(s)) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < HIGH_FIRST || c > LOW_LAST) out += s[i];
    else if (pairAt(s, i)) {
      out += s.slice(i, i + 2);
      i++;
    } else out += "\ufffd";
  }
  return out;
}

/** The ellipsis that ends text cut by `cutText`. */
export const ELLIPSIS = "\u2026";

/**
 * `s` if it has at most `max` code points, else its first `max - 1` code
 * points and an ellipsis (`max` in all). Reads at most `max + 1` code points
 * of `s`, whatever its length. `forceCut` appends the ellipsis even when `s`
 * fits (for text that is itself the start of something longer).
 */
export function cutText(s: string, max: number, forceCut = false): string {
  if (!forceCut && s.length <= max) return s;
  let i = 0; // code-unit offset after k code points
  let k = 0;
  let cutAt = 0; // code-unit offset after max - 1 code points
  while (i < s.length && k < max) {
    if (k === max - 1) cutAt = i;
    i += pairAt(s, i) ? 2 : 1;
    k++;
  }
  if (i >= s.length) {
    if (!forceCut) return s; // max code points or fewer
    if (k < max) return s + ELLIPSIS; // room for the ellipsis after all of it
  }
  return s.slice(0, cutAt) + ELLIPSIS;
}

/** A short, deterministic description of a value for error messages: `text "ab…"`, `the number 5`, `a list`. */
export function preview(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") return `the number ${String(v)}`;
  if (typeof v === "string") return v === "" ? "empty text" : `text "${toWellFormed(cutText(v, 24))}"`;
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : "a value that is not JSON";
}

/** An integer with thousands separators ("1,000,000"), without the locale data of the engine. */
export function groupDigits(n: number): string {
  const s = String(Math.trunc(Math.abs(n)));
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (i > 0 && (s.length - i) % 3 === 0) out += ",";
    out += s[i];
  }
  return n < 0 ? `-${out}` : out;
}
