/**
 * Plain English for auditors: `{"<=": [{var: "data.pm25"}, 500]}` becomes
 * "data.pm25 is at most 500". Compound parts are parenthesised so the reading
 * is never ambiguous; anything without a phrasing falls back to compact JSON.
 *
 * A param's value is inlined only while short (PARAM_CHARS of JSON); a longer
 * one is named by its size instead ("channel.params.devices (a list of 20,000
 * items)"). Inlining every param value whole made a 950 KB param read by 700
 * rules a 665 MB text, and lint, explain and test failed with "Invalid string
 * length". Literals written in an expression are shown up to LITERAL_CHARS:
 * each is text of the file itself, written once where it is shown, so
 * auditors see the allowed values of a rule without the text growing past the
 * file.
 *
 * A path is shown as written, computed ones included
 * (`state.nfts.{data.collection}.{data.token}.owner`): an auditor reads the
 * same text as the channel file, and the context roots (data, state, block,
 * signer, token, channel, source, op) need no phrasing of their own.
 */
import type { Json } from "../core/canonical.js";
import { isComputedPath, resolveSegments, splitPath } from "./paths.js";

type Scope = "root" | "item" | "reduce";

const COMPARISONS: Readonly<Record<string, string>> = {
  "==": "is",
  "===": "is exactly",
  "!=": "is not",
  "!==": "is not exactly",
  "<": "is less than",
  "<=": "is at most",
  ">": "is more than",
  ">=": "is at least",
};

const ARITHMETIC: Readonly<Record<string, string>> = { "+": "+", "-": "-", "*": "×", "/": "÷", "%": "mod" };

/** Deepest expression we phrase; deeper parts are elided. */
const MAX_DESCRIBE_DEPTH = 64;

/** Longest JSON text of a param's value written after `channel.params.NAME`; longer values are named by their size. */
export const PARAM_CHARS = 80;
/** Longest JSON text of a literal written in an expression that the English repeats. */
export const LITERAL_CHARS = 1_000;

/**
 * A value as the English shows it: its compact JSON when that is at most
 * `limit` characters long, else its kind and size ("a list of 20,000 items",
 * "an object of 3 keys", "a text of 950,000 characters"). Costs at most
 * about `limit` steps, whatever the value's size.
 */
export function inlineValue(v: Json | undefined, limit = LITERAL_CHARS): string {
  if (v === undefined) return "null";
  const text = boundedJson(v, limit);
  if (text !== undefined) return text;
  if (Array.isArray(v)) return `a list of ${count(v.length, "item")}`;
  if (typeof v === "string") return `a text of ${count(v.length, "character")}`;
  if (v !== null && typeof v === "object") return `an object of ${count(Object.keys(v).length, "key")}`;
  return JSON.stringify(v);
}

/** The compact JSON of `v` if it is at most `limit` characters, else undefined; stops as soon as it is longer. */
function boundedJson(v: Json, limit: number): string | undefined {
  let out = "";
  const add = (s: string): boolean => {
    out += s;
    return out.length <= limit;
  };
  const walk = (x: Json): boolean => {
    if (x === null || typeof x !== "object") {
      // A long text is never escaped whole: its length alone decides.
      if (typeof x === "string" && x.length > limit) return false;
      return add(JSON.stringify(x));
    }
    if (Array.isArray(x)) {
      if (!add("[")) return false;
      for (let i = 0; i < x.length; i++) if ((i > 0 && !add(",")) || !walk(x[i])) return false;
      return add("]");
    }
    if (!add("{")) return false;
    let first = true;
    for (const k in x) {
      if (!Object.prototype.hasOwnProperty.call(x, k)) continue;
      if (k.length > limit || (!first && !add(",")) || !add(`${JSON.stringify(k)}:`) || !walk(x[k])) return false;
      first = false;
    }
    return add("}");
  };
  return walk(v) ? out : undefined;
}

/** "1 item", "20,000 items": thousands grouped by hand, never by the engine's locale data. */
function count(n: number, unit: string): string {
  const digits = String(n);
  let grouped = "";
  for (let i = 0; i < digits.length; i++) grouped += (i > 0 && (digits.length - i) % 3 === 0 ? "," : "") + digits[i];
  return `${grouped} ${unit}${n === 1 ? "" : "s"}`;
}

/** Describes an expression; `params` (the channel's) lets `channel.params.x` show its value. */
export function describeExpression(expr: Json, params?: Json): string {
  return new Describer(params).text(expr, "root", 0);
}

/** A described part and whether it needs parentheses when embedded. */
interface Phrase {
  text: string;
  compound: boolean;
}

class Describer {
  constructor(private readonly params: Json | undefined) {}

  text(expr: Json, scope: Scope, depth: number): string {
    return this.phrase(expr, scope, depth).text;
  }

  /** A sub-phrase, parenthesised when it is compound. */
  private part(expr: Json, scope: Scope, depth: number): string {
    const p = this.phrase(expr, scope, depth);
    return p.compound ? `(${p.text})` : p.text;
  }

  private phrase(expr: Json, scope: Scope, depth: number): Phrase {
    // Deeper parts (refused by check anyway) are elided: even JSON.stringify would overflow on them.
    if (depth > MAX_DESCRIBE_DEPTH) return simple("...");
    if (expr === null || typeof expr !== "object") return simple(compact(expr));
    if (Array.isArray(expr)) {
      if (expr.every((e) => e === null || typeof e !== "object")) return simple(compact(expr));
      return simple(`[${expr.map((e) => this.text(e, scope, depth + 1)).join(", ")}]`);
    }
    const keys = Object.keys(expr);
    if (keys.length !== 1) return simple(compact(expr));
    const op = keys[0];
    const raw = expr[op];
    const args: Json[] = Array.isArray(raw) ? raw : [raw];
    const d = depth + 1;
    const p = (e: Json | undefined, s: Scope = scope): string => this.part(e ?? null, s, d);
    const list = (items: Json[], s: Scope = scope): string => items.map((e) => p(e, s)).join(", ");

    if (op in COMPARISONS) {
      const verb = COMPARISONS[op];
      if (args.length === 2) return compound(`${p(args[0])} ${verb} ${p(args[1])}`);
      if (args.length === 3 && (op === "<" || op === "<=")) {
        const how = op === "<" ? "strictly between" : "between";
        return compound(`${p(args[1])} is ${how} ${p(args[0])} and ${p(args[2])}${op === "<=" ? " (inclusive)" : ""}`);
      }
      return simple(compact(expr));
    }
    if (op in ARITHMETIC) {
      if (op === "-" && args.length === 1) return simple(`-${p(args[0])}`);
      if (args.length === 0) return simple(compact(expr));
      return compound(args.map((a) => p(a)).join(` ${ARITHMETIC[op]} `));
    }
    switch (op) {
      case "var":
        return simple(this.varText(args, scope, d));
      case "and":
      case "or":
        if (args.length === 1) return this.phrase(args[0], scope, d);
        return compound(args.map((a) => p(a)).join(` ${op} `));
      case "!": {
        const negated = this.negation(args[0] ?? null, scope, d);
        return compound(negated ?? `not ${p(args[0])}`);
      }
      case "!!":
        return compound(`${p(args[0])} is truthy (not false, 0, empty or null)`);
      case "if":
      case "?:":
        return compound(this.ifText(args, scope, d));
      case "??":
        return compound(args.map((a) => p(a)).join(", or if that is null, "));
      case "in":
        return compound(`${p(args[0])} is in ${p(args[1])}`);
      case "cat":
        return simple(`the text ${args.map((a) => p(a)).join(" followed by ")}`);
      case "substr": {
        const [s, from, len] = args;
        if (typeof len === "number" && len < 0) return simple(`the text of ${p(s)} from position ${p(from)} without its last ${-len} characters`);
        if (len === undefined || len === null) return simple(`the text of ${p(s)} from position ${p(from)}`);
        return simple(`${p(len)} characters of ${p(s)} from position ${p(from)}`);
      }
      case "min":
        return simple(`the smallest of ${list(args)}`);
      case "max":
        return simple(`the largest of ${list(args)}`);
      case "merge":
        return simple(`the list of ${list(args)} merged`);
      case "missing": {
        const keys = Array.isArray(args[0]) ? (args[0] as Json[]) : args;
        return simple(`the missing ones among ${keys.map((k) => (typeof k === "string" ? k : p(k))).join(", ")}`);
      }
      case "missing_some": {
        const keys = Array.isArray(args[1]) ? (args[1] as Json[]) : [];
        return simple(`the missing ones among ${keys.map((k) => (typeof k === "string" ? k : p(k))).join(", ")}, unless at least ${p(args[0])} are present`);
      }
      case "some":
        return compound(`some item of ${p(args[0])} has ${p(args[1], "item")}`);
      case "all":
        return compound(`${p(args[0])} is not empty and every item has ${p(args[1], "item")}`);
      case "none":
        return compound(`no item of ${p(args[0])} has ${p(args[1], "item")}`);
      case "map":
        return simple(`each item of ${p(args[0])} turned into ${p(args[1], "item")}`);
      case "filter":
        return simple(`the items of ${p(args[0])} with ${p(args[1], "item")}`);
      case "reduce":
        return simple(`${p(args[0])} folded into one value, starting from ${args.length > 2 ? p(args[2]) : "the first item"}, by ${p(args[1], "reduce")}`);
      case "startsWith":
        return compound(`${p(args[0])} starts with ${p(args[1])}`);
      case "endsWith":
        return compound(`${p(args[0])} ends with ${p(args[1])}`);
      case "length":
        return simple(`the length of ${p(args[0])}`);
      case "keys":
        return simple(`the keys of ${p(args[0])} (sorted)`);
      case "since":
        return simple(`the milliseconds from ${p(args[0])} to the block time`);
      case "daysSince":
        return simple(`the whole days from ${p(args[0])} to the block time`);
      case "isoDate":
        return simple(args.length === 0 ? "the UTC date (YYYY-MM-DD) of the block" : `the UTC date (YYYY-MM-DD) of ${p(args[0])}`);
      case "preserve":
        return simple(`the literal ${compact(raw)}`);
      default:
        return simple(compact(expr));
    }
  }

  /** A direct phrasing of "not X" for the forms auditors meet most, or undefined. */
  private negation(expr: Json, scope: Scope, depth: number): string | undefined {
    if (expr === null || typeof expr !== "object" || Array.isArray(expr)) return undefined;
    const keys = Object.keys(expr);
    if (keys.length !== 1) return undefined;
    const op = keys[0];
    const raw = expr[op];
    const args: Json[] = Array.isArray(raw) ? raw : [raw];
    const p = (e: Json | undefined): string => this.part(e ?? null, scope, depth + 1);
    const flipped: Readonly<Record<string, string>> = { "==": "is not", "!=": "is", "===": "is not exactly", "!==": "is exactly" };
    if (op in flipped && args.length === 2) return `${p(args[0])} ${flipped[op]} ${p(args[1])}`;
    if (op === "in" && args.length === 2) return `${p(args[0])} is not in ${p(args[1])}`;
    if (op === "startsWith" && args.length === 2) return `${p(args[0])} does not start with ${p(args[1])}`;
    if (op === "endsWith" && args.length === 2) return `${p(args[0])} does not end with ${p(args[1])}`;
    if (op === "missing") {
      const names = Array.isArray(args[0]) ? (args[0] as Json[]) : args;
      if (names.every((n) => typeof n === "string")) return `${names.join(", ")} ${names.length === 1 ? "is" : "are all"} present (not null or empty)`;
    }
    return undefined;
  }

  private varText(args: Json[], scope: Scope, depth: number): string {
    const target = args.length === 0 ? null : args[0];
    let name: string;
    if (target === null || target === "") name = scope === "item" ? "the item" : scope === "reduce" ? "the reduce state" : "the whole context";
    else if (typeof target === "string" || typeof target === "number") {
      const path = String(target);
      if (scope === "item") name = `the item's ${path}`;
      else if (scope === "reduce") name = path.startsWith("accumulator") ? `the running ${path}` : `the current ${path.replace(/^current\.?/, "item ")}`.trim();
      else name = path + this.paramValue(path);
    } else name = `the value at the path ${this.part(target, scope, depth)}`;
    if (args.length > 1 && Array.isArray(args)) return `${name} (or ${this.part(args[1], scope, depth)} if missing)`;
    return name;
  }

  /**
   * " (= 500)" after channel.params.max when the params are known; " (a list of
   * 20,000 items)" for a long value. A computed
   * path (`channel.params.limits.{data.kind}`) names a value only at run time:
   * it is shown as written, with nothing after it.
   */
  private paramValue(path: string): string {
    if (this.params === undefined || !path.startsWith("channel.params.") || isComputedPath(path)) return "";
    const v = resolveSegments(this.params, splitPath(path).slice(2), undefined);
    if (v === undefined) return "";
    const text = boundedJson(v as Json, PARAM_CHARS);
    return text !== undefined ? ` (= ${text})` : ` (${inlineValue(v as Json, PARAM_CHARS)})`;
  }

  private ifText(args: Json[], scope: Scope, depth: number): string {
    if (args.length === 1) return this.part(args[0], scope, depth);
    const parts: string[] = [];
    let i = 0;
    for (; i + 1 < args.length; i += 2) {
      parts.push(`${i === 0 ? "if" : "else if"} ${this.part(args[i], scope, depth)} then ${this.part(args[i + 1], scope, depth)}`);
    }
    parts.push(`else ${i < args.length ? this.part(args[i], scope, depth) : "null"}`);
    return parts.join(", ");
  }
}

function simple(text: string): Phrase {
  return { text, compound: false };
}

function compound(text: string): Phrase {
  return { text, compound: true };
}

/** Compact JSON, or a value's size when it is long; strings keep their quotes so auditors see literals as literals. */
function compact(v: Json | undefined): string {
  return inlineValue(v);
}
