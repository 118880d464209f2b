import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const FILES = ["schemas/node.schema.json", "schemas/network.schema.json", "schemas/api/submission.schema.json", "schemas/api/inputs-request.schema.json", "schemas/api/stream-message.schema.json", "schemas/api/token.schema.json"];

/** Paths of keys (under `properties`, and the schemas of additional properties, names and items) that have no description. */
function undocumented(node: unknown, path: string, out: string[]): string[] {
  if (node === null || typeof node !== "object" || Array.isArray(node)) return out;
  const n = node as Record<string, unknown>;
  for (const [k, v] of Object.entries((n.properties as Record<string, Record<string, unknown>> | undefined) ?? {})) {
    if (typeof v.description !== "string" || v.description === "") out.push(`${path}/properties/${k}`);
    undocumented(v, `${path}/properties/${k}`, out);
  }
  for (const key of ["additionalProperties", "items", "propertyNames"]) {
    const sub = n[key];
    if (sub !== null && typeof sub === "object" && !Array.isArray(sub) && !("$ref" in sub)) {
      if (typeof (sub as { description?: unknown }).description !== "string") out.push(`${path}/${key}`);
      undocumented(sub, `${path}/${key}`, out);
    }
  }
  for (const key of ["allOf", "anyOf", "oneOf"]) for (const [i, s] of ((n[key] as unknown[] | undefined) ?? []).entries()) undocumented(s, `${path}/${key}/${i}`, out);
  for (const key of ["then", "else"]) undocumented(n[key], `${path}/${key}`, out);
  for (const [k, d] of Object.entries((n.definitions as Record<string, unknown> | undefined) ?? {})) undocumented(d, `${path}/definitions/${k}`, out);
  return out;
}

describe("the config and API schemas", () => {
  it.each(FILES)("%s describes every key", (file) => {
    const schema = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(typeof schema.description).toBe("string");
    expect(undocumented(schema, "", [])).toEqual([]);
  });
});
