/**
 * The operators a channel's rules may use: a vetted subset of
 * json-logic-engine's built-ins plus statecell's own, installed on one engine
 * instance (never on json-logic-js's global table or the library's defaults).
 *
 * Removed built-ins, and why:
 *   log                      side effect (console); not in json-logic-engine 5 anyway
 *   throw, try               control flow on error text that differs between library versions
 *   pipe, eachKey            change the scope of `var` in ways the static root check cannot follow
 *   val, get, exists         second and third ways to read data that read inherited properties
 *   every, not               aliases of all and !; one name per idea keeps rules readable
 *
 * Roots: a `var` path starts at one of CONTEXT_ROOTS (types.ts): data, state, block, signer, token,
 * channel, and source (`source.cell`: the upstream cell an input was emitted by, null for a direct
 * submission) and op (the operation an input was submitted as, null for a cell without operations),
 * which the cells module fills in.
 *
 * Computed paths: `{ var: "state.nfts.{data.collection}.{data.token}.owner" }` (also with a default,
 * `{ var: ["state.x.{data.k}", 0] }`). Each `{placeholder}` is a plain var path evaluated in the same
 * context; its value fills exactly one segment, dots and all (paths.ts, placeholderSegment: text as
 * it is, a whole number as its decimal text). A value that can fill no segment (null, a list, an
 * object, a negative or fractional number, empty text, __proto__/constructor/prototype) makes the
 * path name nothing: the read gives the default, or null; never a fault, never a prototype. The
 * path is parsed and compiled once at load (engine.ts, compileComputedVar); state-update paths are
 * written with the same segments (parseComputedPath), so what `set: seen.{data.name}` writes,
 * `state.seen.{data.name}` reads. A `var` path without braces is split on every dot, as in
 * json-logic-js. `missing` and `missing_some` read plain paths only (check refuses braces there).
 *
 * Replaced built-ins (same name, statecell's implementation):
 *   var, missing, missing_some   own-property lookup; paths computed by an expression ({var: {cat: ...}})
 *                                are split on every dot and checked for __proto__ & co. at run time
 *   in                           false (not a crash) when the haystack is neither text nor a list; a list or
 *                                object needle is never found in text; empty text contains nothing (as in json-logic-js)
 *   cat                          null renders as "", lists/objects as canonical JSON (RFC 8785, encoded only up to
 *                                the length cap and charged to the work budget per value and key); at most
 *                                MAX_TEXT_LENGTH (1,048,576) UTF-16 code units
 *   merge                        capped length (an accumulator that doubles cannot exhaust memory)
 *   substr                       counts code points (see Text below); numbers are treated as text; other
 *                                values, and a start or length that is a list or object, are a RULES_RUNTIME fault
 *   length, keys                 see below
 *   == === != !== < <= > >=      same semantics, compiled as calls (compare.ts: the library's generated
 *                                code lets one operand overwrite the other)
 *   + - * / % min max            same semantics, compiled as calls (arithmetic.ts); a result beyond
 *                                ±(2^53 − 1) = ±9,007,199,254,740,991, where numbers are no longer exact,
 *                                or not finite, is a RULES_RUNTIME fault (send larger numbers as text)
 *
 * Kept as they are: ! !! and or if ?: ?? map filter reduce all some none (the iterators' list is
 * checked and charged by WORK_OPERATOR first: anything but a list, or null, is a fault), and
 * preserve (returns its argument unevaluated: a literal, copied like every result, so it is safe).
 *
 * Numbers: every number an expression returns (compile) and every arithmetic result, `since` and
 * `daysSince` included, must lie within ±(2^53 − 1); beyond, doubles skip integers (2^53 + 1 == 2^53).
 *
 * Custom operators (statecell):
 *   startsWith: [text, prefix]  true when text is a string that begins with prefix (both strings), else false
 *   endsWith:   [text, suffix]  true when text is a string that ends with suffix, else false
 *   length:     [value]         number of code points of a string (see Text below), or of items of a list; null otherwise
 *   keys:       [object]        the object's own keys, sorted (code-unit order) so results never depend on
 *                               insertion order; [] for anything that is not an object
 *   since:      [t]             block.time - t, in milliseconds (t in unix ms); null when t is not a number
 *   daysSince:  [t]             whole days from t to block.time: floor((block.time - t) / 86400000); null when t is not a number
 *   isoDate:    [t]             "YYYY-MM-DD", the UTC date of t (unix ms); with no argument, of block.time;
 *                               null outside years 0000-9999 or when t is not a number
 *
 * Text: every text operation counts and cuts on code points (what `for...of` iterates), never on UTF-16
 * code units, so no expression can split a character such as an emoji into lone surrogates, which
 * canonical JSON cannot encode. `length` of "😀" is 1; `substr: ["a😀b", 1, 1]` is "😀"; `substr` start
 * and length are counted in code points (negative start: from the end; negative length: drop that many
 * from the end); a `var` path into text reads code points too (`data.s.length` is the number of code
 * points, `data.s.0` the first one). Comparisons and `keys` order text by UTF-16 code units, as
 * RFC 8785 sorts keys. A lone surrogate already present in text counts as one code point.
 *
 * Work budget: iterators, `in`, `keys` and `merge` charge the items they visit,
 * `cat` one visit per 64 characters it builds, text operations one per 64 code units they scan;
 * past MAX_WORK (1,000,000) per evaluation the expression faults (RULES_RUNTIME).
 *
 * The date helpers never read a clock: `block.time` comes from the block header
 * in the evaluation context, so every validator computes the same value.
 *
 * Faults are RULES_RUNTIME in statecell's own words, naming the operator and the value (shortened):
 * never text from V8 or a library, which differs between versions (json-result.ts, toRuntimeError).
 */
import type { StatecellError } from "../core/errors.js";
import type { RuleContext } from "./types.js";
import { describeType, resolveDynamic } from "./paths.js";
import { runtimeError } from "./json-result.js";
import { codePointLength, groupDigits, preview, substrCodePoints } from "./text.js";
import { encodeCanonical } from "./encode.js";
import { exact } from "./arithmetic.js";

/** json-logic-engine built-ins kept (comparisons and arithmetic get statecell's implementation: compare.ts, arithmetic.ts). */
export const KEPT_BUILTINS = [
  "==", "===", "!=", "!==", "<", "<=", ">", ">=",
  "!", "!!", "and", "or", "if", "?:", "??",
  "map", "filter", "reduce", "all", "some", "none",
  "preserve",
] as const;

/** Longest list `merge` may build, and longest text `cat` may build. */
export const MAX_LIST_LENGTH = 1 << 16;
export const MAX_TEXT_LENGTH = 1 << 20;

const DAY_MS = 86_400_000;
/** 9999-12-31T23:59:59.999Z: beyond it toISOString() switches to 6-digit years. */
const MAX_ISO_MS = 253_402_300_799_999;
const MIN_ISO_MS = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z

/**
 * Most list items and object keys one evaluation may visit (iterator items,
 * `in` haystacks, `keys`, `merge` results). A count, not a clock, so every
 * validator stops at the same point: nested iteration over large state (a
 * 30,000-item list scanned once per item of another) would otherwise stall a
 * block. Rules that need more belong in a code hook, or in keyed records.
 */
export const MAX_WORK = 1_000_000;

/**
 * The internal operator that charges an iterator's list to the work budget,
 * and refuses what is not a list with statecell's message (the engine would
 * throw a TypeError worded by V8). Only the compiler inserts it (engine.ts,
 * prepare); it is not in the public operator list, so `check` refuses it in
 * anything an author writes.
 */
export const WORK_OPERATOR = "statecell:work";

/** Per-evaluation state: the context (date helpers read `block.time`) and the work done so far. */
export interface RootSlot {
  root: RuleContext | null;
  work: number;
}

/** Adds `n` visits to the evaluation's work; a fault past MAX_WORK. */
export function charge(slot: RootSlot, n: number): void {
  slot.work += n;
  if (slot.work > MAX_WORK) {
    throw runtimeError(
      `the expression visited more than ${groupDigits(MAX_WORK)} list items or keys`,
      "avoid scanning large lists (e.g. state) in rules, and nested iteration; read keyed records (state.records.<key>) or use a code hook",
    );
  }
}

type Method = (args: unknown[], context: unknown) => unknown;

function blockTime(slot: RootSlot): number {
  const t = slot.root?.block?.time;
  if (typeof t !== "number" || !Number.isFinite(t)) {
    throw runtimeError("block.time is not a number in this evaluation", "evaluate date helpers with a block header (unix ms)");
  }
  return t;
}

function reduceOfNothing(): StatecellError {
  return runtimeError("reduce without an initial value got an empty list, so it has no first item to start from", "give reduce an initial value as its third argument, e.g. reduce: [list, expr, 0]");
}

function catTooLong(): StatecellError {
  return runtimeError(`cat built text longer than ${groupDigits(MAX_TEXT_LENGTH)} characters (UTF-16 code units)`, "build shorter text; to show a large value, show one of its fields");
}

/** statecell's operators and replacements, bound to one engine's root slot. */
/**
 * A substr start or length as a number: numbers as they are, text as JavaScript
 * converts it ("2" is 2, "x" is NaN, which counts as 0), booleans and null as 0/1/0.
 * A list or object is a fault: converting one would call methods the data may override.
 */
function substrNumber(v: unknown, what: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") return Number(v);
  if (v === null || v === undefined || v === false) return 0;
  if (v === true) return 1;
  throw runtimeError(`substr's ${what} must be a number, got ${Array.isArray(v) ? "a list" : "an object"}`, `give substr a number of characters as its ${what}`);
}

export function statecellMethods(slot: RootSlot): Record<string, Method> {
  const chargeText = (n: number): void => charge(slot, n);
  return {
    var: (args, context) => resolveDynamic(context, args[0], args[1] === undefined ? null : args[1], chargeText),
    missing: (args, context) => {
      // json-logic-js accepts a list (e.g. from merge) or the keys as arguments.
      const keys = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
      const out: unknown[] = [];
      for (const k of keys) {
        const v = resolveDynamic(context, k, null, chargeText);
        // The json-logic spec counts null and "" as missing.
        if (v === null || v === "") out.push(k);
      }
      return out;
    },
    missing_some: (args, context) => {
      const need = args[0];
      const keys = Array.isArray(args[1]) ? (args[1] as unknown[]) : [];
      const out: unknown[] = [];
      for (const k of keys) {
        const v = resolveDynamic(context, k, null, chargeText);
        if (v === null || v === "") out.push(k);
      }
      return typeof need === "number" && keys.length - out.length >= need ? [] : out;
    },
    [WORK_OPERATOR]: (args) => {
      // [list, iterator name, whether reduce has an initial value]: see prepare in engine.ts.
      const [v, op, initial] = args as [unknown, string, boolean];
      if (Array.isArray(v)) {
        if (v.length === 0 && op === "reduce" && !initial) throw reduceOfNothing();
        charge(slot, v.length);
        return v;
      }
      // null, 0, "" and false count as an empty list, as in the engine; anything else is not a list.
      if (!v) {
        if (op === "reduce" && !initial) throw reduceOfNothing();
        return v;
      }
      throw runtimeError(`${op} goes through a list, got ${preview(v)}`, `give ${op} a list, e.g. a var path that holds one (a schema with type: array checks it)`);
    },
    in: (args) => {
      const [needle, hay] = args;
      if (Array.isArray(hay)) {
        charge(slot, hay.length);
        return hay.includes(needle);
      }
      // Text: a primitive needle is compared as text, as json-logic-js's indexOf does
      // (null searches for "null"); a list or object needle is never found in text.
      // Empty text contains nothing, not even "" (json-logic-js: `!b` is false).
      if (typeof hay === "string") return hay !== "" && !(needle !== null && typeof needle === "object") && hay.includes(String(needle));
      return false;
    },
    cat: (args) => {
      let s = "";
      for (const a of args) {
        if (a === null || a === undefined) continue;
        if (typeof a === "object") {
          // Lists and objects as canonical JSON, encoded only as far as the text limit
          // allows and charged per value and key visited (encode.ts).
          const r = encodeCanonical(a, { limit: MAX_TEXT_LENGTH - s.length, strict: true, what: "cat", charge: chargeText });
          if (!r.complete) throw catTooLong();
          s += r.text;
        } else {
          s += typeof a === "string" ? a : String(a); // numbers and booleans
          if (s.length > MAX_TEXT_LENGTH) throw catTooLong();
        }
      }
      charge(slot, s.length >>> 6); // one visit per 64 characters built
      return s;
    },
    merge: (args) => {
      const out: unknown[] = [];
      for (const a of args) {
        if (Array.isArray(a)) for (const x of a) out.push(x);
        else out.push(a);
        if (out.length > MAX_LIST_LENGTH) throw runtimeError(`merge built a list longer than ${MAX_LIST_LENGTH} items`, "build shorter lists");
      }
      charge(slot, out.length);
      return out;
    },
    substr: (args) => {
      const [source, from, len] = args;
      if (typeof source !== "string" && typeof source !== "number") {
        throw runtimeError(`substr expects text, got ${describeType(source)}`, "apply substr to a string value");
      }
      const s = String(source);
      const start = substrNumber(from, "start");
      const length = len === undefined || len === null ? undefined : substrNumber(len, "length");
      charge(slot, s.length >>> 6); // one visit per 64 code units scanned
      return substrCodePoints(s, start, length);
    },
    startsWith: (args) => typeof args[0] === "string" && typeof args[1] === "string" && args[0].startsWith(args[1]),
    endsWith: (args) => typeof args[0] === "string" && typeof args[1] === "string" && args[0].endsWith(args[1]),
    length: (args) => {
      const v = args[0];
      if (Array.isArray(v)) return v.length;
      if (typeof v !== "string") return null;
      charge(slot, v.length >>> 6); // one visit per 64 code units scanned
      return codePointLength(v);
    },
    keys: (args) => {
      const v = args[0];
      if (v === null || typeof v !== "object" || Array.isArray(v)) return [];
      const keys = Object.keys(v);
      charge(slot, keys.length);
      return keys.sort();
    },
    since: (args) => (typeof args[0] === "number" && Number.isFinite(args[0]) ? exact("since", blockTime(slot) - args[0]) : null),
    daysSince: (args) =>
      typeof args[0] === "number" && Number.isFinite(args[0]) ? Math.floor(exact("daysSince", blockTime(slot) - args[0]) / DAY_MS) : null,
    isoDate: (args) => {
      const t = args.length === 0 || args[0] === undefined ? blockTime(slot) : args[0];
      if (typeof t !== "number" || !Number.isFinite(t) || t < MIN_ISO_MS || t > MAX_ISO_MS) return null;
      return new Date(t).toISOString().slice(0, 10);
    },
  };
}

/** Iterators whose second argument is evaluated once per item, with `var` relative to the item. */
export const ITERATORS: ReadonlySet<string> = new Set(["map", "filter", "all", "some", "none"]);

/** Argument counts checked statically (min, max); absent: any. */
export const ARITY: Readonly<Record<string, readonly [number, number]>> = {
  "==": [2, 2], "===": [2, 2], "!=": [2, 2], "!==": [2, 2], ">": [2, 2], ">=": [2, 2],
  "<": [2, 3], "<=": [2, 3],
  "!": [1, 1], "!!": [1, 1],
  and: [1, Infinity], or: [1, Infinity], if: [1, Infinity], "?:": [1, Infinity], "??": [1, Infinity],
  "+": [0, Infinity], "*": [1, Infinity], "-": [1, 2], "/": [2, 2], "%": [2, 2],
  min: [1, Infinity], max: [1, Infinity],
  map: [2, 2], filter: [2, 2], all: [2, 2], some: [2, 2], none: [2, 2], reduce: [2, 3],
  in: [2, 2], substr: [2, 3], startsWith: [2, 2], endsWith: [2, 2],
  length: [1, 1], keys: [1, 1], since: [1, 1], daysSince: [1, 1], isoDate: [0, 1],
  missing_some: [2, 2], var: [0, 2],
};
