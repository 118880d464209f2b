/**
 * Numbers a rule produces must be exact: beyond ±(2^53 − 1) doubles skip
 * integers (2^53 + 1 == 2^53), so a balance or a count would silently be off.
 * Such a result is a RULES_RUNTIME fault that says so and suggests text.
 */
import { describe, it, expect } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { StatecellError } from "../../../runtime/core/errors.js";
import { createRuleEngine } from "../../../runtime/rules/index.js";
import { BLOCK_TIME, ctxWith } from "./context.js";

const rules = createRuleEngine();
const TWO_53 = 2 ** 53;
const MAX = Number.MAX_SAFE_INTEGER;
const evalWith = (expr: Json, data: Json): Json => rules.compile(expr)(ctxWith(data));

function inexact(f: () => unknown): StatecellError {
  try {
    f();
  } catch (e: unknown) {
    expect(e).toBeInstanceOf(StatecellError);
    const err = e as StatecellError;
    expect(err.code).toBe("RULES_RUNTIME");
    expect(err.message).toContain("2^53 − 1");
    expect(err.message).toContain("no longer exact");
    expect(err.remedy).toContain("text");
    return err;
  }
  throw new Error("expected a fault");
}

describe("arithmetic beyond ±(2^53 − 1) is a fault, never a silent rounding", () => {
  it("2^53 + 1 faults instead of giving 2^53 (before: the rule {==: [2^53 + 1, 2^53]} held)", () => {
    const err = inexact(() => evalWith({ "+": [{ var: "data.n" }, 1] }, { n: TWO_53 }));
    expect(err.message).toContain("the result of +");
    expect(() => rules.compileRule({ "==": [{ "+": [{ var: "data.n" }, 1] }, TWO_53] })(ctxWith({ n: TWO_53 }))).toThrow(
      expect.objectContaining({ code: "RULES_RUNTIME" }),
    );
  });

  it.each<[string, Json, Json]>([
    ["+", { "+": [{ var: "data.n" }, { var: "data.n" }] }, { n: 2 ** 52 }],
    ["+ of three", { "+": [{ var: "data.n" }, 1, 1] }, { n: MAX }],
    ["+ of a list", { "+": { var: "data.xs" } }, { xs: [MAX, 1] }],
    ["-", { "-": [{ var: "data.n" }, 1] }, { n: -MAX }],
    ["- of one", { "-": [{ var: "data.n" }] }, { n: TWO_53 }],
    ["*", { "*": [{ var: "data.n" }, 3] }, { n: 2 ** 52 }],
    ["* of a list", { "*": { var: "data.xs" } }, { xs: [2 ** 30, 2 ** 30] }],
    ["/", { "/": [{ var: "data.n" }, 0.5] }, { n: 2 ** 52 + 1 }],
    ["%", { "%": [{ var: "data.n" }, 3e20] }, { n: 1e20 }],
    ["max", { max: [{ var: "data.n" }, 1] }, { n: 1e20 }],
    ["min", { min: [{ var: "data.n" }, 1] }, { n: -1e20 }],
    ["numeric text", { "+": [{ var: "data.s" }, 0] }, { s: "9007199254740993" }],
    ["a reduce that sums past it", { reduce: [{ var: "data.xs" }, { "+": [{ var: "current" }, { var: "accumulator" }] }, 0] }, { xs: [MAX, MAX] }],
    ["since", { since: [{ var: "data.t" }] }, { t: -MAX }],
    ["daysSince", { daysSince: [{ var: "data.t" }] }, { t: -MAX }],
  ])("%s", (_name, expr, data) => {
    inexact(() => evalWith(expr, data));
  });

  it("an intermediate result faults even when the rule's own result would be small (2^53 + 1 - 1)", () => {
    inexact(() => evalWith({ "-": [{ "+": [{ var: "data.n" }, 1] }, 1] }, { n: TWO_53 }));
    inexact(() => rules.compileRule({ ">": [{ "*": [{ var: "data.n" }, 1e300] }, 0] })(ctxWith({ n: 10 })));
  });

  it("every number a compiled expression returns is checked, also when read from data", () => {
    inexact(() => evalWith({ var: "data.n" }, { n: 1e20 }));
    inexact(() => evalWith({ var: "data" }, { list: [1, { deep: [-TWO_53] }] }));
    inexact(() => evalWith({ preserve: { big: 12345678901234567890 } }, null));
    inexact(() => rules.compileRule({ var: "data.n" })(ctxWith({ n: TWO_53 })));
  });

  it("exact results pass: the limits themselves, fractions, and large numbers compared, not computed", () => {
    expect(evalWith({ "+": [{ var: "data.n" }, 1] }, { n: MAX - 1 })).toBe(MAX);
    expect(evalWith({ "-": [{ var: "data.n" }, 1] }, { n: -MAX + 1 })).toBe(-MAX);
    expect(evalWith({ "+": [0.1, 0.2] }, null)).toBe(0.30000000000000004);
    expect(evalWith({ "/": [{ var: "data.n" }, 1e10] }, { n: 1e15 })).toBe(1e5);
    expect(evalWith({ ">": [{ var: "data.n" }, 1] }, { n: 1e20 })).toBe(true);
    expect(evalWith({ cat: [{ var: "data.n" }] }, { n: 1e20 })).toBe("100000000000000000000");
    expect(evalWith({ since: [{ var: "data.t" }] }, { t: BLOCK_TIME - 5 })).toBe(5);
  });
});

describe("arithmetic faults name the operator and the value", () => {
  it.each<[string, Json, Json, string]>([
    ["text", { "+": [{ var: "data.x" }, 1] }, { x: "abc" }, '+ takes numbers or numeric text; argument 1 is text "abc"'],
    ["a list", { "*": [2, { var: "data.x" }] }, { x: [1] }, "* takes numbers or numeric text; argument 2 is a list"],
    ["an object", { "-": [{ var: "data.x" }] }, { x: { a: 1 } }, "- takes numbers or numeric text; argument 1 is an object"],
    ["division by zero", { "/": [1, { var: "data.x" }] }, { x: 0 }, "/ (division) by zero"],
    ["remainder by zero", { "%": [1, { var: "data.x" }] }, { x: "0" }, "% (remainder) by zero"],
    ["max of text", { max: [1, { var: "data.x" }] }, { x: "2" }, 'max takes numbers only; argument 2 is text "2"'],
    ["* of one number", { "*": { var: "data.x" } }, { x: 3 }, "* of a single value needs a list of numbers, got the number 3"],
  ])("%s", (_name, expr, data, message) => {
    expect(() => evalWith(expr, data)).toThrow(expect.objectContaining({ code: "RULES_RUNTIME", message }));
  });

  it("literal operands that always fail are reported at load, at the operator", () => {
    const codes = (e: Json): Array<[string, ReadonlyArray<string | number>]> => rules.check(e).map((p) => [p.code, p.path]);
    expect(codes({ "%": [{ var: "data.x" }, 0] })).toEqual([["RULES_BAD_ARGUMENTS", ["%"]]]);
    expect(codes({ "/": [{ var: "data.x" }, "0"] })).toEqual([["RULES_BAD_ARGUMENTS", ["/"]]]);
    expect(codes({ "+": [{ var: "data.x" }, {}] })).toEqual([["RULES_BAD_ARGUMENTS", ["+"]]]);
    expect(codes({ "-": [[1], 1] })).toEqual([["RULES_BAD_ARGUMENTS", ["-"]]]);
    expect(rules.check({ "+": [{ var: "data.x" }, "abc"] })[0].message).toBe('+ takes numbers, but argument 2 is text "abc"');
    expect(codes({ "+": [{ var: "data.x" }, " 12 ", null, true] })).toEqual([]);
  });
});
