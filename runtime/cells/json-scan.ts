/**
 * A single pass over raw JSON text before JSON.parse sees it. JSON.parse is
 * recursive (10k-deep nesting can overflow the stack), keeps the last of
 * duplicate keys silently (two validators' parsers may keep different ones:
 * a signature over such text means two things), and builds the whole value
 * before anyone checks its depth. This scan is iterative, stops at the first
 * problem, and decodes only keys that contain escapes ("\u0061" is "a").
 * Numbers are checked here too, on the text the sender wrote: after
 * JSON.parse a rounded number can no longer be told from an exact one
 * (json-number.ts).
 * Syntax errors are left to JSON.parse, which reports them.
 */
import type { Rejected } from "./types.js";
import { FORBIDDEN_KEYS, inexactNumber, reject } from "./inspect.js";
import { inexactNumberToken } from "./json-number.js";

interface Frame {
  keys: Set<string> | null; // null for arrays
  expectKey: boolean;
}

/** Rejection of `text` (depth, duplicate or forbidden keys), or undefined. */
export function scanJsonText(text: string, maxDepth: number): Rejected | undefined {
  const stack: Frame[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) {
        return reject("CELL_TOO_DEEP", `the input nests deeper than ${maxDepth} levels (at character ${i})`);
      }
      stack.push({ keys: c === 0x7b ? new Set() : null, expectKey: c === 0x7b });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top !== undefined && top.keys !== null) top.expectKey = true;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      while (i + 1 < n && isNumberChar(text.charCodeAt(i + 1))) i++;
      const token = text.slice(start, i + 1);
      const why = inexactNumberToken(token);
      if (why !== undefined) {
        const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token;
        return reject("CELL_BAD_NUMBER", `${inexactNumber(shown, `character ${start}`)} (it ${why})`);
      }
    } else if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top === undefined || top.keys === null || !top.expectKey) continue;
      top.expectKey = false;
      let key = text.slice(start + 1, i);
      if (escaped) {
        try {
          key = JSON.parse(text.slice(start, i + 1)) as string;
        } catch {
          return undefined; // malformed: JSON.parse reports it
        }
      }
      if (FORBIDDEN_KEYS.has(key)) {
        return reject("CELL_FORBIDDEN_KEY", `the key "${key}" (at character ${start}) is not allowed in inputs`);
      }
      if (top.keys.has(key)) {
        return reject("CELL_DUPLICATE_JSON_KEY", `the key "${key}" appears twice in one object (again at character ${start})`);
      }
      top.keys.add(key);
    }
  }
  return undefined;
}

/** Characters of a JSON number token (digits, sign, point, exponent). */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}
