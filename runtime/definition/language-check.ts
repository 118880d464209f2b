/**
 * Stage 2: the document against schemas/channel.schema.json, the very file
 * editors use for autocomplete, so the documentation and the checks cannot
 * drift. ajv errors are mapped back to YAML nodes and turned into located
 * problems with codes and remedies.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { toPath, valueAt } from "./json-pointer.js";
import channelSchema from "../../schemas/channel.schema.json" with { type: "json" };
import type { Json } from "../core/canonical.js";
import { formatPath, type DocPath, type Reporter } from "./reporter.js";
import { closest, listWords, type SuggestBudget } from "./suggest.js";


interface LanguageValidators {
  channel: ValidateFunction;
  tests: ValidateFunction;
}

let cached: LanguageValidators | undefined;

/** Compiled once per process: the language schema never changes at run time. */
function validators(): LanguageValidators {
  if (cached) return cached;
  // strictTypes is off because the language uses union types on purpose
  // (`threshold: 3 | "2/3"`); unknown keywords in the language schema still throw.
  // verbose: errors carry their parentSchema, which is how an error inside a
  // $ref'd definition finds the allowed keys and descriptions for its message.
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true, verbose: true });
  // The language schema with every `$ref` replaced by what it points at. ajv
  // compiles a `$ref` to a call that concatenates the callee's errors onto all
  // the errors so far (vErrors.concat), which is quadratic in the number of
  // errors: 20,000 cells with an unknown key each spent 2 s there. Inlined,
  // every error is one push. The language schema has no recursive reference.
  const resolved = inlineRefs(channelSchema as Json) as { [k: string]: Json };
  const channel = ajv.compile(resolved);
  const tests = ajv.compile({
    type: "object",
    required: ["tests"],
    additionalProperties: false,
    properties: { tests: (resolved.definitions as { [k: string]: Json }).tests },
  });
  cached = { channel, tests };
  return cached;
}

/**
 * A copy of the language schema in which every local `$ref` (`#/definitions/NAME`)
 * is replaced by the (inlined) definition, keeping the referring node's other
 * keys where the definition has none of its own (they are annotations:
 * descriptions, examples). Throws on a recursive reference (a bug in the schema).
 */
function inlineRefs(root: Json): Json {
  const done = new Map<string, Json>();
  const active = new Set<string>();
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== "object") return node;
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(node)) {
      // Data, not schemas: examples and defaults are copied as they are.
      out[k] = k === "examples" || k === "default" || k === "enum" || k === "const" ? v : walk(v);
    }
    const ref = out.$ref;
    if (typeof ref !== "string" || !ref.startsWith("#/")) return out;
    delete out.$ref;
    return { ...out, ...(target(ref) as { [k: string]: Json }) };
  };
  const target = (ref: string): Json => {
    const known = done.get(ref);
    if (known !== undefined) return known;
    if (active.has(ref)) throw new Error(`channel.schema.json refers to ${ref} recursively`);
    active.add(ref);
    const found = schemaAt(ref);
    if (!found) throw new Error(`channel.schema.json: ${ref} does not exist`);
    const value = walk(found as Json);
    active.delete(ref);
    done.set(ref, value);
    return value;
  };
  const out = walk(root) as { [k: string]: Json };
  delete out.$id;
  return out;
}

/** The language schema as a JSON value (for tools and tests). */
export const CHANNEL_SCHEMA: Json = channelSchema as Json;

/** Checks a channel document; returns false when it has structural errors. */
export function checkChannelDocument(value: Json, reporter: Reporter): boolean {
  return report(validators().channel, value, reporter);
}

/** Checks a NAME.test.yaml document (`tests:` at the top level). */
export function checkTestsDocument(value: Json, reporter: Reporter): boolean {
  return report(validators().tests, value, reporter);
}

function report(validate: ValidateFunction, value: Json, reporter: Reporter): boolean {
  if (validate(value)) return true;
  const errors = validate.errors ?? [];
  const seen = new Set<string>();
  // An unknown key that looks like a missing required one is reported once, as the typo.
  const suggested = new Set<string>();
  const mapped = errors.map((e) => mapError(e, value, reporter.suggestions)).filter((m): m is Mapped => m !== undefined);
  for (const m of mapped) if (m.suggestion) suggested.add(`${formatPath(m.parent)}\u0000${m.suggestion}`);
  // A merge key (`<<`) stands in for keys it would have merged: report it, not what it hides.
  const merged = new Set(mapped.filter((m) => m.code === "DEFINITION_UNKNOWN_KEY" && m.path[m.path.length - 1] === "<<").map((m) => formatPath(m.parent)));
  for (const m of mapped) {
    if (m.code === "DEFINITION_MISSING_KEY" && m.missing && suggested.has(`${formatPath(m.parent)}\u0000${m.missing}`)) continue;
    if (m.code === "DEFINITION_MISSING_KEY" && merged.has(formatPath(m.parent))) continue;
    const id = `${m.code}\u0000${formatPath(m.path)}\u0000${m.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    reporter.error(m.code, m.path, m.message, m.remedy, { anchor: m.anchor });
  }
  return false;
}

interface Mapped {
  code: string;
  path: DocPath;
  parent: DocPath;
  message: string;
  remedy: string;
  anchor: "key" | "value";
  suggestion?: string;
  missing?: string;
}

function mapError(e: ErrorObject, root: Json, suggestions: SuggestBudget): Mapped | undefined {
  const parent = toPath(e.instancePath, root);
  const where = describePlace(parent);
  const here = valueAt(root, parent);
  const params = e.params as Record<string, unknown>;
  // Errors under `propertyNames` carry the offending key: report the key, once.
  const propertyName = (e as { propertyName?: string }).propertyName;
  if (e.keyword === "propertyNames") return undefined;
  if (propertyName !== undefined) {
    const rule = e.parentSchema as SchemaNode | undefined;
    return {
      code: "DEFINITION_BAD_NAME",
      path: [...parent, propertyName],
      parent,
      message: `"${propertyName}" is not a valid ${describeOwner(parent)} name`,
      remedy: `rename it: ${firstSentence(rule?.description ?? "letters, digits, `-` and `_`, starting with a letter").replace(/^A (schema )?name: /, "")}`,
      anchor: "key",
    };
  }
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(parentOf(e)?.properties ?? {});
      const guess = closest(key, allowed, suggestions);
      return {
        code: "DEFINITION_UNKNOWN_KEY",
        path: [...parent, key],
        parent,
        message: `unknown key "${key}" in ${where}${guess ? ` (did you mean "${guess}"?)` : ""}`,
        remedy: key === "<<"
          ? "YAML merge keys (<<) are not supported: write the keys out"
          : guess
          ? `write "${guess}"`
          : /[ ,]/.test(key)
            ? "a comma inside `{ ... }` ends a value: quote text that contains commas"
            : `use one of: ${allowed.join(", ")}`,
        anchor: "key",
        ...(guess ? { suggestion: guess } : {}),
      };
    }
    case "required": {
      const missing = String(params.missingProperty);
      const desc = (parentOf(e)?.properties?.[missing] as SchemaNode | undefined)?.description;
      return {
        code: "DEFINITION_MISSING_KEY",
        path: parent,
        parent,
        message: `${where} is missing "${missing}"`,
        remedy: `add \`${missing}:\`${desc ? ` (${firstSentence(desc)})` : ""}`,
        anchor: "key",
        missing,
      };
    }
    case "type": {
      const want = String(params.type).split(",");
      return {
        code: "DEFINITION_WRONG_TYPE",
        path: parent,
        parent,
        message: `${where} must be ${listWords(want.map(article))}, not ${describeValue(here)}`,
        remedy: typeRemedy(want, here),
        anchor: "value",
      };
    }
    case "uniqueItems": {
      const i = Number(params.i);
      const j = Number(params.j);
      const later = Math.max(i, j);
      const item = Array.isArray(here) ? here[later] : undefined;
      return {
        code: "DEFINITION_DUPLICATE_NAME",
        path: [...parent, later],
        parent,
        message: `${where} lists ${JSON.stringify(item)} twice (items ${Math.min(i, j) + 1} and ${later + 1})`,
        remedy: "list each one once",
        anchor: "value",
      };
    }
    case "pattern": {
      const owner = parentOf(e);
      return {
        code: "DEFINITION_BAD_VALUE",
        path: parent,
        parent,
        message: `${JSON.stringify(here)} is not a valid value for ${where}`,
        remedy: firstSentence(owner?.description ?? `match ${String(params.pattern)}`),
        anchor: "value",
      };
    }
    default:
      return {
        code: "DEFINITION_BAD_VALUE",
        path: parent,
        parent,
        message: `${where} ${e.message ?? "is not valid"}${here !== undefined && typeof here !== "object" ? ` (got ${JSON.stringify(here)})` : ""}`,
        remedy: firstSentence(parentOf(e)?.description ?? "see schemas/channel.schema.json"),
        anchor: "value",
      };
  }
}

/** The schema object holding the failing keyword, with `$ref`s followed. */
function parentOf(e: ErrorObject): SchemaNode | undefined {
  let node = e.parentSchema as SchemaNode | undefined;
  for (let hops = 0; node?.$ref && hops < 8; hops++) node = schemaAt(node.$ref);
  return node;
}

interface SchemaNode {
  description?: string;
  properties?: Record<string, unknown>;
  $ref?: string;
}

/** Resolves a schemaPath like `#/definitions/cell/additionalProperties` in the language schema. */
function schemaAt(pointer: string): SchemaNode | undefined {
  let cur: unknown = channelSchema;
  const body = pointer.replace(/^[^#]*#/, "");
  if (body === "") return cur as SchemaNode;
  for (const raw of body.slice(1).split("/")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[raw.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return cur !== null && typeof cur === "object" ? (cur as SchemaNode) : undefined;
}

/**
 * "cell \"readings\"", "rule 1 of cell \"readings\"", "rule 1 of operation
 * \"mint\" of cell \"registry\"", "the channel": how messages name a place.
 */
export function describePlace(path: DocPath): string {
  if (path.length === 0) return "the channel";
  const [top, name, sub, index, ...rest] = path;
  if (top === "cells" && name !== undefined && sub === "operations" && index !== undefined) {
    const op = `operation "${String(index)}" of cell "${String(name)}"`;
    const [part, i, ...more] = rest;
    if (part === undefined) return op;
    if (typeof i === "number") {
      const what = part === "rules" ? "rule" : part === "state" ? "state update" : part === "emit" ? "emit" : String(part);
      return more.length ? `\`${formatPath(more)}\` of ${what} ${i + 1} of ${op}` : `${what} ${i + 1} of ${op}`;
    }
    return `\`${formatPath(rest)}\` of ${op}`;
  }
  if ((top === "cells" || top === "groups" || top === "schemas") && name !== undefined) {
    const kind = top === "cells" ? "cell" : top === "groups" ? "group" : "schema";
    const base = `${kind} "${String(name)}"`;
    if (sub === undefined) return base;
    if (typeof index === "number") {
      const what = sub === "rules" ? "rule" : sub === "state" ? "state update" : sub === "emit" ? "emit" : String(sub);
      return rest.length ? `\`${formatPath(rest)}\` of ${what} ${index + 1} of ${base}` : `${what} ${index + 1} of ${base}`;
    }
    return `\`${formatPath(path.slice(2))}\` of ${base}`;
  }
  if (top === "tests" && typeof name === "number") {
    return path.length === 2 ? `test ${name + 1}` : `\`${formatPath(path.slice(2))}\` of test ${name + 1}`;
  }
  return `\`${formatPath(path)}\``;
}

function describeOwner(path: DocPath): string {
  const top = path[path.length - 1];
  if (top === "cells") return "cell";
  if (top === "operations") return "operation";
  if (top === "rejects") return "refusal";
  if (top === "groups") return "group";
  if (top === "schemas") return "schema";
  return String(top);
}

function article(type: string): string {
  const t = type === "object" ? "mapping" : type === "array" ? "list" : type === "null" ? "null" : type;
  return t === "null" ? "null" : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** `a string "yes"`, `a list`, `a mapping`: what the author actually wrote. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return "empty (null)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "number" && !Number.isInteger(v)) return `the number ${v}`;
  if (typeof v === "number") return `the integer ${v}`;
  if (typeof v === "string") return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function typeRemedy(want: string[], got: unknown): string {
  if (want.includes("integer") && typeof got === "number" && !Number.isInteger(got)) return "write a whole number";
  if (want.includes("boolean") && typeof got === "string") return "write true or false without quotes";
  if ((want.includes("integer") || want.includes("number")) && typeof got === "string") return "write the number without quotes";
  if (want.includes("string") && (typeof got === "number" || typeof got === "boolean")) return "quote the value to make it text";
  if (want.includes("array")) return "write a list: `[a, b]` or lines starting with `- `";
  if (want.includes("object")) return "write a mapping: `{ key: value }` or indented `key: value` lines";
  return `write ${listWords(want.map(article))}`;
}

function firstSentence(text: string): string {
  const m = /^(.*?\.)(\s|$)/.exec(text);
  return (m ? m[1] : text).replace(/\.$/, "");
}
