/**
 * Users' JSON Schemas, compiled with ONE ajv instance per channel (strict, all
 * errors, no $data), so a schema referenced by many cells compiles once
 * and nothing leaks between channels. The channel's named schemas are
 * registered with that instance under their names, so `$ref: Mint` in any of
 * the channel's schemas is Mint, and nothing else.
 */
import { Ajv } from "ajv";
import { canonicalString, type Json } from "../core/canonical.js";
import { checkPattern, re2RegExp } from "./patterns.js";
import type { SchemaPlan, ValidateFn } from "./plan.js";
import type { DocPath, Reporter } from "./reporter.js";
import { checkSchemaBounds, MAX_SCHEMA_REF_NODES, type NamedSchemas } from "./schema-bounds.js";

/** A channel's schema compiler. */
export interface SchemaCompiler {
  /**
   * Compiles `schema` found at `path`; reports DEFINITION_BAD_SCHEMA (and the
   * other schema problems) and returns undefined when it is refused, or when a
   * named schema it refers to is (that one's problems are reported at it).
   */
  compile(name: string, schema: Json, path: DocPath): SchemaPlan | undefined;
  /**
   * The channel's named schemas, each checked and compiled once, in the order
   * written; those refused are left out. Call before compiling any other schema.
   */
  compileNamed(): Record<string, SchemaPlan>;
  /** The named schemas `name` reaches through `$ref` (after compileNamed), for "is this schema used". */
  referencedBy(name: string): ReadonlySet<string>;
  /** The named schemas the inline schemas compiled so far reach through `$ref`. */
  referencedByInline(): ReadonlySet<string>;
}

/** A named schema as written, and where. */
export interface NamedSchemaSource {
  schema: Json;
  path: DocPath;
}

/**
 * Checking a schema against the draft-07 meta-schema is the same for every
 * channel, and compiling the meta-schema costs ~25 ms per ajv instance, so one
 * shared checker does it; per-channel instances skip it (validateSchema: false).
 */
let metaChecker: Ajv | undefined;
function metaCheck(schema: Json): Ajv["errors"] {
  metaChecker ??= new Ajv({ strict: true, allErrors: true });
  return metaChecker.validateSchema(schema as object | boolean) ? null : metaChecker.errors;
}

/**
 * A channel's schema compiler; problems go to `reporter`, located at the
 * schema's place in the document. `maxDepth` is the channel's input depth
 * limit (the schema work bound is computed down to it).
 */
export function createSchemaCompiler(reporter: Reporter, opts: { maxDepth: number; named?: ReadonlyMap<string, NamedSchemaSource> }): SchemaCompiler {
  // strict: unknown keywords, `required` fields missing from `properties` and
  // keywords without their type are errors, because each is almost always a
  // typo that would silently accept bad data. Union types (`[string, "null"]`)
  // are common and harmless, so they are allowed.
  // code.optimize off: ajv's extra optimisation passes cost ~30% of compile
  // time at load, while the validators they would shorten are already fast.
  // allErrors off: a rejection reports its first error (all that a verdict
  // carries), and ajv stops there. With allErrors, rejecting a list of 21,666
  // `{}` against `items: { required: [a] }` built 21,666 error objects
  // (14.7 ms measured; 0.002 ms without), and `uniqueItems` still compared
  // every pair of a list longer than its `maxItems` (maxItems is checked
  // first, and now ends the check).
  // code.regExp: patterns run with RE2, in linear time (patterns.ts).
  // strictRequired off: `{ type: object, required: [a] }` without `properties`
  // is valid and common; schema-bounds.ts refuses a required field missing
  // from a `properties` written next to it (the typo strictRequired caught).
  const ajv = new Ajv({
    strict: true,
    strictRequired: false,
    allErrors: false,
    allowUnionTypes: true,
    $data: false,
    validateSchema: false,
    code: { optimize: false, regExp: re2RegExp },
  });
  const namedSources = opts.named ?? new Map<string, NamedSchemaSource>();
  const named: NamedSchemas = {
    get: (n) => namedSources.get(n)?.schema,
    names: new Set(namedSources.keys()),
    budget: { left: MAX_SCHEMA_REF_NODES },
  };
  // Equal schemas (the same inline schema on several cells) compile once.
  const byText = new Map<string, ValidateFn>();
  /** Named schemas checked, by name: whether they passed, and the names they reach. */
  const checked = new Map<string, { ok: boolean; reached: ReadonlySet<string> }>();
  const inlineRefs = new Set<string>();
  /** Named schemas compiled (or refused: undefined). */
  const compiled = new Map<string, SchemaPlan | undefined>();

  /** The meta-schema and bounds checks (problems reported), and the named schemas the schema reaches. */
  const check = (name: string, schema: Json, path: DocPath): { ok: boolean; reached: ReadonlySet<string> } => {
    const metaErrors = metaCheck(schema);
    if (metaErrors) {
        const seen = new Set<string>();
        for (const e of metaErrors) {
          const at = pointerToPath(e.instancePath, schema);
          const key = at.join("/");
          if (seen.has(key)) continue; // one problem per place: ajv lists each alternative of `type`
          seen.add(key);
          const params = e.params as { allowedValues?: unknown[] };
          const allowed = params.allowedValues ? ` (one of ${params.allowedValues.join(", ")})` : "";
          reporter.error(
            "DEFINITION_BAD_SCHEMA",
            [...path, ...at],
            `schema ${name}: ${at.length ? `\`${at.join(".")}\`` : "the schema"} ${e.message ?? "is invalid"}${allowed}`,
            "write a JSON Schema (draft-07) keyword value of the right type",
          );
        }
        return { ok: false, reached: new Set() };
      }
      const bounds = checkSchemaBounds(name, schema, path, opts.maxDepth, reporter, { check: checkPattern }, named);
      return { ok: bounds.ok, reached: bounds.named };
  };

  /** True when every named schema in `reached` passed its checks (their problems are reported at them). */
  const dependenciesOk = (reached: ReadonlySet<string>): boolean => [...reached].every((n) => checked.get(n)?.ok === true);

  /** ajv's compile of a checked schema; a strict-mode refusal is reported at the keyword it names. */
  const build = (name: string, schema: Json, path: DocPath, f: () => ValidateFn | undefined): ValidateFn | undefined => {
    try {
      return f();
    } catch (e: unknown) {
      const text = e instanceof Error ? e.message : String(e);
      const at = strictErrorPath(text, schema);
      reporter.error("DEFINITION_BAD_SCHEMA", [...path, ...at.path], `schema ${name}: ${text.replace(/^strict mode: /, "")}`, schemaRemedy(text), {
        anchor: at.anchor,
      });
      return undefined;
    }
  };

  /** Named schemas being compiled: a loop of references (valid JSON Schema) is compiled once, as ajv resolves it. */
  const inProgress = new Set<string>();
  /** True when `name` compiled, or is being compiled further up a loop of references. */
  const usable = (name: string): boolean => inProgress.has(name) || compiled.get(name) !== undefined;

  /** Compiles the named schema `name` after those it refers to. */
  const compileNamedOne = (name: string): SchemaPlan | undefined => {
    if (compiled.has(name) || inProgress.has(name)) return compiled.get(name);
    const source = namedSources.get(name);
    const status = checked.get(name);
    if (!source || !status?.ok || !dependenciesOk(status.reached)) {
      compiled.set(name, undefined);
      return undefined;
    }
    // ajv compiles a referenced schema when it first meets the reference; compiling those first
    // makes a strict-mode problem of one of them its own, not the referring schema's.
    inProgress.add(name);
    for (const dep of status.reached) compileNamedOne(dep);
    const depsOk = [...status.reached].every(usable);
    const validate = depsOk ? build(name, source.schema, source.path, () => ajv.getSchema(name) as unknown as ValidateFn | undefined) : undefined;
    inProgress.delete(name);
    const plan = validate ? { name, schema: source.schema, validate } : undefined;
    compiled.set(name, plan);
    return plan;
  };

  return {
    compileNamed() {
      for (const [name, { schema, path }] of namedSources) {
        checked.set(name, check(name, schema, path));
      }
      // Every name is registered before anything compiles, so references resolve in any order.
      for (const [name, { schema, path }] of namedSources) {
        if (!checked.get(name)?.ok) continue;
        let added = false;
        build(name, schema, path, () => {
          ajv.addSchema(schema as object | boolean, name);
          added = true;
          return undefined;
        });
        if (!added) checked.set(name, { ok: false, reached: checked.get(name)?.reached ?? new Set() });
      }
      const out: Record<string, SchemaPlan> = {};
      for (const name of namedSources.keys()) {
        const plan = compileNamedOne(name);
        if (plan) out[name] = plan;
      }
      return out;
    },

    referencedBy(name) {
      return checked.get(name)?.reached ?? new Set();
    },

    referencedByInline() {
      return inlineRefs;
    },

    compile(name, schema, path) {
      const text = canonicalString(schema);
      const known = byText.get(text);
      if (known) return { name, schema, validate: known };
      const { ok, reached } = check(name, schema, path);
      for (const r of reached) inlineRefs.add(r);
      if (!ok || !dependenciesOk(reached) || ![...reached].every(usable)) return undefined;
      const validate = build(name, schema, path, () => ajv.compile(schema as object | boolean) as unknown as ValidateFn);
      if (!validate) return undefined;
      byText.set(text, validate);
      return { name, schema, validate };
    },
  };
}

function schemaRemedy(text: string): string {
  if (/unknown keyword: "[^"]*[ ,][^"]*"/.test(text)) return "a comma inside `{ ... }` ends a value: quote text that contains commas (description: \"a, b\")";
  if (/unknown keyword/.test(text)) return "fix the keyword's spelling (ajv strict mode refuses unknown keywords), e.g. minimum, maxLength, required";
  if (/strictRequired/.test(text)) return "add the field to `properties`, or fix its spelling in `required`";
  if (/strictTypes/.test(text)) return "add the `type` the keyword applies to (e.g. `type: object` next to `properties`)";
  if (/resolve reference/.test(text)) return "schemas cannot load references from outside the channel; write the schema inline";
  if (/unknown format/.test(text)) return "statecell does not check `format`; describe the form with `pattern` instead";
  if (/already exists/.test(text)) return "give each `$id` once, or remove `$id`";
  return "fix the schema; see the ajv message";
}

/** ajv's strict-mode messages name a keyword and sometimes `at "#/pointer"`: find that node. */
function strictErrorPath(text: string, schema: Json): { path: Array<string | number>; anchor: "key" | "value" } {
  const at = /at (?:path )?"#([^"]*)"/.exec(text);
  const base = at ? pointerToPath(at[1], schema) : [];
  const keyword = /unknown keyword: "([^"]+)"/.exec(text)?.[1] ?? /required property "([^"]+)"/.exec(text)?.[1];
  if (keyword && /unknown keyword/.test(text)) {
    const found = findKey(schema, keyword, []);
    if (found) return { path: found, anchor: "key" };
  }
  if (keyword && /required property/.test(text)) {
    const required = valueAt(schema, [...base, "required"]);
    if (Array.isArray(required)) {
      const i = required.indexOf(keyword);
      if (i >= 0) return { path: [...base, "required", i], anchor: "value" };
    }
  }
  const kw = /for keyword "([^"]+)"/.exec(text)?.[1] ?? (/unknown format/.test(text) ? "format" : undefined);
  if (kw && valueAt(schema, [...base, kw]) !== undefined) return { path: [...base, kw], anchor: "key" };
  return { path: base, anchor: "value" };
}

function findKey(v: Json, key: string, path: Array<string | number>): Array<string | number> | undefined {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const f = findKey(v[i], key, [...path, i]);
      if (f) return f;
    }
  } else if (v !== null && typeof v === "object") {
    if (Object.prototype.hasOwnProperty.call(v, key)) return [...path, key];
    for (const [k, child] of Object.entries(v)) {
      const f = findKey(child, key, [...path, k]);
      if (f) return f;
    }
  }
  return undefined;
}

function pointerToPath(pointer: string, root: Json): Array<string | number> {
  if (pointer === "" || pointer === "/") return [];
  const out: Array<string | number> = [];
  let cur: unknown = root;
  for (const raw of pointer.replace(/^\//, "").split("/")) {
    const seg = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

function valueAt(v: Json, path: ReadonlyArray<string | number>): unknown {
  let cur: unknown = v;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}
