/**
 * Canonical JSON (RFC 8785) text of a value, built piece by piece under a
 * length limit, for `cat` and message templates.
 *
 * Why not core/canonical: it checks and encodes the whole value before anyone
 * can look at the length. With 20,000 records in state, one `cat` of
 * `state.records` cost 120 ms per input, and a message placeholder
 * `{state.records}` produced 2.58 MB per rejection (200 rejections: 22 s,
 * 1.07 GB). Here encoding stops as soon as the text passes the limit, never
 * sorts more keys than can still fit, and reports each value and key it
 * visits to the work budget.
 *
 * For values that fit, the text is exactly core/canonical's: keys sorted by
 * UTF-16 code units, strings and numbers as JSON.stringify writes them
 * (ECMAScript's number-to-string, which RFC 8785 adopts). The encoding test
 * compares the two on random values.
 */
import { isProxy } from "node:util/types";
import { runtimeError } from "./json-result.js";
import { isWellFormed } from "./text.js";

/** Deepest nesting encoded, as core/canonical's assertJson allows. */
export const MAX_ENCODE_DEPTH = 256;

/** How to encode. */
export interface EncodeOptions {
  /** Stop once the text is longer than this many UTF-16 code units. */
  limit: number;
  /**
   * true (cat): refuse what canonical JSON refuses (lone surrogates, non-finite
   * numbers, nesting past 256 levels) with RULES_RUNTIME naming `what`, and
   * give up early on a value that cannot fit. false (templates): never throw;
   * render such values leniently and return the text up to where it stopped.
   */
  strict: boolean;
  /** The operator, for messages ("cat"). */
  what: string;
  /** Called with the number of values and keys visited, in batches (the work budget). */
  charge?: (n: number) => void;
}

/** What `encodeCanonical` produced. */
export interface Encoded {
  /**
   * The canonical text when `complete`; otherwise a prefix of it, which may
   * run past the limit by a little (the last string or number written), or
   * stop short of it (strict mode gives up as soon as the value cannot fit).
   */
  text: string;
  /** True when `text` is the whole encoding and within the limit. */
  complete: boolean;
}

/** Values visited between two calls of `charge`. */
const CHARGE_BATCH = 256;
/**
 * Objects with at most this many keys are sorted whole, by insertion sort:
 * Array.prototype.sort on small key lists measured 5x slower here (its
 * allocations made the scavenger copy the growing text again and again:
 * 87 ms against 18 ms to encode 1 MiB of 6-key records). Larger objects are
 * sorted whole only when they can fit; otherwise only the keys that can
 * still fit are selected.
 */
const SMALL_OBJECT = 64;

/** Encodes `value` as canonical JSON up to `opts.limit` code units. */
export function encodeCanonical(value: unknown, opts: EncodeOptions): Encoded {
  const e = new Encoder(opts);
  const done = e.value(value, 0);
  e.flush();
  return { text: e.out, complete: done && e.out.length <= opts.limit };
}

class Encoder {
  /**
   * The text so far. It grows by whole entries (`,"key":value` in one piece)
   * where it can: every append to a long string adds a rope node the
   * scavenger copies while the text lives, and appending separators one by one
   * measured 2x slower.
   */
  out = "";
  private visits = 0;
  private readonly limit: number;
  private readonly strict: boolean;
  private readonly what: string;
  private readonly charge: ((n: number) => void) | undefined;

  constructor(opts: EncodeOptions) {
    this.limit = opts.limit;
    this.strict = opts.strict;
    this.what = opts.what;
    this.charge = opts.charge;
  }

  flush(): void {
    if (this.charge !== undefined && this.visits > 0) this.charge(this.visits);
    this.visits = 0;
  }

  private visit(n: number): void {
    this.visits += n;
    if (this.visits >= CHARGE_BATCH) this.flush();
  }

  private refuse(message: string, remedy: string): never {
    throw runtimeError(`${this.what} cannot encode ${message}`, remedy);
  }

  /**
   * Appends `head` and the encoding of `v` (head is "", "," or `,"key":`);
   * false when it stopped: the limit is passed, or (strict) it cannot fit.
   */
  value(v: unknown, depth: number, head = ""): boolean {
    this.visit(1);
    if (depth > MAX_ENCODE_DEPTH) {
      if (this.strict) this.refuse(`a value nested deeper than ${MAX_ENCODE_DEPTH} levels`, "build text from flatter values");
      return false;
    }
    if (typeof v === "string") return this.string(v, head);
    if (v !== null && typeof v === "object") {
      if (head !== "") this.out += head;
      return Array.isArray(v) ? this.list(v, depth) : this.object(v as Record<string, unknown>, depth);
    }
    this.out += head + this.primitive(v);
    return this.out.length <= this.limit;
  }

  /** null, booleans, numbers; anything else that is not JSON is refused (strict) or written as null. */
  private primitive(v: unknown): string {
    if (typeof v === "number") {
      if (Number.isFinite(v)) return JSON.stringify(v);
      if (this.strict) this.refuse(`the number ${String(v)}, which JSON cannot carry`, "keep arithmetic within finite numbers");
      return "null";
    }
    if (typeof v === "boolean") return v ? "true" : "false";
    if (v !== null && v !== undefined && this.strict) this.refuse(`a ${typeof v}, which is not a JSON value`, "build text only from JSON values");
    return "null";
  }

  /** Strict mode refuses text with a lone surrogate, as canonical JSON does; a template shows it as a JSON escape (\udXXX). */
  private wellFormed(s: string): void {
    if (this.strict && !isWellFormed(s)) {
      this.refuse("text with a lone surrogate (half of a UTF-16 pair), which canonical JSON refuses", "build text only from well-formed text");
    }
  }

  /** Appends `head` and `s` as a JSON string (or the start of it, when it does not fit and a prefix is wanted). */
  private string(s: string, head: string): boolean {
    this.wellFormed(s);
    const room = this.limit - this.out.length - head.length;
    // The encoding is at least two code units longer than the text (the quotes).
    if (s.length + 2 <= room) {
      this.out += head + JSON.stringify(s);
      return this.out.length <= this.limit;
    }
    if (this.strict) return false;
    // Only the start of the text: cut between code points, drop the closing quote.
    let k = Math.max(0, room);
    const c = s.charCodeAt(k - 1);
    if (k > 0 && k < s.length && c >= 0xd800 && c <= 0xdbff) k--;
    this.out += head + JSON.stringify(s.slice(0, k)).slice(0, -1);
    return false;
  }

  private list(v: unknown[], depth: number): boolean {
    // At least "[", one code unit per item, a comma between items, "]".
    if (this.strict && this.out.length + 2 * v.length + 1 > this.limit) return false;
    this.out += "[";
    for (let i = 0; i < v.length; i++) {
      if (!this.value(v[i], depth + 1, i === 0 ? "" : ",")) return false;
    }
    this.out += "]";
    return this.out.length <= this.limit;
  }

  private object(v: Record<string, unknown>, depth: number): boolean {
    const all = ownKeys(v);
    this.visit(all.length);
    // k entries take at least 5k + 1 code units: each at least 4 ("":0), commas, braces.
    const fit = Math.floor((this.limit - this.out.length - 1) / 5); // more entries than this cannot fit
    let keys: string[];
    if (all.length <= SMALL_OBJECT) keys = insertionSort(all);
    else if (all.length <= fit) keys = all.sort();
    else if (this.strict) return false;
    else keys = smallest(all, Math.max(1, fit + 1)); // enough to pass the limit
    this.out += "{";
    let first = true;
    for (const k of keys) {
      const x = v[k];
      if (x === undefined) continue; // as canonicalize does (a JSON value has none)
      if (k.length + 4 > this.limit - this.out.length) {
        // A key longer than the room left: write what fits of it, through the careful path.
        if (!this.string(k, first ? "" : ",")) return false;
        this.out += ":";
        if (this.out.length > this.limit || !this.value(x, depth + 1)) return false;
      } else {
        this.wellFormed(k);
        if (!this.value(x, depth + 1, (first ? "" : ",") + JSON.stringify(k) + ":")) return false;
      }
      first = false;
    }
    if (keys.length < all.length) return false; // only the keys that could fit were written
    this.out += "}";
    return this.out.length <= this.limit;
  }
}

/**
 * The `m` smallest keys in sorted order (UTF-16 code-unit order, as
 * Array.prototype.sort and RFC 8785 use), without sorting all of them:
 * one pass, keeping a sorted buffer of m keys.
 */
function smallest(keys: readonly string[], m: number): string[] {
  const best: string[] = [];
  for (const k of keys) {
    if (best.length === m && k >= best[m - 1]) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (best[mid] < k) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, k);
    if (best.length > m) best.pop();
  }
  return best;
}

/** Sorts keys in place in UTF-16 code-unit order (what `<` on strings and Array.prototype.sort use). */
function insertionSort(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/**
 * The object's own string keys, the same for a JSON value either way.
 * Object.keys for plain objects (6 ms for 20,000 keys here, Reflect.ownKeys
 * 14 ms); Reflect.ownKeys through a proxy (the cells module shows
 * state.records as one), where Object.keys also asks for every key's
 * descriptor: 38 ms against 10 ms for 20,000 records, measured on this machine.
 */
function ownKeys(v: object): string[] {
  if (!isProxy(v)) return Object.keys(v);
  const keys = Reflect.ownKeys(v);
  for (let i = 0; i < keys.length; i++) if (typeof keys[i] !== "string") return keys.filter((k) => typeof k === "string") as string[];
  return keys as string[];
}
