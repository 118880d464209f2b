/**
 * Checks that a value a stranger sent is plain JSON within the cell's
 * limits, without trusting it: depth is checked before descending (so 10k
 * nesting costs 33 steps, not a stack overflow), size is estimated while
 * walking (so a 10 MB string is refused before anything encodes it), and
 * keys that reach prototypes are refused outright (no rule could read them:
 * var paths may not contain them either).
 */
import type { Rejected } from "./types.js";

/** Object keys no input may contain, at any depth (DESIGN.md, Security). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

const hasOwn = Object.prototype.hasOwnProperty;

/** A rejection verdict (message built only on failure). */
export function reject(code: string, message: string, path?: string, rule?: string): Rejected {
  const r: Rejected = { accepted: false, code, message };
  if (rule !== undefined) r.rule = rule;
  if (path !== undefined) r.path = path;
  return r;
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
      w.size += v.length + 2;
      break;
    case "boolean":
      w.size += 4;
      break;
    case "number":
      if (!Number.isFinite(v)) return reject("CELL_BAD_NUMBER", `${String(v)} at ${at(w)} is not a JSON number`, pointer(w.path));
      if (v === 0 && 1 / v < 0) return reject("CELL_BAD_NUMBER", `-0 at ${at(w)} has no canonical form distinct from 0`, pointer(w.path));
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
