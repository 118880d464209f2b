/**
 * Hostile schemas: a channel's JSON Schemas run on every input a stranger
 * submits, so what they may ask is bounded at load (schema-bounds.ts,
 * patterns.ts). Figures in comments were measured before each bound existed.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { MAX_SCHEMA_REF_NODES, MAX_SCHEMA_WORK_PER_BYTE, MAX_UNIQUE_ITEMS, MAX_UNIQUE_SCALAR_ITEMS } from "../../../runtime/definition/schema-bounds.js";

const HEAD = "channel: t\nversion: 1\ngroups:\n  g: { validators: [a], threshold: 1 }\n";

/** A channel whose one cell accepts `schema` (YAML flow text, on line 6). */
function withSchema(schema: string) {
  return loadChannel(`${HEAD}schemas:\n  S: ${schema}\ncells:\n  c: { group: g, accepts: S }\n`, { file: "t.yaml" });
}

function validator(schema: string) {
  const r = withSchema(schema);
  expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
  return (r.plan as ChannelPlan).cells.c.accepts.validate;
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const t = performance.now();
  const value = f();
  return { value, ms: performance.now() - t };
}

const errorsOf = (r: ReturnType<typeof withSchema>) => r.problems.filter((p) => p.severity === "error").map((p) => `${p.code} ${p.location?.line}:${p.location?.col}`);

describe("hostile patterns", () => {
  const evil = `${"a".repeat(28)}!`;

  it("`pattern: ^(a+)+$` against 28 a's and a ! is checked in linear time (it took 14 s)", () => {
    const v = validator('{ type: string, pattern: "^(a+)+$" }');
    const { value, ms } = timed(() => v(evil));
    expect(value).toBe(false);
    expect(v("aaaa")).toBe(true);
    expect(ms).toBeLessThan(100);
  });

  it("the same pattern in patternProperties and propertyNames is checked in linear time too", () => {
    const pp = validator('{ type: object, patternProperties: { "^(a+)+$": { type: integer } } }');
    const pn = validator('{ type: object, propertyNames: { pattern: "^(a+)+$" } }');
    const { value, ms } = timed(() => [pp({ [evil]: "x" }), pn({ [evil]: 1 }), pp({ aaa: "x" }), pn({ aaa: 1 })]);
    expect(value).toEqual([true, false, false, true]);
    expect(ms).toBeLessThan(100);
  });

  it.each([
    ["^(?=a)a$", "a lookahead"],
    ["^(?!a).*$", "a negative lookahead"],
    ["(?<=a)b", "a lookbehind"],
    ["(?<!a)b", "a negative lookbehind"],
    ["^(a)\\\\1$", "a backreference"],
    ["^(?<x>a)\\\\k<x>$", "a named backreference"],
  ])("%s is refused at its line, naming %s and what to write instead", (pattern, construct) => {
    const r = withSchema(`{ type: string, pattern: "${pattern}" }`);
    expect(errorsOf(r)).toEqual(["DEFINITION_UNSUPPORTED_PATTERN 6:31"]);
    expect(r.problems[0].message).toContain(`uses ${construct}`);
    expect(r.problems[0].remedy).toMatch(/has no (lookaround|backreferences)/);
  });

  it("an unsupported patternProperties key and propertyNames pattern are located at the key and the pattern", () => {
    const r = loadChannel(`${HEAD}schemas:\n  S:\n    type: object\n    patternProperties:\n      "(?=x)": { type: string }\n    propertyNames:\n      pattern: "(a)\\\\1"\ncells:\n  c: { group: g, accepts: S }\n`, { file: "t.yaml" });
    expect(errorsOf(r)).toEqual(["DEFINITION_UNSUPPORTED_PATTERN 9:7", "DEFINITION_UNSUPPORTED_PATTERN 11:16"]);
  });

  it("a pattern that is not a JavaScript regular expression is DEFINITION_BAD_SCHEMA at the pattern", () => {
    const r = withSchema('{ type: string, pattern: "^(a" }');
    expect(errorsOf(r)).toEqual(["DEFINITION_BAD_SCHEMA 6:31"]);
    expect(r.problems[0].message).toContain("not a valid regular expression");
  });

  it("`pattern` inside `enum` data, or a property named pattern, is not a pattern", () => {
    validator('{ type: object, properties: { pattern: { type: string } }, enum: [ { pattern: "(?=x)" } ] }');
  });
});

describe("hostile schemas: uniqueItems", () => {
  it("uniqueItems without maxItems is refused at uniqueItems, naming the cap", () => {
    // A 9,000-item list took 1.46 s to check.
    const r = withSchema("{ type: array, uniqueItems: true }");
    expect(errorsOf(r)).toEqual(["DEFINITION_SCHEMA_COST 6:21"]);
    expect(r.problems[0].message).toContain(`maxItems\` of at most ${MAX_UNIQUE_ITEMS}`);
    expect(r.problems[0].remedy).toContain(`maxItems: ${MAX_UNIQUE_ITEMS}`);
  });

  it(`maxItems up to ${MAX_UNIQUE_ITEMS} is allowed, and ${MAX_UNIQUE_SCALAR_ITEMS} for items of scalar types`, () => {
    expect(errorsOf(withSchema(`{ type: array, uniqueItems: true, maxItems: ${MAX_UNIQUE_ITEMS} }`))).toEqual([]);
    expect(errorsOf(withSchema(`{ type: array, uniqueItems: true, maxItems: ${MAX_UNIQUE_ITEMS + 1} }`))).toEqual(["DEFINITION_SCHEMA_COST 6:21"]);
    expect(errorsOf(withSchema(`{ type: array, uniqueItems: true, maxItems: ${MAX_UNIQUE_SCALAR_ITEMS}, items: { type: [string, integer] } }`))).toEqual([]);
    expect(errorsOf(withSchema(`{ type: array, uniqueItems: true, maxItems: ${MAX_UNIQUE_SCALAR_ITEMS + 1}, items: { type: string } }`))).toEqual(["DEFINITION_SCHEMA_COST 6:21"]);
  });

  it("a 9,000-item list against uniqueItems with maxItems 100 is refused by maxItems before any pair is compared", () => {
    const v = validator("{ type: array, uniqueItems: true, maxItems: 100 }");
    const items = Array.from({ length: 9_000 }, (_, i) => [i]);
    const { value, ms } = timed(() => v(items));
    expect(value).toBe(false);
    expect(v.errors?.map((e) => e.keyword)).toEqual(["maxItems"]);
    expect(ms).toBeLessThan(100);
  });
});

describe("hostile schemas: rejections stop at the first error", () => {
  it("21,666 `{}` against items requiring a field build one error, not 21,666 (17.7 ms before)", () => {
    const v = validator("{ type: array, items: { type: object, required: [a], properties: { a: { type: string } } } }");
    expect(v(Array.from({ length: 21_666 }, () => ({})))).toBe(false);
    expect(v.errors).toHaveLength(1);
    expect(v.errors?.[0]).toMatchObject({ instancePath: "/0", keyword: "required" });
  });
});

describe("hostile schemas: work per value", () => {
  it("an anyOf of two $refs to itself is refused (20 levels of a 41-byte input took 100 ms, doubling per level)", () => {
    const r = withSchema('{ definitions: { x: { anyOf: [ { type: array, items: { $ref: "#/definitions/x" }, contains: { type: string } }, { type: array, items: { $ref: "#/definitions/x" } } ] } }, $ref: "#/definitions/x" }');
    expect(errorsOf(r)).toEqual(["DEFINITION_SCHEMA_COST 6:6"]);
    expect(r.problems[0].message).toMatch(/one list item \d+ levels? into an input \(2 bytes at least\) can cost [\d,]+ work units; the limit is 24 \(12 a byte\)/);
  });

  it("a $ref loop that never goes into the value is refused at the $ref, without compiling it", () => {
    const r = withSchema('{ definitions: { a: { $ref: "#/definitions/b" }, b: { $ref: "#/definitions/a" } }, $ref: "#/definitions/a" }');
    expect(errorsOf(r)).toEqual(["DEFINITION_SCHEMA_COST 6:34"]);
  });

  it("a recursive schema that goes one level into the value per reference loads and checks trees", () => {
    const v = validator('{ definitions: { tree: { type: object, required: [v], properties: { v: { type: integer }, kids: { type: array, items: { $ref: "#/definitions/tree" } } } } }, $ref: "#/definitions/tree" }');
    expect(v({ v: 1, kids: [{ v: 2, kids: [{ v: 3 }] }] })).toBe(true);
    expect(v({ v: 1, kids: [{ kids: [] }] })).toBe(false);
  });

  it("references outside the schema and $id below its top are refused", () => {
    expect(errorsOf(withSchema('{ $ref: "other.json#/x" }'))).toEqual(["DEFINITION_BAD_SCHEMA 6:14"]);
    expect(errorsOf(withSchema('{ $ref: "#/definitions/missing" }'))).toEqual(["DEFINITION_BAD_SCHEMA 6:14"]);
    expect(errorsOf(withSchema("{ type: object, properties: { a: { $id: x, type: string } } }"))).toEqual(["DEFINITION_BAD_SCHEMA 6:41"]);
  });

  it(`an anyOf of 40 alternatives under items is refused (more than ${MAX_SCHEMA_WORK_PER_BYTE} units a byte), 20 are allowed`, () => {
    const alts = (k: number) => `[${Array.from({ length: k }, (_, j) => `{ const: ${j + 10} }`).join(", ")}, { const: 1 }]`;
    expect(errorsOf(withSchema(`{ type: array, items: { anyOf: ${alts(40)} } }`))).toEqual(["DEFINITION_SCHEMA_COST 6:6"]);
    expect(errorsOf(withSchema(`{ type: array, items: { anyOf: ${alts(20)} } }`))).toEqual([]);
  });

  it("a schema just within the bound checks a 64 KiB input of worst-case items in under 1 s (the bound predicts 79 ms)", () => {
    // Each item fails 22 alternatives before the last one accepts it: every failure allocates an error.
    const alts = `[${Array.from({ length: 22 }, (_, j) => `{ const: ${j + 10} }`).join(", ")}, { const: 1 }]`;
    const v = validator(`{ type: array, items: { anyOf: ${alts} } }`);
    const input = Array.from({ length: 32_768 }, () => 1);
    v(input);
    const { value, ms } = timed(() => v(input));
    expect(value).toBe(true);
    expect(ms).toBeLessThan(1_000);
  });

  it("the example channels' schemas are well within the bounds", () => {
    for (const f of ["air-quality", "poll", "token"]) {
      const r = loadChannel(readFileSync(`channels/${f}.yaml`, "utf8"), { file: `channels/${f}.yaml` });
      expect(r.problems.filter((p) => p.code === "DEFINITION_SCHEMA_COST" || p.code === "DEFINITION_UNSUPPORTED_PATTERN")).toEqual([]);
    }
  });
});

describe("hostile schemas: references between named schemas", () => {
  it(`a loop of 5,000 named schemas referring to each other is checked within a shared budget of ${MAX_SCHEMA_REF_NODES.toLocaleString("en")} subschemas, in under 10 s, the schemas past it refused at their $ref`, () => {
    // Each schema is checked with every schema it reaches: without the budget, 25 million subschemas walked.
    const n = 5_000;
    const lines = [HEAD, "schemas:"];
    for (let i = 0; i < n; i++) lines.push(`  S${i}: { type: object, properties: { next: { $ref: S${(i + 1) % n} } } }`);
    lines.push("cells:\n  c: { group: g, accepts: S0 }\n");
    const { value: r, ms } = timed(() => loadChannel(lines.join("\n"), { file: "t.yaml" }));
    const refused = r.problems.filter((p) => p.code === "DEFINITION_SCHEMA_COST");
    expect(refused.length).toBeGreaterThan(n - 20);
    expect(refused[refused.length - 1].message).toMatch(/the channel's schemas refer to each other too much to check: with `\$ref: "S0"`, the checks of its schemas have walked more than 50,000 subschemas/);
    expect(refused[refused.length - 1].location).toEqual(expect.objectContaining({ line: 6 + n, col: 54 }));
    expect(ms).toBeLessThan(10_000);
  });

  it("a required list of 2,000 fields missing from properties, on one 40 KB line, is one problem, in under 3 s (9.7 s field by field)", () => {
    const props = Array.from({ length: 2_000 }, (_, i) => `p${i}: {}`).join(", ");
    const req = Array.from({ length: 2_000 }, (_, i) => `q${i}`).join(", ");
    const { value: r, ms } = timed(() => withSchema(`{ type: object, required: [${req}], properties: { ${props} } }`));
    expect(errorsOf(r)).toEqual(["DEFINITION_BAD_SCHEMA 6:33"]);
    expect(r.problems[0].message).toBe('schema S: the required field "q0" is not one of the `properties` next to it (did you mean "p0"?) (and 1,999 more required fields after it)');
    expect(ms).toBeLessThan(3_000);
  });
});
