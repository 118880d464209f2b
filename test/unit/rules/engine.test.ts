import { describe, it, expect } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { CONTEXT_ROOTS, createRuleEngine, type RuleEngine } from "../../../runtime/rules/index.js";
import { ctxWith } from "./context.js";

describe("createRuleEngine", () => {
  const rules: RuleEngine = createRuleEngine({ params: { max: 500 } });

  it("is frozen: operators cannot be swapped after creation", () => {
    expect(Object.isFrozen(rules)).toBe(true);
    expect(Object.isFrozen(rules.operators)).toBe(true);
  });

  it("compiles literals and lists of expressions", () => {
    const ctx = ctxWith({ x: 2 });
    expect(rules.compile(5)(ctx)).toBe(5);
    expect(rules.compile("text")(ctx)).toBe("text");
    expect(rules.compile(null)(ctx)).toBeNull();
    expect(rules.compile([1, { var: "data.x" }, [{ "+": [{ var: "data.x" }, 1] }]])(ctx)).toEqual([1, 2, [3]]);
    expect(rules.compile({})(ctx)).toEqual({});
    expect(rules.compileRule(true)(ctx)).toBe(true);
    expect(rules.compileRule([])(ctx)).toBe(false);
  });

  it("reads every context root", () => {
    const ctx = ctxWith({ x: 1 }, { state: { total: 3 }, signer: "ab", token: { balances: { ab: 5 } }, source: { cell: "readings" }, op: "mint" });
    const read = (p: string): Json => rules.compile({ var: p })(ctx);
    expect(CONTEXT_ROOTS.map((r) => typeof read(r))).toEqual(["object", "object", "object", "string", "object", "object", "object", "string"]);
    expect(read("source.cell")).toBe("readings");
    expect(read("op")).toBe("mint");
    expect(read("state.total")).toBe(3);
    expect(read("block.height")).toBe(1);
    expect(read("token.balances.ab")).toBe(5);
    expect(read("channel.params.max")).toBe(500);
  });

  it("a context without source and op (a direct submission to a cell without operations) reads both as null", () => {
    const ctx = ctxWith({ x: 1 });
    expect(rules.compile({ var: "source.cell" })(ctx)).toBeNull();
    expect(rules.compile({ var: ["op", "none"] })(ctx)).toBe("none");
    expect(rules.compile({ var: "source.cell" })(ctxWith({ x: 1 }, { source: { cell: null }, op: null }))).toBeNull();
    expect(rules.compileRule({ "==": [{ var: "op" }, null] })(ctx)).toBe(true);
  });

  it("compile and compileRule honour the roots option", () => {
    expect(() => rules.compile({ var: "state.x" }, { roots: ["data"] })).toThrow(expect.objectContaining({ code: "RULES_UNKNOWN_ROOT" }));
    expect(() => rules.compileRule({ var: "state.x" }, { roots: ["data"] })).toThrow(expect.objectContaining({ code: "RULES_UNKNOWN_ROOT" }));
    expect(rules.compile({ var: "data.x" }, { roots: ["data"] })(ctxWith({ x: 1 }))).toBe(1);
  });

  it("a compiled expression is reusable and independent of earlier evaluations", () => {
    const f = rules.compile({ if: [{ ">": [{ var: "data.x" }, 1] }, { cat: ["big ", { var: "data.x" }] }, { var: ["data.y", "none"] }] });
    expect(f(ctxWith({ x: 5 }))).toBe("big 5");
    expect(f(ctxWith({ x: 0, y: "y" }))).toBe("y");
    expect(f(ctxWith({ x: 0 }))).toBe("none");
    expect(f(ctxWith({ x: 7 }))).toBe("big 7");
  });

  it("a fault in one evaluation leaves the engine usable (the block-time slot is restored)", () => {
    const bad = rules.compile({ "+": [{ var: "data.x" }, 1] });
    const date = rules.compile({ isoDate: [] });
    expect(() => bad(ctxWith({ x: "nope" }))).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
    expect(date(ctxWith(null, { block: { height: 1, time: 86_400_000, hash: "" } }))).toBe("1970-01-02");
  });
});
