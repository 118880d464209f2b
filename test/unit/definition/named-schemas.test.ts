/**
 * Named schemas referring to each other (`$ref: Mint`), required fields
 * without `properties`, and how explain reads a union of named schemas.
 */
import { describe, expect, it } from "vitest";
import { explainChannel, loadChannel, type ChannelPlan } from "../../../runtime/definition/index.js";

const HEAD = "channel: t\nversion: 1\ngroups:\n  g: { validators: [a], threshold: 1 }\n";

/** A channel with the schemas section `schemas` (YAML lines under `schemas:`) and one cell accepting `accepts`. */
function load(schemas: string, accepts = "S") {
  return loadChannel(`${HEAD}schemas:\n${schemas}cells:\n  c: { group: g, accepts: ${accepts} }\n`, { file: "t.yaml" });
}

const located = (r: ReturnType<typeof load>, severity = "error") => r.problems.filter((p) => p.severity === severity).map((p) => `${p.code} ${p.location?.line}:${p.location?.col}`);

function plan(r: ReturnType<typeof load>): ChannelPlan {
  expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
  return r.plan as ChannelPlan;
}

describe("named schemas refer to each other", () => {
  it("`$ref: NAME` is the channel's schema of that name, wherever it is written", () => {
    const p = plan(load("  Point: { type: object, required: [x], properties: { x: { type: number } } }\n  S: { type: object, required: [at], properties: { at: { $ref: Point } } }\n"));
    const v = p.cells.c.accepts.validate;
    expect(v({ at: { x: 1 } })).toBe(true);
    expect(v({ at: { x: "1" } })).toBe(false);
    expect(v({ at: {} })).toBe(false);
    // An inline schema refers to named ones the same way.
    const inline = plan(load("  Point: { type: object, required: [x], properties: { x: { type: number } } }\n", "{ type: array, items: { $ref: Point } }"));
    expect(inline.cells.c.accepts.validate([{ x: 1 }])).toBe(true);
    expect(inline.cells.c.accepts.validate([{ y: 1 }])).toBe(false);
  });

  it("a schema used only through another's `$ref` (or an inline schema's) is not an unused schema", () => {
    expect(located(load("  Point: { type: number }\n  S: { type: object, properties: { at: { $ref: Point } } }\n"), "warning")).toEqual([]);
    expect(located(load("  Point: { type: number }\n", "{ items: { $ref: Point } }"), "warning")).toEqual([]);
    expect(located(load("  Point: { type: number }\n  S: true\n"), "warning")).toEqual(["DEFINITION_UNUSED_SCHEMA 6:3"]);
  });

  it("a reference to a missing schema is a located DEFINITION_UNKNOWN_SCHEMA with a suggestion", () => {
    const r = load("  Point: { type: number }\n  S: { type: object, properties: { at: { $ref: Pont } } }\n");
    expect(located(r)).toEqual(["DEFINITION_UNKNOWN_SCHEMA 7:48"]);
    const error = r.problems.find((p) => p.severity === "error");
    expect(error?.message).toBe('schema S: `$ref: "Pont"` names no schema under `schemas` (did you mean "Point"?)');
    expect(error?.remedy).toContain("refer to one of: Point, S");
  });

  it("recursion through named schemas that goes into the value loads (a tree of two kinds of node)", () => {
    const p = plan(
      load("  S: { type: object, properties: { kids: { type: array, items: { $ref: Leaf } } } }\n  Leaf: { type: object, properties: { parent: { $ref: S } } }\n"),
    );
    const v = p.cells.c.accepts.validate;
    expect(v({ kids: [{ parent: { kids: [] } }] })).toBe(true);
    expect(v({ kids: [{ parent: { kids: 3 } }] })).toBe(false);
  });

  it("a chain of bare references that comes back to its start never reaches a schema, and is refused at each schema of the chain", () => {
    const r = load("  S: { $ref: T }\n  T: { $ref: S }\n");
    expect(located(r)).toEqual(["DEFINITION_SCHEMA_COST 6:14", "DEFINITION_SCHEMA_COST 7:14"]);
    expect(r.problems[0].message).toBe("schema S: the chain of references `S` -> `T` -> `S` comes back to where it started without reaching a schema");
  });

  it("a schema that refers to a refused one is not compiled, and only the refused one is reported", () => {
    const r = load("  Bad: { type: string, pattern: '^(?=a)' }\n  S: { type: object, properties: { a: { $ref: Bad } } }\n");
    expect(located(r)).toEqual(["DEFINITION_UNSUPPORTED_PATTERN 6:33"]);
    expect(r.problems.filter((p) => p.severity === "warning")).toEqual([]);
    expect(r.plan).toBeUndefined();
  });

  it("a strict-mode problem of a referenced schema is reported at it, not at the schema referring to it", () => {
    const r = load("  S: { type: object, properties: { a: { $ref: Typo } } }\n  Typo: { type: string, maxLenght: 3 }\n");
    expect(located(r)).toEqual(["DEFINITION_BAD_SCHEMA 7:25"]);
  });

  it("a named reference beside an `$id` is refused (it would resolve against the `$id`)", () => {
    const r = load("  P: { type: number }\n  S: { $id: 'https://example.com/s', type: object, properties: { a: { $ref: P } } }\n");
    expect(located(r)).toEqual(["DEFINITION_BAD_SCHEMA 7:8"]);
  });
});

describe("required fields", () => {
  it("`required` without `properties` is valid JSON Schema and loads", () => {
    const p = plan(load("  S: { type: object, required: [a] }\n"));
    expect(p.cells.c.accepts.validate({ a: 1 })).toBe(true);
    expect(p.cells.c.accepts.validate({ b: 1 })).toBe(false);
  });

  it("a required field missing from the `properties` written next to it is refused, with the field meant", () => {
    const r = load("  S: { type: object, required: [sensor, pm25], properties: { sensor: { type: string }, pm2_5: { type: number } } }\n");
    expect(located(r)).toEqual(["DEFINITION_BAD_SCHEMA 6:41"]);
    expect(r.problems[0].message).toBe('schema S: the required field "pm25" is not one of the `properties` next to it (did you mean "pm2_5"?)');
  });

  it("unknown keywords are still errors", () => {
    expect(located(load("  S: { type: object, requird: [a] }\n"))).toEqual(["DEFINITION_BAD_SCHEMA 6:22"]);
  });
});

describe("explain reads named schemas", () => {
  const schemas = "  A: { type: object, required: [a], properties: { a: { type: string } } }\n  B: { type: object, required: [b], properties: { b: { type: integer } } }\n";

  it('a union of named schemas reads "one of: A, B", not "any JSON value"', () => {
    const p = plan(load(`${schemas}  S: { oneOf: [ { $ref: A }, { $ref: B } ] }\n`));
    expect(explainChannel(p)).toContain("Accepts schema S: one of: A, B.");
    const any = plan(load(schemas, "{ anyOf: [ { $ref: A }, { $ref: B } ] }"));
    expect(explainChannel(any)).toContain("Accepts one of: A, B.");
  });

  it("a cell accepting a bare reference reads as the schema it names", () => {
    const p = plan(load(schemas, "{ $ref: A }"));
    expect(explainChannel(p)).toContain("Accepts schema A: an object with required field a (text).");
    const nested = plan(load(schemas, "{ type: array, items: { $ref: B } }"));
    expect(explainChannel(nested)).toContain("Accepts a list of values of schema B.");
  });
});
