/**
 * Checks that a value a stranger sent is plain JSON within the cell's
 * limits, without trusting it: depth is checked before descending (so 10k
 * nesting costs 33 steps, not a stack overflow), size is estimated while
 * walking (so a 10 MB string is refused before anything encodes it), and
 * keys that reach prototypes are refused outright (no rule could read them:
 * var paths may not contain them either).
 */
import type { Rejected } from "./types.js";

/** Object keys no input may contain, at any depth (docs/execution.md, "Admission"). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

const hasOwn = Object.prototype.hasOwnProperty;

/** Longest rejection message kept, in code points (messages are for people; the code is what machines read). */
export const MAX_MESSAGE_CHARS = 2_000;

/**
 * A rejection verdict (message built only on failure). The message is made
 * well-formed (a lone surrogate becomes U+FFFD) and clipped on a code point:
 * whatever it quotes, it can always be encoded, logged and shown.
 */
export function reject(code: string, message: string, path?: string, rule?: string): Rejected {
  const r: Rejected = { accepted: false, code, message: displayText(message, MAX_MESSAGE_CHARS) };
  if (rule !== undefined) r.rule = rule;
  if (path !== undefined) r.path = path;
  return r;
}

/** `text` well-formed and at most `max` code points long (an ellipsis marks a cut). */
export function displayText(text: string, max: number): string {
  let t = text.isWellFormed() ? text : text.toWellFormed();
  if (t.length > max) {
    // Cut on a code point: never between the two halves of a surrogate pair.
    let end = max;
    const c = t.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--;
    t = t.slice(0, end) + "…";
  }
  return t;
}

/** The text every "not exact" number refusal uses, so authors learn one rule. */
export function inexactNumber(shown: string, where: string): string {
  return `${shown} at ${where} cannot be held exactly: numbers are exact only as integers within ±9007199254740991 (2^53 - 1) or as decimals that survive a round trip; send it as text`;
}

/** JSON Pointer escaping (RFC 6901). */
export function pointer(segments: ReadonlyArray<string | number>): string {
  let out = "";
  for (const s of segments) out += "/" + String(s).replace(/~/g, "~0").replace(/\//g, "~1");
  return out;
}

/**
 * Rejection of `value`, or undefined when it is plain JSON no deeper than
 * `maxDepth` levels of containers whose estimated encoding fits `maxBytes`.
 * The estimate is a lower bound of the RFC 8785 length, so anything it
 * refuses is certainly too large; the exact check is on the canonical bytes.
 */
export function inspectValue(value: unknown, maxDepth: number, maxBytes: number): Rejected | undefined {
  // State lives in an object, not a closure: a closure per call costs an
  // allocation (and a keepNames wrapper under tsx) on the hottest path.
  const w: Walk = { size: 0, maxDepth, maxBytes, path: [] };
  return walk(w, value, 0);
}

interface Walk {
  size: number;
  maxDepth: number;
  maxBytes: number;
  path: Array<string | number>;
}

function at(w: Walk): string {
  return pointer(w.path) || "/";
}

function walk(w: Walk, v: unknown, depth: number): Rejected | undefined {
  switch (typeof v) {
    case "string":
      if (!v.isWellFormed()) return reject("CELL_BAD_TEXT", `the text at ${at(w)} holds half of a character (a lone UTF-16 surrogate), which has no UTF-8 encoding`, pointer(w.path));
      w.size += v.length + 2;
      break;
    case "boolean":
      w.size += 4;
      break;
    case "number":
      if (!Number.isFinite(v)) return reject("CELL_BAD_NUMBER", `${String(v)} at ${at(w)} is not a JSON number`, pointer(w.path));
      if (v === 0 && 1 / v < 0) return reject("CELL_BAD_NUMBER", `-0 at ${at(w)} has no canonical form distinct from 0`, pointer(w.path));
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) return reject("CELL_BAD_NUMBER", inexactNumber(String(v), at(w)), pointer(w.path));
      w.size += 1;
      break;
    case "object": {
      if (v === null) {
        w.size += 4;
        break;
      }
      if (depth >= w.maxDepth) {
        return reject("CELL_TOO_DEEP", `the input nests deeper than ${w.maxDepth} levels at ${at(w)}`, pointer(w.path));
      }
      w.size += 2;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          w.path.push(i);
          const r = walk(w, v[i], depth + 1);
          w.path.pop();
          if (r) return r;
          if (w.size > w.maxBytes) break;
        }
      } else {
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) {
          return reject("CELL_NOT_JSON", `the object at ${at(w)} is not a plain object`, pointer(w.path));
        }
        for (const k in v) {
          if (!hasOwn.call(v, k)) continue;
          if (FORBIDDEN_KEYS.has(k)) {
            w.path.push(k);
            return reject("CELL_FORBIDDEN_KEY", `the key "${k}" at ${pointer(w.path)} is not allowed in inputs`, pointer(w.path));
          }
          if (!k.isWellFormed()) {
            w.path.push(k.toWellFormed());
            return reject("CELL_BAD_TEXT", `a key at ${at(w)} holds half of a character (a lone UTF-16 surrogate), which has no UTF-8 encoding`, pointer(w.path));
          }
          w.size += k.length + 3; // "k": (commas are not counted: this stays a lower bound)
          w.path.push(k);
          const r = walk(w, (v as Record<string, unknown>)[k], depth + 1);
          w.path.pop();
          if (r) return r;
          if (w.size > w.maxBytes) break;
        }
        // Symbol keys would silently vanish from the encoding.
        if (Object.getOwnPropertySymbols(v).length > 0) {
          return reject("CELL_NOT_JSON", `the object at ${at(w)} has symbol keys`, pointer(w.path));
        }
      }
      break;
    }
    default:
      return reject("CELL_NOT_JSON", `a ${typeof v} at ${at(w)} cannot be encoded as JSON`, pointer(w.path));
  }
  if (w.size > w.maxBytes) return reject("CELL_TOO_LARGE", `the input is larger than ${w.maxBytes} bytes`, pointer(w.path));
  return undefined;
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * Why `name` cannot be a record key or a state path segment, or undefined.
 * Names must be well-formed and in Unicode NFC: `café` written with a
 * combining accent (NFD) prints like `café` with a precomposed é, and two
 * records whose keys print the same would let one pass for the other. NFC is
 * stable for assigned characters across Unicode versions, so every validator
 * draws the same line. (Refused rather than normalised: a key is what the
 * sender wrote, and a rule reading it must see that exact text.)
 */
export function nameProblem(name: string): string | undefined {
  if (ASCII.test(name)) return undefined;
  if (!name.isWellFormed()) return "holds half of a character (a lone UTF-16 surrogate)";
  if (name.normalize("NFC") !== name) return "is not in Unicode normalization form NFC (a letter and a combining accent where one precomposed character prints the same); normalize it to NFC before sending";
  return undefined;
}
