/**
 * The JSON Schemas of the L0 API (schemas/l0-api/*.json), compiled once with
 * ajv. The HTTP edge checks every request body against its schema before the
 * service decides it; tests check that what the service answers matches the
 * response schemas, so the published schemas cannot drift from the code.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";

const dir = new URL("../../schemas/l0-api/", import.meta.url);

/** The schema files, by the name the API uses. */
export const API_SCHEMAS = ["submission", "registration", "upgrade", "resume", "ack", "global"] as const;
export type ApiSchema = (typeof API_SCHEMAS)[number];

let compiled: Record<ApiSchema, ValidateFunction> | undefined;

function load(): Record<ApiSchema, ValidateFunction> {
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: false });
  ajv.addSchema(JSON.parse(readFileSync(new URL("common.schema.json", dir), "utf8")) as object);
  const out = {} as Record<ApiSchema, ValidateFunction>;
  for (const name of API_SCHEMAS) out[name] = ajv.compile(JSON.parse(readFileSync(new URL(`${name}.schema.json`, dir), "utf8")) as object);
  return out;
}

/**
 * Checks `value` against schemas/l0-api/NAME.schema.json; returns undefined
 * when it matches, else where and why it does not (ajv's words: an answer to
 * a client, never part of anything validators compare).
 */
export function schemaProblem(name: ApiSchema, value: unknown): string | undefined {
  compiled ??= load();
  const v = compiled[name];
  if (v(value)) return undefined;
  const e = v.errors?.[0];
  return e === undefined ? "does not match" : `${e.instancePath || "(the body)"} ${e.message ?? e.keyword}`;
}
