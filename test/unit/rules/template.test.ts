import { describe, it, expect } from "vitest";
import { StatecellError } from "../../../runtime/core/errors.js";
import { createRuleEngine, type RuleProblem } from "../../../runtime/rules/index.js";
import { ctxWith } from "./context.js";

const rules = createRuleEngine();
const codes = (ps: RuleProblem[]): Array<[string, ReadonlyArray<string | number>]> => ps.map((p) => [p.code, p.path]);

describe("templates", () => {
  it("fills placeholders: strings as is, other values as canonical JSON, missing as null", () => {
    const t = rules.compileTemplate("PM2.5 of {data.pm25} from {data.sensor}; tags {data.tags}, meta {data.meta}, gone {data.nope}");
    const out = t.render(ctxWith({ pm25: 612.5, sensor: "cen-1", tags: ["a", 1], meta: { z: 1, a: null } }));
    expect(out).toBe('PM2.5 of 612.5 from cen-1; tags ["a",1], meta {"a":null,"z":1}, gone null');
  });

  it("{{ and }} are literal braces", () => {
    const t = rules.compileTemplate("{{literal}} {data.x} }}{{");
    expect(t.render(ctxWith({ x: true }))).toBe("{literal} true }{");
  });

  it("exposes the parts in order, for state paths", () => {
    const t = rules.compileTemplate("totals.{data.district}.count");
    expect(t.parts.map((p) => ("literal" in p ? { literal: p.literal } : { path: p.path }))).toEqual([
      { literal: "totals." },
      { path: "data.district" },
      { literal: ".count" },
    ]);
    const expr = t.parts[1];
    expect("expr" in expr && expr.expr(ctxWith({ district: "cen" }))).toBe("cen");
    expect(t.render(ctxWith({ district: "cen" }))).toBe("totals.cen.count");
  });

  it("placeholder paths are trimmed and checked like var paths", () => {
    expect(rules.compileTemplate("{ data.x }").render(ctxWith({ x: 1 }))).toBe("1");
    expect(codes(rules.checkTemplate("a {data.__proto__.x} b"))).toEqual([["RULES_FORBIDDEN_PATH", [3]]]);
    expect(codes(rules.checkTemplate("ab {dta.x}"))).toEqual([["RULES_UNKNOWN_ROOT", [4]]]);
    expect(codes(rules.checkTemplate("{data.x}", { roots: ["state"] }))).toEqual([["RULES_UNKNOWN_ROOT", [1]]]);
  });

  it.each<[string, number]>([
    ["unclosed {data.x", 9],
    ["lone } here", 5],
    ["empty {} here", 6],
    ["nested {a{b}}", 7],
  ])("RULES_BAD_TEMPLATE for %j at its offset", (text, offset) => {
    const ps = rules.checkTemplate(text);
    expect(ps[0].code).toBe("RULES_BAD_TEMPLATE");
    expect(ps[0].path).toEqual([offset]);
  });

  it("compileTemplate throws StatecellError with every problem", () => {
    try {
      rules.compileTemplate("{dta.x} and { and {data.constructor}");
      expect.unreachable();
    } catch (e: unknown) {
      expect(e).toBeInstanceOf(StatecellError);
      const err = e as StatecellError;
      expect(err.problems.map((p) => p.code).sort()).toEqual(["RULES_BAD_TEMPLATE", "RULES_FORBIDDEN_PATH", "RULES_UNKNOWN_ROOT"]);
    }
  });

  it("a placeholder may be a computed path: its value fills one segment, dots and all", () => {
    const t = rules.compileTemplate("{data.name} was first seen at {state.seen.{data.name}} (height {state.heights.{ data.name }})");
    const state = { seen: { "a.b": "block 7" }, heights: { "a.b": 7 }, a: { b: "wrong" } };
    expect(t.render(ctxWith({ name: "a.b" }, { state }))).toBe("a.b was first seen at block 7 (height 7)");
    expect(t.render(ctxWith({ name: ["a"] }, { state }))).toBe('["a"] was first seen at null (height null)');
    const part = t.parts[2];
    expect("path" in part && part.path).toBe("state.seen.{data.name}");
  });

  it("a computed placeholder is checked like a var path: problems in its fixed part and its placeholders, at the placeholder", () => {
    expect(rules.checkTemplate("seen {state.seen.{data.name}}")).toEqual([]);
    expect(codes(rules.checkTemplate("seen {stat.seen.{data.name}}"))).toEqual([["RULES_UNKNOWN_ROOT", [6]]]);
    expect(codes(rules.checkTemplate("seen {state.seen.{data.__proto__}}"))).toEqual([["RULES_FORBIDDEN_PATH", [6]]]);
    expect(codes(rules.checkTemplate("{{literal}} {state.{data.k}} }}"))).toEqual([]);
  });

  it.each<[string, number]>([
    ["a {state.seen.{data.{x}}} b", 2],
    ["a {state.seen{data.x}} b", 2],
    ["a {state..{data.x}} b", 2],
    ["a {state.seen.{data.x} b", 2],
  ])("RULES_BAD_TEMPLATE for the malformed computed placeholder in %j, at its brace", (text, offset) => {
    const ps = rules.checkTemplate(text);
    expect(codes(ps)).toEqual([["RULES_BAD_TEMPLATE", [offset]]]);
    expect(() => rules.compileTemplate(text)).toThrow(expect.objectContaining({ code: "RULES_BAD_TEMPLATE" }));
  });

  it("text without placeholders is one literal part", () => {
    const t = rules.compileTemplate("plain text");
    expect(t.parts).toEqual([{ literal: "plain text" }]);
    expect(rules.compileTemplate("").parts).toEqual([]);
  });
});
