/** The language schema documents every key, and every code is documented. */
import { describe, expect, it } from "vitest";
import { Ajv } from "ajv";
import { CHANNEL_SCHEMA, DEFINITION_CODES, VERDICT_CODES } from "../../../runtime/definition/index.js";
import { fixture } from "./helpers.js";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers.js";

type Node = { [k: string]: unknown };

/** Every property schema and every definition, with its path. */
function walk(node: unknown, path: string, out: Array<[string, Node]>): void {
  if (!node || typeof node !== "object") return;
  const n = node as Node;
  for (const key of ["properties", "definitions"] as const) {
    const props = n[key] as Record<string, unknown> | undefined;
    if (props) for (const [k, v] of Object.entries(props)) {
      out.push([`${path}/${key}/${k}`, v as Node]);
      walk(v, `${path}/${key}/${k}`, out);
    }
  }
  for (const key of ["items", "additionalProperties"] as const) if (n[key] && typeof n[key] === "object") walk(n[key], `${path}/${key}`, out);
}

describe("schemas/channel.schema.json", () => {
  it("is a draft-07 schema ajv compiles in strict mode", () => {
    const ajv = new Ajv({ strict: true, strictTypes: false, allowUnionTypes: true });
    expect(() => ajv.compile(CHANNEL_SCHEMA as object)).not.toThrow();
    expect((CHANNEL_SCHEMA as Node).$schema).toBe("http://json-schema.org/draft-07/schema#");
  });

  it("describes every key", () => {
    const all: Array<[string, Node]> = [];
    walk(CHANNEL_SCHEMA, "#", all);
    expect(all.length).toBeGreaterThan(60);
    const undocumented = all.filter(([, s]) => typeof s.description !== "string" && typeof s.$ref !== "string").map(([p]) => p);
    expect(undocumented).toEqual([]);
  });

  it("closes every language object", () => {
    const all: Array<[string, Node]> = [];
    walk(CHANNEL_SCHEMA, "#", all);
    const open = all.filter(([, s]) => s.properties !== undefined && s.additionalProperties !== false).map(([p]) => p);
    expect(open).toEqual([]);
  });

  it("accepts the shortest legal channel and refuses empty groups and cells", () => {
    const ajv = new Ajv({ strict: true, strictTypes: false, allowUnionTypes: true, allErrors: true });
    const validate = ajv.compile(CHANNEL_SCHEMA as object);
    // A tiny YAML-free smoke check: the JSON form of the shortest legal channel.
    expect(validate({ channel: "c", version: 1, groups: { g: { validators: ["a"], threshold: 1 } }, cells: { c: { group: "g", accepts: true } } })).toBe(true);
    expect(validate({ channel: "c", version: 1, groups: {}, cells: {} })).toBe(false);
    // A cell with operations has no accepts of its own; each operation has one.
    const ops = { group: "g", signed: true, key: { var: "signer" }, code: { file: "./h.js", rejects: { "too-many": "x" } }, operations: { mint: { accepts: "Mint", rules: [{ name: "r", when: true, require: true }], emit: [{ to: "d", op: "x" }] } } };
    expect(validate({ channel: "c", version: 1, groups: { g: { validators: ["a"], threshold: 1 } }, cells: { c: ops } })).toBe(true);
    expect(validate({ channel: "c", version: 1, groups: { g: { validators: ["a"], threshold: 1 } }, cells: { c: { ...ops, operations: { mint: { rules: [] } } } } })).toBe(false);
    expect(fixture("test/fixtures/good/library.yaml")).toContain("yaml-language-server: $schema=");
  });
});

describe("docs/errors.md (definition codes)", () => {
  const doc = readFileSync(join(ROOT, "docs", "errors.md"), "utf8");
  it("lists every code with its meaning and remedy", () => {
    for (const [code, [meaning, remedy]] of Object.entries(DEFINITION_CODES)) {
      expect(doc).toContain(`| ${code} | ${meaning.replace(/\|/g, "\\|")} | ${remedy.replace(/\|/g, "\\|")} |`);
    }
  });

  it("lists the codes a test may expect, exactly as the loader knows them", () => {
    const section = /### Codes a test may expect\n\n([\s\S]*?)\n\n/.exec(doc)?.[1] ?? "";
    const listed = [...section.matchAll(/\b((?:CELL|SANDBOX|TOKEN|RULES)_[A-Z0-9_]+)\b/g)].map((m) => m[1]);
    expect(listed).toEqual([...VERDICT_CODES]);
  });

  it("covers every DEFINITION_ code the source can report", () => {
    const dir = join(ROOT, "runtime", "definition");
    const used = new Set(readdirSync(dir).flatMap((f) => [...readFileSync(join(dir, f), "utf8").matchAll(/"(DEFINITION_[A-Z_]+)"/g)].map((m) => m[1])));
    const missing = [...used].filter((c) => !(c in DEFINITION_CODES));
    expect(missing).toEqual([]);
  });
});
