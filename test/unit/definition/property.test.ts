/**
 * Hostile and mangled input: whatever the text, loadChannel and loadTests
 * return located problems (or a plan) and never throw. Inputs are random
 * text, random YAML values, and mutations of real channels (good fixtures and
 * the example channels): deleted and duplicated lines, swapped characters,
 * YAML punctuation dropped in, values replaced by random JSON.
 */
import fc from "fast-check";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import type { Problem } from "../../../runtime/core/errors.js";
import { loadChannel, loadTests, type ChannelPlan } from "../../../runtime/definition/index.js";
import { GOOD, ROOT, fixture, readFile, yamlFiles } from "./helpers.js";
import { join } from "node:path";

const corpus: string[] = [
  ...yamlFiles(GOOD).map((f) => fixture(`test/fixtures/good/${f}`)),
  ...yamlFiles(join(ROOT, "channels")).map((f) => fixture(`channels/${f}`)),
];
const plan = loadChannel(fixture("test/fixtures/good/library.yaml"), { file: "test/fixtures/good/library.yaml" }, { readFile }).plan as ChannelPlan;

function assertWellFormed(problems: Problem[], file: string): void {
  for (const p of problems) {
    expect(p.code).toMatch(/^(DEFINITION|RULES|SANDBOX)_[A-Z0-9_]+$/);
    expect(p.location?.file).toBe(file);
    expect(p.location!.line).toBeGreaterThanOrEqual(1);
    expect(p.location!.col).toBeGreaterThanOrEqual(1);
    expect(typeof p.message).toBe("string");
    expect(p.remedy).toBeTruthy();
  }
}

function check(text: string): void {
  const file = "test/fixtures/good/mutant.yaml";
  const r = loadChannel(text, { file }, { readFile });
  assertWellFormed(r.problems, file);
  if (r.plan) expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
  else expect(r.problems.some((p) => p.severity === "error")).toBe(true);
  const t = loadTests(text, { file }, plan);
  assertWellFormed(t.problems, file);
}

const punctuation = fc.constantFrom(":", "{", "}", "[", "]", "-", "&a", "*a", "!", "|", ">", "'", '"', "#", "%", "@", "`", " ", "\n", "\t", ",", "? ", "<<: *a", "\\", "\u0000", "\uFEFF");

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: punctuation }),
  fc.record({ kind: fc.constant("value" as const), at: fc.nat(), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(text: string, m: Mutation): string {
  const lines = text.split("\n");
  switch (m.kind) {
    case "delete":
      lines.splice(m.at % lines.length, 1);
      return lines.join("\n");
    case "duplicate": {
      const i = m.at % lines.length;
      lines.splice(i, 0, lines[i]);
      return lines.join("\n");
    }
    case "swap": {
      const chars = [...text];
      const a = m.at % chars.length;
      const b = m.to % chars.length;
      [chars[a], chars[b]] = [chars[b], chars[a]];
      return chars.join("");
    }
    case "insert": {
      const i = m.at % (text.length + 1);
      return text.slice(0, i) + m.text + text.slice(i);
    }
    case "value": {
      // Replace what follows the first ": " on a line with a random JSON value (flow style).
      const i = m.at % lines.length;
      const c = lines[i].indexOf(": ");
      if (c < 0) return text;
      lines[i] = `${lines[i].slice(0, c + 2)}${JSON.stringify(m.value)}`;
      return lines.join("\n");
    }
    case "truncate":
      return text.slice(0, m.at % (text.length + 1));
  }
}

describe("the loader never throws", () => {
  it("on random text", () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => check(s)), { numRuns: 200 });
  });

  it("on random YAML values", () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => check(stringify(v))), { numRuns: 200 });
  });

  it("on random channel-shaped documents", () => {
    const name = fc.constantFrom("a", "b", "g", "cells", "x");
    const doc = fc.record({
      channel: fc.oneof(fc.constant("c"), fc.jsonValue()),
      version: fc.oneof(fc.constant(1), fc.jsonValue()),
      groups: fc.dictionary(name, fc.record({ validators: fc.array(fc.constantFrom("a", "b", "c", 1)), threshold: fc.oneof(fc.integer({ min: -1, max: 6 }), fc.constantFrom("all", "2/3", "1/2", "0/1", "x")) })),
      schemas: fc.dictionary(name, fc.oneof(fc.constant(true), fc.record({ $ref: name }), fc.record({ oneOf: fc.array(fc.record({ $ref: name }), { maxLength: 3 }) }), fc.record({ type: fc.constant("object"), required: fc.array(name, { maxLength: 2 }), properties: fc.dictionary(name, fc.oneof(fc.record({ $ref: name }), fc.constant({}))) }, { requiredKeys: [] }))),
      cells: fc.dictionary(name, fc.record({ group: name, accepts: fc.oneof(fc.constant(true), name, fc.jsonValue({ maxDepth: 2 })), signed: fc.boolean(), direct: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })), code: fc.oneof(fc.constant("./h.js"), fc.record({ file: fc.constant("./h.js"), rejects: fc.dictionary(fc.constantFrom("r", "too-many", "Bad"), fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 }))) }, { requiredKeys: [] })), operations: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.dictionary(name, fc.record({ accepts: fc.oneof(fc.constant(true), name), key: fc.jsonValue({ maxDepth: 2 }), rules: fc.array(fc.record({ name: fc.constantFrom("r", "s"), require: fc.jsonValue({ maxDepth: 2 }), when: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ["name"] }), { maxLength: 2 }), emit: fc.array(fc.record({ to: name, op: name }, { requiredKeys: ["to"] }), { maxLength: 2 }), state: fc.array(fc.record({ add: fc.constantFrom("a", "{data.x}", "records") }), { maxLength: 1 }) }, { requiredKeys: [] }))), emit: fc.array(fc.record({ to: name, op: name, data: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ["to"] }), { maxLength: 2 }), rules: fc.array(fc.record({ name: fc.constantFrom("r", "r", "bad name"), require: fc.jsonValue({ maxDepth: 3 }), when: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ["name", "require"] }), { maxLength: 2 }), state: fc.array(fc.record({ set: fc.constantFrom("a", "records.x", "a.{data.x}", "{", ""), value: fc.jsonValue({ maxDepth: 2 }) }), { maxLength: 2 }) }, { requiredKeys: [] })),
      tests: fc.array(fc.record({ name: fc.constantFrom("t", "u"), submit: fc.record({ cell: name, op: name, data: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ["cell"] }), expect: fc.oneof(fc.constant("accepted"), fc.record({ rejected: fc.constantFrom("r", "CELL_SCHEMA", "CELL_SCEMA", "too-many") })) }), { maxLength: 2 }),
    }, { requiredKeys: [] });
    fc.assert(fc.property(doc, (d) => check(stringify(d))), { numRuns: 100 });
  });

  it("on mutations of real channels", () => {
    expect(corpus.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.constantFrom(...corpus), fc.array(mutation, { minLength: 1, maxLength: 4 }), (text, ms) => check(ms.reduce(mutate, text))),
      { numRuns: 120 },
    );
  });
});
