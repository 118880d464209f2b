/**
 * The request bodies' JSON Schemas (schemas/api/*.json, the files clients
 * read), compiled once per limit with ajv, and their first error turned into
 * a 400 answer in the API's own words with the JSON Pointer of what is
 * wrong. Only the envelope is checked here: `data` is any JSON (the core
 * checks it against the cell), so no schema walks client data.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import submissionSchema from "../../../schemas/api/submission.schema.json" with { type: "json" };
import inputsSchema from "../../../schemas/api/inputs-request.schema.json" with { type: "json" };
import streamSchema from "../../../schemas/api/stream-message.schema.json" with { type: "json" };
import { closest } from "../../core/suggest.js";
import { failure, shown, type ApiFailure } from "./errors.js";

/** The two validators a server uses: POST bodies and stream messages. */
export interface BodyValidators {
  inputs: ValidateFunction;
  stream: ValidateFunction;
}

const cache = new Map<number, BodyValidators>();

/**
 * Validators whose `inputs` lists take at most `maxInputs` items (the
 * server's limit replaces the schema files' default of 10,000; the scan of
 * the text has already counted them, so this is the same bound twice).
 */
export function bodyValidators(maxInputs: number): BodyValidators {
  const known = cache.get(maxInputs);
  if (known) return known;
  // strict: unknown keywords in these files are errors; strictRequired off
  // because `if: { required: [inputs] }` tests for a key it does not define.
  // allErrors off: the first error is the answer, and a 10,000-item batch
  // with a fault in each must not build 10,000 error objects.
  const ajv = new Ajv({ strict: true, strictRequired: false, strictTypes: false, allowUnionTypes: true, allErrors: false, verbose: true });
  ajv.addSchema(submissionSchema);
  const inputs = ajv.compile(withMaxItems(inputsSchema, maxInputs));
  const stream = ajv.compile(withMaxItems(streamSchema, maxInputs));
  const v = { inputs, stream };
  cache.set(maxInputs, v);
  return v;
}

/** A copy of `schema` in which every `inputs` list has `maxItems: max`. */
function withMaxItems(schema: object, max: number): object {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = k === "examples" ? v : walk(v);
    const props = out.properties as Record<string, Record<string, unknown>> | undefined;
    if (props?.inputs && typeof props.inputs === "object" && "maxItems" in props.inputs) props.inputs = { ...props.inputs, maxItems: max };
    return out;
  };
  // The copy keeps its $id: `submission.schema.json` resolves against it (each server's ajv is its own).
  return walk(schema) as object;
}

/** The answer for the first error `validate` found in `value`; `what` names the body ("the body", "the message"). */
export function schemaFailure(validate: ValidateFunction, value: unknown, what: string): ApiFailure {
  const e = validate.errors?.[0];
  if (e === undefined) return failure(400, "API_BAD_BODY", `${what} is not valid`, "see schemas/api/");
  return describeError(e, value, what);
}

function describeError(e: ErrorObject, root: unknown, what: string): ApiFailure {
  const params = e.params as Record<string, unknown>;
  const where = e.instancePath === "" ? what : `\`${e.instancePath}\``;
  const here = valueAt(root, e.instancePath);
  const schema = e.parentSchema as { description?: string; properties?: Record<string, { description?: string }> } | undefined;
  const at = (path: string) => ({ path, in: "body" as const });
  switch (e.keyword) {
    case "required": {
      const missing = String(params.missingProperty);
      const desc = schema?.properties?.[missing]?.description;
      return failure(400, "API_BAD_BODY", `${where} has no "${missing}"`, `add "${missing}"${desc ? `: ${lowerFirst(firstSentence(desc))}` : ""}`, at(`${e.instancePath}/${missing}`));
    }
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(schema?.properties ?? {});
      const guess = closest(key, allowed);
      return failure(
        400,
        "API_BAD_BODY",
        `${where} has an unknown key ${shown(key)}${guess ? ` (did you mean "${guess}"?)` : ""}`,
        guess ? `write "${guess}"` : `use only ${allowed.map((k) => `"${k}"`).join(", ")}`,
        at(`${e.instancePath}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`),
      );
    }
    case "dependencies": {
      const missing = String(params.missingProperty);
      return failure(400, "API_BAD_BODY", `${where} has "${String(params.property)}" but no "${missing}"`, "send signer and signature together, or neither", at(`${e.instancePath}/${missing}`));
    }
    case "type":
      return failure(400, "API_BAD_BODY", `${where} is ${describeValue(here)}; allowed: ${String(params.type).split(",").map(article).join(" or ")}`, `send ${String(params.type).split(",").map(article).join(" or ")}`, at(e.instancePath));
    case "enum":
    case "const": {
      const allowed = (params.allowedValues as unknown[] | undefined) ?? [params.allowedValue];
      return failure(400, "API_BAD_BODY", `${where} is ${describeValue(here)}; allowed: ${allowed.map((v) => JSON.stringify(v)).join(", ")}`, `write one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`, at(e.instancePath));
    }
    case "pattern":
      return failure(400, "API_BAD_BODY", `${where} is ${describeValue(here)}, not of the required form`, schema?.description ? `send ${lowerFirst(firstSentence(schema.description))}` : `match ${String(params.pattern)}`, at(e.instancePath));
    case "maxItems":
    case "minItems":
    case "maxLength":
    case "minLength":
    case "maximum":
    case "minimum": {
      const limit = Number(params.limit);
      const size = Array.isArray(here) ? `${here.length} items` : typeof here === "string" ? `${here.length} characters` : describeValue(here);
      const bound = e.keyword.startsWith("max") ? "at most" : "at least";
      const unit = e.keyword.endsWith("Items") ? " items" : e.keyword.endsWith("Length") ? " characters" : "";
      return failure(400, "API_BAD_BODY", `${where} has ${size}; allowed: ${bound} ${limit}${unit}`, `send ${bound} ${limit}${unit}`, at(e.instancePath));
    }
    case "uniqueItems":
      return failure(400, "API_BAD_BODY", `${where} lists one item twice (items ${Number(params.j) + 1} and ${Number(params.i) + 1})`, "list each item once", at(`${e.instancePath}/${Math.max(Number(params.i), Number(params.j))}`));
    default:
      return failure(400, "API_BAD_BODY", `${where} does not match the request schema (${e.keyword})`, "see schemas/api/ for the body's form", at(e.instancePath));
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === "") return root;
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    if (cur === null || typeof cur !== "object") return undefined;
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    cur = Object.prototype.hasOwnProperty.call(cur, seg) ? (cur as Record<string, unknown>)[seg] : undefined;
  }
  return cur;
}

/** `the text "abc"`, `a list`, `an object`, `the number 3`: what the client sent. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "absent";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `the text ${shown(v, 40)}`;
  if (typeof v === "number") return `the number ${String(v)}`;
  return `${typeof v} ${String(v)}`;
}

function article(type: string): string {
  if (type === "object") return "an object";
  if (type === "array") return "a list";
  if (type === "integer") return "an integer";
  if (type === "null") return "null";
  return `a ${type}`;
}

function firstSentence(text: string): string {
  const m = /^(.*?\.)(\s|$)/.exec(text);
  return (m ? m[1] : text).replace(/\.$/, "");
}

function lowerFirst(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s[0].toLowerCase() + s.slice(1) : s;
}
