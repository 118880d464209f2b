/**
 * One pass over a request body (or stream message) before JSON.parse sees
 * it. JSON.parse recurses per nesting level and builds the whole value
 * before anyone can count it, so depth and the number of submissions are
 * bounded here, iteratively, stopping at the first excess. The pass also
 * finds where each submission's text lies (the items of a top-level
 * `"inputs"` list, or the whole body), so each can be checked on the text
 * its sender wrote: JSON.parse keeps the last of two equal keys and rounds
 * numbers a double cannot hold, and the core must never admit a value other
 * than the one sent (runtime/cells/json-number.ts).
 * Syntax errors are left to JSON.parse.
 */
import { failure, type ApiFailure } from "./errors.js";

/** What the pass found in a body that stays within the bounds. */
export interface TextScan {
  /** The top level is an object with an `inputs` key. */
  batch: boolean;
  /** Start and end offsets (end exclusive) of each submission's text, flat: [s0, e0, s1, e1, ...]. */
  spans: number[];
  /** The first top-level key that appears twice, if any. */
  duplicate?: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Scans `text`: nesting at most `maxDepth`, at most `maxInputs` items in the
 * top-level `inputs` list. Returns the spans of the submissions, or the
 * refusal (API_TOO_DEEP 400, API_TOO_MANY_INPUTS 413).
 */
export function scanRequestText(text: string, maxDepth: number, maxInputs: number): TextScan | ApiFailure {
  const n = text.length;
  const spans: number[] = [];
  const keys = new Set<string>();
  let duplicate: string | undefined;
  let depth = 0;
  let topObject = false;
  let expectKey = false;
  let key: string | undefined; // the top-level key last read
  let valueOf: string | undefined; // the top-level key whose value comes next
  let inInputs = false; // inside the `inputs` list (depth 2)
  let itemStart = -1;
  let lastEnd = 0; // offset after the last token read
  let count = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (inInputs && depth === 2 && itemStart < 0 && c !== 0x5d && c !== 0x2c) {
      itemStart = i;
      if (++count > maxInputs) {
        return failure(413, "API_TOO_MANY_INPUTS", `the request holds more than ${maxInputs} submissions`, `send at most ${maxInputs} submissions per request; split the batch`, { path: "/inputs", in: "body" });
      }
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (depth === 1 && c === 0x5b && valueOf === "inputs" && topObject) inInputs = true;
      if (depth === 1) valueOf = undefined;
      depth++;
      if (depth > maxDepth) {
        const where = inInputs ? `/inputs/${count - 1}` : "";
        return failure(400, "API_TOO_DEEP", `the body nests deeper than ${maxDepth} levels (at character ${i})`, "flatten the data: a channel accepts at most its `limits.maxDepth` levels (default 32)", { path: where, in: "body" });
      }
      if (depth === 1) {
        topObject = c === 0x7b;
        expectKey = topObject;
      }
      lastEnd = i + 1;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (inInputs && depth === 2) {
        if (itemStart >= 0) spans.push(itemStart, lastEnd);
        itemStart = -1;
        inInputs = false;
      }
      depth--;
      lastEnd = i + 1;
    } else if (c === 0x2c /* , */) {
      if (depth === 1) expectKey = topObject;
      else if (inInputs && depth === 2) {
        if (itemStart >= 0) spans.push(itemStart, lastEnd);
        itemStart = -1;
      }
      lastEnd = i + 1;
    } else if (c === QUOTE) {
      const end = closingQuote(text, i + 1);
      if (end < 0) break; // unterminated: JSON.parse reports it
      if (depth === 1 && expectKey) {
        expectKey = false;
        let k = text.slice(i + 1, end);
        if (k.indexOf("\\") >= 0) {
          try {
            k = JSON.parse(text.slice(i, end + 1)) as string;
          } catch {
            break; // a malformed escape: JSON.parse reports it
          }
        }
        if (keys.has(k)) duplicate ??= k;
        keys.add(k);
        key = k;
      } else if (depth === 1) valueOf = undefined;
      i = end;
      lastEnd = end + 1;
    } else if (c === 0x3a /* : */) {
      if (depth === 1) valueOf = key;
      lastEnd = i + 1;
    } else {
      if (depth === 1) valueOf = undefined;
      lastEnd = i + 1;
    }
  }
  const batch = topObject && keys.has("inputs");
  if (!batch) {
    // The whole body is one submission.
    let s = 0;
    let e = n;
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    spans.length = 0;
    spans.push(s, e);
  }
  return duplicate === undefined ? { batch, spans } : { batch, spans, duplicate };
}

/** Offset of the quote that closes a string whose text starts at `from`, or -1. */
function closingQuote(text: string, from: number): number {
  let j = from;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return -1;
    let slashes = 0;
    for (let b = q - 1; b >= from && text.charCodeAt(b) === BACKSLASH; b--) slashes++;
    if (slashes % 2 === 0) return q;
    j = q + 1;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** True for a scan result, false for a refusal. */
export function isScan(r: TextScan | ApiFailure): r is TextScan {
  return (r as TextScan).spans !== undefined;
}
