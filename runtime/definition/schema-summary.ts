/**
 * A JSON Schema in plain words, for `explain`: required fields and their
 * types, bounds, patterns and allowed values. Deep structures are cut off at a
 * few levels: an auditor reads the shape, the schema itself holds the detail.
 * A named schema is summarised once per cell that accepts it, so long values
 * (enum lists, constants, patterns) are shown by their size past a few
 * hundred characters: a large enum accepted by many cells would otherwise be
 * copied into the text once per cell. A `$ref` to one of the channel's
 * schemas is named ("schema Mint"), and a union of such references reads
 * "one of: CreateCollection, Mint, Transfer"; a cell that accepts a bare
 * reference is summarised as the schema it names.
 */
import type { Json } from "../core/canonical.js";
import { inlineValue } from "../rules/describe.js";
import { formatCount } from "./suggest.js";

type Obj = { [k: string]: Json };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

const MAX_DEPTH = 3;
/** Longest text of an enum list, a constant or a pattern in a summary. */
const SHOWN_CHARS = 300;

/** The channel's named schemas, for `$ref: NAME` (absent: references are named, never followed). */
export interface SummaryOptions {
  named?: Readonly<Record<string, { schema: Json }>>;
}

/** "an object with required fields a (text), b (a number, at least 0); no other fields". */
export function summariseSchema(schema: Json, depth = 0, opts: SummaryOptions = {}): string {
  if (schema === true || (isObj(schema) && Object.keys(schema).length === 0)) return "any JSON value";
  if (schema === false) return "nothing (every input is rejected)";
  if (!isObj(schema)) return "any JSON value";
  const ref = namedRef(schema, opts);
  if (ref !== undefined) {
    // A bare reference at the top is the schema it names; below, its name is enough.
    const target = opts.named?.[ref]?.schema;
    return depth === 0 && isObj(target) && namedRef(target, opts) === undefined ? `schema ${ref}: ${summariseSchema(target, depth + 1, opts)}` : `schema ${ref}`;
  }
  if (Array.isArray(schema.enum)) return enumSummary(schema.enum);
  if ("const" in schema) return `exactly ${show(schema.const)}`;
  const types = Array.isArray(schema.type) ? schema.type.map(String) : typeof schema.type === "string" ? [schema.type] : [];
  if (types.length === 0) {
    if (isObj(schema.properties)) return objectSummary(schema, depth, opts);
    for (const k of ["anyOf", "oneOf"] as const) {
      const alts = schema[k];
      if (!Array.isArray(alts)) continue;
      const names = alts.map((a) => (isObj(a) ? namedRef(a, opts) : undefined));
      if (names.length > 0 && names.every((n) => n !== undefined)) return `one of: ${names.join(", ")}`;
      return `${k === "oneOf" ? "exactly one of" : "any of"}: ${alts.map((a) => summariseSchema(a, depth + 1, opts)).join("; or ")}`;
    }
    return "any JSON value";
  }
  return types.map((t) => typeSummary(t, schema, depth, opts)).join(" or ");
}

/** The name a schema of only `$ref: NAME` (and annotations) refers to, when NAME is one of the channel's schemas (or no list is given). */
function namedRef(s: Obj, opts: SummaryOptions): string | undefined {
  const ref = s.$ref;
  if (typeof ref !== "string" || ref.startsWith("#")) return undefined;
  if (Object.keys(s).some((k) => k !== "$ref" && k !== "description" && k !== "title" && k !== "$comment")) return undefined;
  return opts.named === undefined || Object.prototype.hasOwnProperty.call(opts.named, ref) ? ref : undefined;
}

function typeSummary(type: string, s: Obj, depth: number, opts: SummaryOptions): string {
  switch (type) {
    case "object":
      return objectSummary(s, depth, opts);
    case "array": {
      const items = s.items !== undefined && !Array.isArray(s.items) ? ` of ${depth >= MAX_DEPTH ? "values" : plural(summariseSchema(s.items, depth + 1, opts))}` : "";
      return `a list${items}${range(s.minItems, s.maxItems, "item")}${s.uniqueItems === true ? ", no repeats" : ""}`;
    }
    case "string": {
      const bits = [range(s.minLength, s.maxLength, "character").replace(/^, /, "")];
      if (typeof s.pattern === "string") bits.push(s.pattern.length <= SHOWN_CHARS ? `matching ${s.pattern}` : `matching a pattern of ${s.pattern.length} characters`);
      return `text${join(bits)}`;
    }
    case "integer":
    case "number":
      return `${type === "integer" ? "an integer" : "a number"}${join([bounds(s)])}`;
    case "boolean":
      return "true or false";
    case "null":
      return "null";
    default:
      return type;
  }
}

function objectSummary(s: Obj, depth: number, opts: SummaryOptions): string {
  const props = isObj(s.properties) ? s.properties : {};
  const required = Array.isArray(s.required) ? s.required.map(String) : [];
  const field = (name: string) => (depth >= MAX_DEPTH ? name : `${name} (${summariseSchema(props[name] ?? true, depth + 1, opts)})`);
  const optional = Object.keys(props).filter((k) => !required.includes(k));
  const parts: string[] = [];
  if (required.length) parts.push(`required field${required.length === 1 ? "" : "s"} ${required.map(field).join(", ")}`);
  if (optional.length) parts.push(`optional field${optional.length === 1 ? "" : "s"} ${optional.map(field).join(", ")}`);
  let text = parts.length ? `an object with ${parts.join("; ")}` : "an object";
  if (s.additionalProperties === false) text += parts.length ? "; no other fields" : " with no fields";
  return text;
}

function bounds(s: Obj): string {
  const lo = typeof s.minimum === "number" ? `at least ${s.minimum}` : typeof s.exclusiveMinimum === "number" ? `more than ${s.exclusiveMinimum}` : "";
  const hi = typeof s.maximum === "number" ? `at most ${s.maximum}` : typeof s.exclusiveMaximum === "number" ? `less than ${s.exclusiveMaximum}` : "";
  const parts = [lo, hi].filter(Boolean);
  if (typeof s.multipleOf === "number") parts.push(`a multiple of ${s.multipleOf}`);
  return parts.join(" and ");
}

function range(min: Json | undefined, max: Json | undefined, unit: string): string {
  const a = typeof min === "number" ? min : undefined;
  const b = typeof max === "number" ? max : undefined;
  if (a !== undefined && b !== undefined) return a === b ? `, exactly ${a} ${unit}${a === 1 ? "" : "s"}` : `, ${a} to ${b} ${unit}s`;
  if (a !== undefined) return `, at least ${a} ${unit}${a === 1 ? "" : "s"}`;
  if (b !== undefined) return `, at most ${b} ${unit}${b === 1 ? "" : "s"}`;
  return "";
}

function join(bits: string[]): string {
  const b = bits.filter(Boolean);
  return b.length ? `, ${b.join(", ")}` : "";
}

function plural(text: string): string {
  if (text.startsWith("schema ")) return `values of ${text}`;
  if (text.startsWith("one of: ")) return `values, each ${text}`;
  return text.replace(/^an? /, "").replace(/^(object|integer|number|list)\b/, "$1s");
}

function show(v: Json | undefined): string {
  return inlineValue(v, SHOWN_CHARS);
}

/** `one of "a", "b"`, or `one of 20,000 values (the first: "a")` when the list is long. */
function enumSummary(values: Json[]): string {
  const parts: string[] = [];
  let length = 0;
  for (const v of values) {
    const t = show(v);
    length += t.length + 2;
    if (length > SHOWN_CHARS) return `one of ${formatCount(values.length)} values (the first: ${show(values[0])})`;
    parts.push(t);
  }
  return `one of ${parts.join(", ")}`;
}
