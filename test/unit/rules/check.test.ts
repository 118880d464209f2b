import { describe, it, expect } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { StatecellError } from "../../../runtime/core/errors.js";
import { createRuleEngine, type RuleProblem } from "../../../runtime/rules/index.js";

const rules = createRuleEngine({ params: { max: 500, district: "cen" } });
const codes = (ps: RuleProblem[]): Array<[string, ReadonlyArray<string | number>]> => ps.map((p) => [p.code, p.path]);

describe("check: clean expressions", () => {
  it.each<[string, Json]>([
    ["a comparison", { "<=": [{ var: "data.pm25" }, 500] }],
    ["every root", { and: ["data.a", "state.b", "block.time", "signer", "token.x", "channel.params.max", "source.cell", "op"].map((v) => ({ "!!": { var: v } })) }],
    ["a default", { var: ["data.x", 0] }],
    ["iterator item paths", { some: [{ var: "data.xs" }, { ">": [{ var: "pm25" }, 1] }] }],
    ["the item itself", { filter: [{ var: "data.xs" }, { ">": [{ var: "" }, 1] }] }],
    ["reduce roots", { reduce: [{ var: "data.xs" }, { "+": [{ var: "current" }, { var: "accumulator" }] }, 0] }],
    ["missing", { missing: ["data.a", "data.b"] }],
    ["missing_some", { missing_some: [1, ["data.a", "data.b"]] }],
    ["preserve is not checked inside", { preserve: { __proto__x: 1, "not an op": [1] } }],
    ["literals", [1, "a", null, true, {}]],
    ["custom operators", { and: [{ startsWith: [{ var: "data.s" }, "a"] }, { ">": [{ daysSince: [{ var: "data.at" }] }, 1] }, { isoDate: [] }] }],
  ])("%s has no problems", (_name, expr) => {
    expect(rules.check(expr)).toEqual([]);
  });
});

describe("check: codes and paths", () => {
  it("RULES_UNKNOWN_OPERATOR points at the operator key and suggests the closest", () => {
    const ps = rules.check({ and: [{ "<=": [1, 2] }, { startswith: [{ var: "data.s" }, "x"] }] });
    expect(codes(ps)).toEqual([["RULES_UNKNOWN_OPERATOR", ["and", 1, "startswith"]]]);
    expect(ps[0].message).toContain('did you mean "startsWith"');
    expect(ps[0].remedy).toBe('write "startsWith"');
  });

  it("RULES_UNKNOWN_OPERATOR suggests == for = and refuses the removed log, val, pipe, throw", () => {
    expect(rules.check({ "=": [1, 1] })[0].message).toContain('did you mean "=="');
    for (const op of ["log", "val", "pipe", "throw", "try", "eachKey", "get", "exists"]) {
      expect(codes(rules.check({ [op]: [1] }))).toEqual([["RULES_UNKNOWN_OPERATOR", [op]]]);
    }
  });

  it("RULES_UNKNOWN_OPERATOR refuses Object.prototype member names", () => {
    for (const op of ["toString", "constructor", "__proto__", "hasOwnProperty", "__defineGetter__", "valueOf"]) {
      const expr = JSON.parse(`{"${op}": [1]}`) as Json;
      expect(codes(rules.check(expr))).toEqual([["RULES_UNKNOWN_OPERATOR", [op]]]);
      expect(() => rules.compile(expr)).toThrow(StatecellError);
    }
  });

  it("RULES_UNKNOWN_ROOT points at the path and suggests a root", () => {
    const ps = rules.check({ if: [{ "==": [{ var: "dta.x" }, 1] }, 1, 2] });
    expect(codes(ps)).toEqual([["RULES_UNKNOWN_ROOT", ["if", 0, "==", 0, "var"]]]);
    expect(ps[0].message).toContain('did you mean "data.x"');
  });

  it("RULES_UNKNOWN_ROOT: the path of a var with a default is the path string's index", () => {
    expect(codes(rules.check({ var: ["pm25", 0] }))).toEqual([["RULES_UNKNOWN_ROOT", ["var", 0]]]);
  });

  it("RULES_UNKNOWN_ROOT refuses var '' at the top level but allows it on iterator items", () => {
    expect(codes(rules.check({ var: "" }))).toEqual([["RULES_UNKNOWN_ROOT", ["var"]]]);
    expect(codes(rules.check({ var: [] }))).toEqual([["RULES_UNKNOWN_ROOT", ["var"]]]);
    expect(rules.check({ map: [{ var: "data.xs" }, { var: "" }] })).toEqual([]);
  });

  it("RULES_UNKNOWN_ROOT checks the first argument of iterators but not the second", () => {
    const ps = rules.check({ all: [{ var: "xs" }, { ">": [{ var: "pm25" }, 0] }] });
    expect(codes(ps)).toEqual([["RULES_UNKNOWN_ROOT", ["all", 0, "var"]]]);
  });

  it("RULES_UNKNOWN_ROOT inside reduce expects current or accumulator; the initial value is in the outer scope", () => {
    const ps = rules.check({ reduce: [{ var: "data.xs" }, { "+": [{ var: "data.y" }, { var: "accumulator" }] }, { var: "init" }] });
    expect(codes(ps)).toEqual([
      ["RULES_UNKNOWN_ROOT", ["reduce", 1, "+", 0, "var"]],
      ["RULES_UNKNOWN_ROOT", ["reduce", 2, "var"]],
    ]);
    expect(ps[0].message).toContain("current, accumulator");
  });

  it("RULES_UNKNOWN_ROOT honours the roots option", () => {
    expect(rules.check({ var: "data.x" }, { roots: ["data", "signer"] })).toEqual([]);
    expect(codes(rules.check({ var: "state.x" }, { roots: ["data", "signer"] }))).toEqual([["RULES_UNKNOWN_ROOT", ["var"]]]);
  });

  it("RULES_UNKNOWN_ROOT in missing and missing_some paths", () => {
    expect(codes(rules.check({ missing: ["data.a", "b"] }))).toEqual([["RULES_UNKNOWN_ROOT", ["missing", 1]]]);
    expect(codes(rules.check({ missing_some: [1, ["data.a", "b"]] }))).toEqual([["RULES_UNKNOWN_ROOT", ["missing_some", 1, 1]]]);
  });

  it.each(["data.__proto__.x", "data.constructor", "data.a.prototype", "__proto__"])(
    "RULES_FORBIDDEN_PATH for %s, anywhere, even on iterator items",
    (path) => {
      expect(codes(rules.check({ "==": [{ var: path }, 1] }))).toEqual([["RULES_FORBIDDEN_PATH", ["==", 0, "var"]]]);
      expect(codes(rules.check({ map: [{ var: "data.xs" }, { var: path }] }))).toEqual([["RULES_FORBIDDEN_PATH", ["map", 1, "var"]]]);
      expect(codes(rules.check({ missing: [path] }))).toEqual([["RULES_FORBIDDEN_PATH", ["missing", 0]]]);
    },
  );

  it("RULES_UNKNOWN_PARAM when params are known", () => {
    const ps = rules.check({ "<": [{ var: "data.pm25" }, { var: "channel.params.mx" }] });
    expect(codes(ps)).toEqual([["RULES_UNKNOWN_PARAM", ["<", 1, "var"]]]);
    expect(ps[0].message).toContain('did you mean "max"');
    // Without params the engine cannot know, so it does not guess.
    expect(createRuleEngine().check({ var: "channel.params.mx" })).toEqual([]);
  });

  it("RULES_TOO_DEEP at the first node past 32 levels", () => {
    let expr: Json = { var: "data.x" };
    for (let i = 0; i < 20; i++) expr = { "!": [expr] };
    const ps = rules.check(expr);
    expect(ps.map((p) => p.code)).toEqual(["RULES_TOO_DEEP"]);
    // 16 levels of {"!": [...]} are 32 containers; the 17th object is the 33rd.
    expect(ps[0].path).toEqual(Array.from({ length: 16 }, () => ["!", 0]).flat());
    let ok: Json = { var: "data.x" };
    for (let i = 0; i < 15; i++) ok = { "!": [ok] };
    expect(rules.check(ok)).toEqual([]);
  });

  it("RULES_TOO_DEEP on a hostile 100,000-level expression does not overflow the stack", () => {
    let expr: Json = 1;
    for (let i = 0; i < 100_000; i++) expr = [expr];
    expect(rules.check(expr).map((p) => p.code)).toEqual(["RULES_TOO_DEEP"]);
  });

  it("RULES_TOO_LARGE over 2,000 nodes, at the root", () => {
    const big: Json = { and: Array.from({ length: 700 }, (_, i) => ({ "==": [i, i] })) };
    expect(codes(rules.check(big))).toEqual([["RULES_TOO_LARGE", []]]);
    const fine: Json = { and: Array.from({ length: 300 }, (_, i) => ({ "==": [i, i] })) };
    expect(rules.check(fine)).toEqual([]);
  });

  it.each<[string, Json, ReadonlyArray<string | number>]>([
    ["if with no arguments", { if: [] }, ["if"]],
    ["a comparison with one argument", { "==": [1] }, ["=="]],
    ["a comparison that is not a list", { ">": 1 }, [">"]],
    ["and with no arguments", { and: [] }, ["and"]],
    ["var with a list path", { var: [["data", "x"]] }, ["var", 0]],
    ["var with a boolean path", { var: true }, ["var"]],
    ["var with three arguments", { var: ["data.x", 1, 2] }, ["var"]],
    ["an object with two keys", { "==": [{ var: "data.x", cat: ["a"] }, 1] }, ["==", 0]],
    ["a parent-scope path", { map: [{ var: "data.xs" }, { var: "../data.y" }] }, ["map", 1, "var"]],
    ["substr with one argument", { substr: ["abc"] }, ["substr"]],
    ["a map without a mapper", { map: [{ var: "data.xs" }] }, ["map"]],
    ["startsWith with one argument", { startsWith: ["abc"] }, ["startsWith"]],
    ["division by a constant zero", { "/": [{ var: "data.x" }, 0] }, ["/"]],
    ["a nested constant fault, at its operator", { and: [true, { "<": [{ "/": [{ var: "data.x" }, 0] }, 2] }] }, ["and", 1, "<", 0, "/"]],
    ["arithmetic on constant text", { "+": [{ var: "data.x" }, "abc"] }, ["+"]],
  ])("RULES_BAD_ARGUMENTS: %s", (_name, expr, path) => {
    expect(codes(rules.check(expr))).toEqual([["RULES_BAD_ARGUMENTS", path]]);
  });

  it("RULES_BAD_ARGUMENTS for values JSON cannot carry (YAML .nan / .inf), at their path", () => {
    expect(codes(rules.check({ "<": [{ var: "data.x" }, Number.POSITIVE_INFINITY] }))).toEqual([["RULES_BAD_ARGUMENTS", ["<", 1]]]);
    expect(codes(rules.check({ and: [true, Number.NaN] }))).toEqual([["RULES_BAD_ARGUMENTS", ["and", 1]]]);
    expect(codes(rules.check(undefined as unknown as Json))).toEqual([["RULES_BAD_ARGUMENTS", []]]);
    expect(() => rules.compile({ "+": [1, Number.NaN] })).toThrow(expect.objectContaining({ code: "RULES_BAD_ARGUMENTS" }));
  });

  it("collects every problem of an expression, in document order", () => {
    const ps = rules.check({ and: [{ var: "dat.x" }, { foo: [1] }, { var: "data.constructor" }, { if: [] }] });
    expect(codes(ps)).toEqual([
      ["RULES_UNKNOWN_ROOT", ["and", 0, "var"]],
      ["RULES_UNKNOWN_OPERATOR", ["and", 1, "foo"]],
      ["RULES_FORBIDDEN_PATH", ["and", 2, "var"]],
      ["RULES_BAD_ARGUMENTS", ["and", 3, "if"]],
    ]);
    for (const p of ps) expect(p.remedy.length).toBeGreaterThan(5);
  });

  it("compile throws the first problem's code and carries all problems", () => {
    try {
      rules.compile({ and: [{ var: "dat.x" }, { foo: [1] }] });
      expect.unreachable();
    } catch (e: unknown) {
      expect(e).toBeInstanceOf(StatecellError);
      const err = e as StatecellError;
      expect(err.code).toBe("RULES_UNKNOWN_ROOT");
      expect(err.problems.map((p) => [p.code, p.path])).toEqual([
        ["RULES_UNKNOWN_ROOT", "and.0.var"],
        ["RULES_UNKNOWN_OPERATOR", "and.1.foo"],
      ]);
      expect((err.payload.problems as RuleProblem[]).length).toBe(2);
    }
    expect(() => rules.compileRule({ "/": [1, 0] })).toThrow(expect.objectContaining({ code: "RULES_BAD_ARGUMENTS" }));
  });
});

describe("check: computed paths and the source and op roots", () => {
  it.each<[string, Json]>([
    ["a computed path", { var: "state.nfts.{data.collection}.{data.token}.owner" }],
    ["a computed path with a default", { var: ["state.x.{data.k}", 0] }],
    ["a placeholder reading a param", { var: "state.x.{channel.params.district}" }],
    ["a computed param path (checked at run time)", { var: "channel.params.{data.k}" }],
    ["a placeholder first on an iterator item", { map: [{ var: "data.xs" }, { var: "{k}.v" }] }],
    ["source.cell and op", { and: [{ "==": [{ var: "source.cell" }, "readings"] }, { "==": [{ var: "op" }, "mint"] }] }],
    ["a placeholder reading op", { var: "state.byOp.{op}" }],
  ])("%s has no problems", (_name, expr) => {
    expect(rules.check(expr)).toEqual([]);
  });

  it("RULES_UNKNOWN_ROOT in the fixed part, suggesting the path as written with the root fixed", () => {
    const ps = rules.check({ "==": [{ var: "stat.seen.{data.name}" }, null] });
    expect(codes(ps)).toEqual([["RULES_UNKNOWN_ROOT", ["==", 0, "var"]]]);
    expect(ps[0].message).toContain('did you mean "state.seen.{data.name}"');
    expect(ps[0].remedy).toBe('write "state.seen.{data.name}"');
  });

  it("RULES_UNKNOWN_ROOT when a computed path starts with a placeholder outside an iterator", () => {
    const ps = rules.check({ var: ["{data.root}.x", 0] });
    expect(codes(ps)).toEqual([["RULES_UNKNOWN_ROOT", ["var", 0]]]);
    expect(ps[0].message).toContain("starts with a placeholder");
  });

  it("RULES_UNKNOWN_ROOT in a placeholder names the placeholder", () => {
    const ps = rules.check({ var: "state.seen.{dta.name}" });
    expect(codes(ps)).toEqual([["RULES_UNKNOWN_ROOT", ["var"]]]);
    expect(ps[0].message).toContain('did you mean "data.name"');
    expect(ps[0].message).toContain('in the placeholder {dta.name} of "state.seen.{dta.name}"');
  });

  it("RULES_UNKNOWN_PARAM in the fixed part of a computed path, and in a placeholder", () => {
    const fixed = rules.check({ var: "channel.params.nxt.{data.k}" });
    expect(codes(fixed)).toEqual([["RULES_UNKNOWN_PARAM", ["var"]]]);
    expect(fixed[0].message).toContain('the channel has no param "nxt"');
    expect(rules.check({ var: "channel.params.mx.{data.k}" })[0].remedy).toBe('write "channel.params.max"');
    const inPlaceholder = rules.check({ var: "state.x.{channel.params.mx}" });
    expect(codes(inPlaceholder)).toEqual([["RULES_UNKNOWN_PARAM", ["var"]]]);
    expect(inPlaceholder[0].message).toContain("in the placeholder {channel.params.mx}");
  });

  it("RULES_FORBIDDEN_PATH in the fixed part and in a placeholder, even on iterator items", () => {
    expect(codes(rules.check({ var: "state.__proto__.{data.k}" }))).toEqual([["RULES_FORBIDDEN_PATH", ["var"]]]);
    expect(codes(rules.check({ var: "state.x.{data.constructor}" }))).toEqual([["RULES_FORBIDDEN_PATH", ["var"]]]);
    expect(codes(rules.check({ map: [{ var: "data.xs" }, { var: "{prototype}.x" }] }))).toEqual([["RULES_FORBIDDEN_PATH", ["map", 1, "var"]]]);
  });

  it("the roots option applies to the fixed part and to every placeholder", () => {
    expect(rules.check({ var: "data.x.{data.k}" }, { roots: ["data"] })).toEqual([]);
    expect(codes(rules.check({ var: "data.x.{state.k}" }, { roots: ["data"] }))).toEqual([["RULES_UNKNOWN_ROOT", ["var"]]]);
  });

  it.each<[string, string]>([
    ["state.x.{data.a{data.b}}", "do not nest"],
    ["state.x..{data.k}", "empty segment"],
    ["state.x.{data.k", "never closed"],
    ["state.x.data.k}", 'a "}"'],
    ["state.x.{}", "empty placeholder"],
    ["state.x{data.k}", "mixes text"],
  ])("RULES_BAD_PATH for %j (%s), at the path", (path, what) => {
    const ps = rules.check({ "==": [{ var: path }, null] });
    expect(codes(ps)).toEqual([["RULES_BAD_PATH", ["==", 0, "var"]]]);
    expect(ps[0].message).toContain(what);
    expect(() => rules.compile({ var: path })).toThrow(expect.objectContaining({ code: "RULES_BAD_PATH" }));
  });

  it("RULES_BAD_PATH for braces in missing and missing_some, which read plain paths", () => {
    expect(codes(rules.check({ missing: ["data.a", "state.seen.{data.k}"] }))).toEqual([["RULES_BAD_PATH", ["missing", 1]]]);
    expect(codes(rules.check({ missing_some: [1, ["state.seen.{data.k}"]] }))).toEqual([["RULES_BAD_PATH", ["missing_some", 1, 0]]]);
  });

  it("suggests source and op for near misses", () => {
    expect(rules.check({ var: "sourc.cell" })[0].remedy).toBe('write "source.cell"');
    expect(rules.check({ var: "operation" })[0].remedy).toBe('write "op"');
  });
});

describe("operators", () => {
  it("lists the vetted operators, sorted, with the custom ones and none of the removed ones", () => {
    expect(rules.operators).toEqual([...rules.operators].sort());
    for (const op of ["startsWith", "endsWith", "length", "keys", "since", "isoDate", "daysSince", "var", "reduce", "in"]) {
      expect(rules.operators).toContain(op);
    }
    for (const op of ["log", "val", "get", "exists", "pipe", "throw", "try", "eachKey", "every", "not"]) {
      expect(rules.operators).not.toContain(op);
    }
  });
});
