/**
 * Differential property test: rules compiled by our json-logic-engine instance
 * give the same results as json-logic-js `apply` (the reference interpreter)
 * on random rules and random data.
 *
 * json-logic-js keeps one global operation table; this file only calls
 * `apply` and never adds operations to it.
 *
 * The generator is typed (numeric, text, boolean and list expressions) because
 * the two libraries genuinely differ outside that subset. Each difference is
 * listed here rather than hidden (json-logic-engine 5.0.7 vs json-logic-js 2):
 *  1. null in numeric comparisons: the engine treats null as 0 (`null == 0` is
 *     true, `null < 1` true); json-logic-js uses JavaScript's `==` (false).
 *  2. ordering or `==` between a non-numeric string and a number: the engine
 *     throws (RULES_RUNTIME for us); json-logic-js answers false.
 *  3. arithmetic on non-numbers: the engine throws on NaN and counts null as 0;
 *     json-logic-js uses parseFloat ("12abc" is 12, null is NaN).
 *  4. division or modulo by zero: the engine throws; json-logic-js returns
 *     Infinity/NaN (which we refuse anyway: results must be finite).
 *  5. iterators (map/filter/all/some/none) over a non-list: the engine throws;
 *     json-logic-js returns [] / false / true.
 *  6. reduce without an initial value: the engine starts from the first item,
 *     json-logic-js from null; and the engine refuses accumulators that hold
 *     nested lists or objects.
 *  7. min/max of nothing: the engine throws, json-logic-js gives +-Infinity;
 *     min/max/+ with one argument that evaluates to a list: the engine spreads
 *     the list, json-logic-js does not.
 *  8. `*` with one argument: json-logic-js returns it unconverted.
 *  9. 3-argument `>`/`>=` and `-` with 3+ arguments: json-logic-js ignores the
 *     extra arguments (check refuses them).
 * And where statecell chose differently from both (documented in operators.ts):
 * cat renders lists/objects as canonical JSON (json-logic-js: "1,2" and
 * "[object Object]"); substr refuses non-text; `in` never finds a list or
 * object needle in text; substr, length and var paths into text count code
 * points (json-logic-js: UTF-16 code units; the words below have no surrogate
 * pairs, so the two agree on them); a number beyond ±(2^53 − 1), from
 * arithmetic or in a result, is a fault (the numbers below stay small). `{}` is truthy in both json-logic-js and statecell
 * (the engine alone says false), and a present null ignores a var default in
 * both (the engine's own compiled var would apply it).
 */
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import jsonLogic from "json-logic-js";
import type { Json } from "../../../runtime/core/canonical.js";
import { canonicalString } from "../../../runtime/core/canonical.js";
import { createRuleEngine } from "../../../runtime/rules/index.js";
import { ctxWith } from "./context.js";

const rules = createRuleEngine();

// ---- data: a fixed shape so every typed path has its type ----
const word = fc.constantFrom("", "a", "ab", "b", "B", "cen-1", "cen-2", "nor", "null", "1", "10", "é");
const smallNumber = fc.oneof(fc.integer({ min: -20, max: 20 }), fc.constantFrom(0.5, -1.25, 2.75, 0.1, 0.001, -0));
const data = fc.record({
  n: smallNumber,
  m: smallNumber,
  s: word,
  t: word,
  b: fc.boolean(),
  z: fc.constant(null),
  ns: fc.array(fc.integer({ min: -10, max: 10 }), { minLength: 1, maxLength: 5 }),
  ss: fc.array(word, { maxLength: 4 }),
  o: fc.record({ p: smallNumber, q: word }),
});

const NUM_PATHS = ["data.n", "data.m", "data.o.p", "data.ns.0"];
const STR_PATHS = ["data.s", "data.t", "data.o.q"];
const ANY_PATHS = [...NUM_PATHS, ...STR_PATHS, "data.b", "data.z", "data.ns", "data.ss", "data.o", "data.nope", "data.o.nope", "data.s.0", "data.ss.length"];
const nonZero = fc.constantFrom(1, -1, 2, 3, 7, 0.5, -4);
const primitive = fc.oneof(smallNumber, word, fc.boolean(), fc.constant(null));

// ---- typed expressions ----
const { num, str, bool, list, any } = fc.letrec<{ num: Json; str: Json; bool: Json; list: Json; any: Json }>((tie) => {
  const num = (): fc.Arbitrary<Json> => tie("num");
  const str = (): fc.Arbitrary<Json> => tie("str");
  const bool = (): fc.Arbitrary<Json> => tie("bool");
  const any = (): fc.Arbitrary<Json> => tie("any");
  const args = (a: fc.Arbitrary<Json>, min: number, max: number): fc.Arbitrary<Json[]> => fc.array(a, { minLength: min, maxLength: max });
  const itemNum = fc.oneof<fc.Arbitrary<Json>[]>(fc.constant({ var: "" }), fc.integer({ min: -5, max: 5 }), fc.constant({ "+": [{ var: "" }, 1] }));
  return {
    num: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      smallNumber,
      fc.constantFrom(...NUM_PATHS).map((p) => ({ var: p })),
      smallNumber.map((d) => ({ var: ["data.nope", d] })),
      args(num(), 0, 3).map((a) => ({ "+": a })),
      args(num(), 1, 2).map((a) => ({ "-": a })),
      args(num(), 2, 3).map((a) => ({ "*": a })),
      fc.tuple(num(), nonZero).map((a) => ({ "/": a })),
      fc.tuple(num(), nonZero).map((a) => ({ "%": a })),
      args(num(), 1, 3).map((a) => ({ min: a })),
      args(num(), 1, 3).map((a) => ({ max: a })),
      fc.tuple(any(), num(), num()).map((a) => ({ if: a })),
      num().map((init) => ({ reduce: [{ var: "data.ns" }, { "+": [{ var: "current" }, { var: "accumulator" }] }, init] })),
    ),
    str: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      word,
      fc.constantFrom(...STR_PATHS).map((p) => ({ var: p })),
      word.map((d) => ({ var: ["data.o.nope", d] })),
      args(fc.oneof(primitive, str(), num()), 1, 4).map((a) => ({ cat: a })),
      fc.tuple(str(), fc.integer({ min: -4, max: 4 })).map((a) => ({ substr: a })),
      fc.tuple(str(), fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 4 })).map((a) => ({ substr: a })),
      fc.tuple(any(), str(), str()).map((a) => ({ if: a })),
    ),
    bool: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.boolean(),
      fc.constant({ var: "data.b" }),
      fc.tuple(fc.constantFrom("==", "!=", "<", "<=", ">", ">="), num(), num()).map(([op, a, b]) => ({ [op]: [a, b] })),
      fc.tuple(fc.constantFrom("==", "!=", "<", "<=", ">", ">="), str(), str()).map(([op, a, b]) => ({ [op]: [a, b] })),
      fc.tuple(fc.constantFrom("<", "<="), num(), num(), num()).map(([op, a, b, c]) => ({ [op]: [a, b, c] })),
      fc.tuple(fc.constantFrom("===", "!=="), any(), any()).map(([op, a, b]) => ({ [op]: [a, b] })),
      any().map((a) => ({ "!": [a] })),
      any().map((a) => ({ "!!": [a] })),
      fc.tuple(primitive, fc.oneof(str(), tie("list"), fc.constantFrom(...ANY_PATHS).map((p) => ({ var: p })))).map((a) => ({ in: a })),
      fc.tuple(fc.constantFrom("some", "all", "none"), fc.constantFrom(">", "<", "==", "!="), fc.integer({ min: -5, max: 5 })).map(
        ([op, cmp, k]) => ({ [op]: [{ var: "data.ns" }, { [cmp]: [{ var: "" }, k] }] }),
      ),
      fc.tuple(any(), bool(), bool()).map((a) => ({ if: a })),
    ),
    list: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constantFrom({ var: "data.ns" }, { var: "data.ss" }),
      args(primitive, 0, 3),
      args(fc.oneof(primitive, tie("list")), 1, 3).map((a) => ({ merge: a })),
      itemNum.map((f): Json => ({ map: [{ var: "data.ns" }, typeof f === "number" ? f : { "*": [f, 2] }] })),
      fc.tuple(fc.constantFrom(">", "<", "=="), fc.integer({ min: -5, max: 5 })).map(([cmp, k]) => ({ filter: [{ var: "data.ns" }, { [cmp]: [{ var: "" }, k] }] })),
      fc.uniqueArray(fc.constantFrom(...ANY_PATHS), { minLength: 1, maxLength: 4 }).map((ps) => ({ missing: ps })),
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.uniqueArray(fc.constantFrom(...ANY_PATHS), { minLength: 1, maxLength: 4 })).map(([k, ps]) => ({ missing_some: [k, ps] })),
    ),
    any: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      num(),
      str(),
      bool(),
      tie("list"),
      fc.constant(null),
      fc.constantFrom(...ANY_PATHS).map((p) => ({ var: p })),
      args(any(), 1, 3).map((a) => ({ and: a })),
      args(any(), 1, 3).map((a) => ({ or: a })),
      fc.tuple(any(), any(), any(), any(), any()).map((a) => ({ if: a })),
      fc.tuple(any(), any()).map((a) => ({ if: a })),
    ),
  };
});

/** json-logic-js may return -0 or share input objects; compare canonical text. */
const canon = (v: unknown): string => canonicalString(JSON.parse(JSON.stringify(v ?? null)) as Json);

function agree(expr: Json, input: Json): void {
  const ctx = ctxWith(input);
  // Deep random nesting can pass the 32-level limit; those are check's business, not this test's.
  fc.pre(!rules.check(expr).some((p) => p.code === "RULES_TOO_DEEP"));
  expect(rules.check(expr)).toEqual([]);
  const ours = rules.compile(expr)(ctx);
  const reference = jsonLogic.apply(expr, ctx);
  expect(canon(ours)).toBe(canon(reference));
  expect(rules.compileRule(expr)(ctx)).toBe(jsonLogic.truthy(reference));
}

describe("differential: json-logic-engine (compiled, statecell operators) vs json-logic-js apply", () => {
  it.each<[string, fc.Arbitrary<Json>]>([
    ["numeric expressions", num],
    ["text expressions", str],
    ["boolean expressions", bool],
    ["list expressions", list],
    ["mixed expressions", any],
  ])("%s agree on random data", (_name, arb) => {
    fc.assert(
      fc.property(arb, data, (expr, input) => agree(expr, input as unknown as Json)),
      { numRuns: 400, seed: 20261125 },
    );
  });

  it("the generator reaches every operator of the shared subset", () => {
    const seen = new Set<string>();
    const visit = (v: unknown): void => {
      if (v === null || typeof v !== "object") return;
      if (!Array.isArray(v)) for (const k of Object.keys(v)) seen.add(k);
      for (const x of Object.values(v as object)) visit(x);
    };
    for (const e of fc.sample(any, { numRuns: 3000, seed: 7 })) visit(e);
    const subset = ["==", "!=", "===", "!==", "<", "<=", ">", ">=", "and", "or", "!", "!!", "if", "+", "-", "*", "/", "%", "in", "cat", "substr", "var", "min", "max", "merge", "missing", "missing_some", "map", "filter", "reduce", "all", "some", "none"];
    expect(subset.filter((op) => !seen.has(op))).toEqual([]);
  });
});
