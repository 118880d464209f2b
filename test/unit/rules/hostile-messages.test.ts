/**
 * Rule fault messages are statecell's own words: validators compare verdicts,
 * and text written by V8 or a library ("x.map is not a function") changes with
 * the Node or library version, so two honest validators would disagree.
 */
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import type { Json } from "../../../runtime/core/canonical.js";
import { StatecellError } from "../../../runtime/core/errors.js";
import { createRuleEngine } from "../../../runtime/rules/index.js";
import { toRuntimeError } from "../../../runtime/rules/json-result.js";
import { ctxWith } from "./context.js";

const rules = createRuleEngine();

/** Phrases of V8's and json-logic-engine's errors, and of the generated code, that must never reach a message. */
const ENGINE_TEXT =
  /is not a function|is not iterable|Cannot (read|convert|set|access)|undefined|intermediate value|Reduce of empty|Lone surrogate|Exceeded Allowed Depth|Invalid Arguments|Unknown Operator|Maximum call stack|Invalid (string|array) length|methods\[|prev\b|NaN is not allowed|\(\.\.\.\)/;

function fault(expr: Json, data: Json): StatecellError {
  try {
    rules.compile(expr)(ctxWith(data));
  } catch (e: unknown) {
    expect(e).toBeInstanceOf(StatecellError);
    return e as StatecellError;
  }
  throw new Error(`expected ${JSON.stringify(expr)} to fault`);
}

function ownWords(err: StatecellError): void {
  expect(err.message).not.toMatch(ENGINE_TEXT);
  expect(err.remedy ?? "").not.toMatch(ENGINE_TEXT);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) expect(err.message).not.toContain(cause.message);
}

describe("fault messages name the operator and what was wrong, in statecell's words", () => {
  it.each<[string, Json, Json, string]>([
    // Before: "the expression failed: (methods[0](...) || []).map is not a function".
    ["map over text", { map: [{ var: "data.x" }, 1] }, { x: "abc" }, 'map goes through a list, got text "abc"'],
    ["filter over a number", { filter: [{ var: "data.x" }, true] }, { x: 5 }, "filter goes through a list, got the number 5"],
    ["some over an object", { some: [{ var: "data.x" }, true] }, { x: { map: 1 } }, "some goes through a list, got an object"],
    ["all over text", { all: [{ var: "data.x" }, true] }, { x: "a" }, 'all goes through a list, got text "a"'],
    ["none over true", { none: [{ var: "data.x" }, true] }, { x: true }, "none goes through a list, got true"],
    ["reduce over text", { reduce: [{ var: "data.x" }, 1, 0] }, { x: "ab" }, 'reduce goes through a list, got text "ab"'],
    // Before: "the expression failed: Reduce of empty array with no initial value".
    ["reduce of nothing", { reduce: [{ var: "data.x" }, { var: "current" }] }, { x: [] }, "reduce without an initial value got an empty list"],
    // Before: "the expression failed: (intermediate value)(...).reduce is not a function".
    ["* of one number", { "*": { var: "data.x" } }, { x: 5 }, "* of a single value needs a list of numbers"],
    // Before: "the expression failed: Cannot convert object to primitive value".
    ["substr with an object start", { substr: ["abc", { var: "data.o" }] }, JSON.parse('{"o": {"toString": 1, "valueOf": 1}}') as Json, "substr's start must be a number"],
    // Before: "the expression failed: Lone surrogate is not allowed".
    ["cat of a lone surrogate", { cat: [{ var: "data.o" }] }, { o: { a: "\ud800" } }, "cat cannot encode text with a lone surrogate"],
    // Before: "the expression failed: Exceeded Allowed Depth".
    ["a nested reduce accumulator", { reduce: [{ var: "data.xs" }, { merge: [[{ var: "accumulator" }]] }, []] }, { xs: [1, 2] }, "reduce's accumulator"],
    // Before: "arithmetic or a comparison met a value that is not a number".
    ["ordering text against a number", { "<": [{ var: "data.x" }, 1] }, { x: "abc" }, '< compares numbers (or numeric text), or text with text; got text "abc" and the number 1'],
    ["equality of an object and a number", { "==": [1, { var: "data.x" }] }, { x: { a: 1 } }, "== compares numbers (or numeric text), or text with text; got the number 1 and an object"],
    ["a 3-way comparison", { "<": [1, { var: "data.x" }, 3] }, { x: [2] }, "< compares numbers (or numeric text), or text with text; got the number 1 and a list"],
    ["arithmetic on text", { "+": [{ var: "data.x" }, 1] }, { x: "12abc" }, '+ takes numbers or numeric text; argument 1 is text "12abc"'],
    ["the work budget", { map: [{ var: "data.xs" }, { map: [{ var: "" }, 0] }] }, { xs: Array.from({ length: 1_100 }, () => Array.from({ length: 1_000 }, () => 0)) }, "more than 1,000,000 list items"],
  ])("%s", (_name, expr, data, message) => {
    const err = fault(expr, data);
    expect(err.code).toBe("RULES_RUNTIME");
    expect(err.message).toContain(message);
    ownWords(err);
  });

  it("long or broken text in a value is shortened in the message, never copied whole", () => {
    const err = fault({ "<": [{ var: "data.x" }, 1] }, { x: `${"😀".repeat(100_000)}` });
    expect(err.message.length).toBeLessThan(200);
    expect(err.message).toContain("😀…");
    const path = fault({ var: { cat: [{ var: "data.p" }, ".__proto__"] } }, { p: "x".repeat(1 << 20) });
    expect(path.message.length).toBeLessThan(200);
  });

  it("what the engine itself throws is mapped to fixed sentences, keeping the original only as the cause", () => {
    const thrown: unknown[] = [new TypeError("x.map is not a function"), new RangeError("Maximum call stack size exceeded"), new Error("Method 'x' is not set up properly."), { type: "Invalid Arguments" }, { type: "Exceeded Allowed Depth" }, Number.NaN, "text", undefined];
    for (const e of thrown) {
      const err = toRuntimeError(e);
      expect(err.code).toBe("RULES_RUNTIME");
      ownWords(err);
      expect(err.message.length).toBeGreaterThan(20);
    }
    // Two Node versions wording the same TypeError differently give the same message.
    expect(toRuntimeError(new TypeError("a.b is not a function")).message).toBe(toRuntimeError(new TypeError("a.b is not a function or its return value is not iterable")).message);
  });

  it("no fault on arbitrary expressions and data carries engine text (property, 3,000 cases)", () => {
    const exprish: fc.Arbitrary<Json> = fc.letrec<{ e: Json }>((tie) => ({
      e: fc.oneof(
        { depthSize: "small" },
        fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
        fc.constantFrom<Json>({ var: "data.a" }, { var: "data.xs" }, { var: "data.s" }, { var: "data.o" }, { var: "" }, { var: "current" }, { var: "accumulator" }),
        fc.tuple(fc.constantFrom(...rules.operators), fc.oneof(fc.array(tie("e"), { maxLength: 3 }), tie("e"))).map(([op, args]) => ({ [op]: args }) as Json),
      ),
    })).e;
    const data = fc.record({ a: fc.jsonValue({ maxDepth: 2 }), xs: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }), s: fc.string({ unit: "grapheme", maxLength: 4 }), o: fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }) }) as fc.Arbitrary<Json>;
    let faults = 0;
    fc.assert(
      fc.property(exprish, data, (expr, input) => {
        for (const p of rules.check(expr)) expect(p.message).not.toMatch(ENGINE_TEXT);
        if (rules.check(expr).length > 0) return;
        try {
          rules.compile(expr)(ctxWith(input));
        } catch (e: unknown) {
          expect(e).toBeInstanceOf(StatecellError);
          ownWords(e as StatecellError);
          faults++;
        }
      }),
      { numRuns: 3000, seed: 20261202 },
    );
    expect(faults).toBeGreaterThan(300); // the generator does reach faults
  });
});

describe("the language has no regular-expression operator", () => {
  it("the operator table is exactly this list (adding one, such as a match operator, must use a linear-time engine)", () => {
    expect(rules.operators).toEqual([
      "!", "!!", "!=", "!==", "%", "*", "+", "-", "/", "<", "<=", "==", "===", ">", ">=", "?:", "??", "all", "and", "cat", "daysSince",
      "endsWith", "filter", "if", "in", "isoDate", "keys", "length", "map", "max", "merge", "min", "missing", "missing_some", "none", "or",
      "preserve", "reduce", "since", "some", "startsWith", "substr", "var",
    ]);
  });
});
