import { describe, it, expect } from "vitest";
import { LogicEngine } from "json-logic-engine";
import type { Json } from "../../../runtime/core/canonical.js";
import { createRuleEngine } from "../../../runtime/rules/index.js";
import { BLOCK_TIME, ctxWith } from "./context.js";

const rules = createRuleEngine();
const run = (expr: Json, data: Json = null, time = BLOCK_TIME): Json =>
  rules.compile(expr)(ctxWith(data, { block: { height: 3, time, hash: "00" } }));

describe("custom operators", () => {
  it("startsWith / endsWith: strings only, false otherwise", () => {
    expect(run({ startsWith: [{ var: "data.s" }, "cen-"] }, { s: "cen-1" })).toBe(true);
    expect(run({ startsWith: [{ var: "data.s" }, "nor-"] }, { s: "cen-1" })).toBe(false);
    expect(run({ endsWith: [{ var: "data.s" }, "-1"] }, { s: "cen-1" })).toBe(true);
    expect(run({ endsWith: [{ var: "data.s" }, "-2"] }, { s: "cen-1" })).toBe(false);
    expect(run({ startsWith: [{ var: "data.n" }, "1"] }, { n: 12 })).toBe(false);
    expect(run({ startsWith: [{ var: "data.missing" }, ""] }, {})).toBe(false);
    expect(run({ endsWith: ["abc", { var: "data.n" }] }, { n: 1 })).toBe(false);
  });

  it("length: of a string (code points, like substr) or a list; null otherwise", () => {
    expect(run({ length: [{ var: "data.s" }] }, { s: "héllo" })).toBe(5);
    expect(run({ length: [{ var: "data.s" }] }, { s: "😀" })).toBe(1);
    expect(run({ length: [{ var: "data.xs" }] }, { xs: [1, [2, 3], {}] })).toBe(3);
    expect(run({ length: { var: "data.xs" } }, { xs: [] })).toBe(0);
    expect(run({ length: [{ var: "data.o" }] }, { o: { a: 1 } })).toBeNull();
    expect(run({ length: [{ var: "data.n" }] }, { n: 5 })).toBeNull();
    expect(run({ length: [{ var: "data.nope" }] }, {})).toBeNull();
  });

  it("keys: own keys of an object, sorted whatever the insertion order; [] otherwise", () => {
    expect(run({ keys: [{ var: "data.o" }] }, { o: { zeta: 1, alpha: 2, Mid: 3, "10": 4, "9": 5 } })).toEqual(["10", "9", "Mid", "alpha", "zeta"]);
    expect(run({ keys: [{ var: "data.o" }] }, { o: { b: 1, a: 2 } })).toEqual(run({ keys: [{ var: "data.o" }] }, { o: { a: 2, b: 1 } }));
    expect(run({ keys: [{ var: "data.xs" }] }, { xs: [1, 2] })).toEqual([]);
    expect(run({ keys: [{ var: "data.s" }] }, { s: "ab" })).toEqual([]);
    expect(run({ keys: [{ var: "data.nope" }] }, {})).toEqual([]);
  });

  it("since: block.time - t in ms, from the block header, never the clock", () => {
    expect(run({ since: [{ var: "data.at" }] }, { at: BLOCK_TIME - 1500 })).toBe(1500);
    expect(run({ since: [{ var: "data.at" }] }, { at: BLOCK_TIME + 10 })).toBe(-10);
    expect(run({ since: [{ var: "data.at" }] }, { at: 0 }, 42)).toBe(42);
    expect(run({ since: [{ var: "data.at" }] }, { at: "yesterday" })).toBeNull();
    expect(run({ since: [{ var: "data.at" }] }, {})).toBeNull();
  });

  it("daysSince: whole days, rounded down", () => {
    const day = 86_400_000;
    expect(run({ daysSince: [{ var: "data.at" }] }, { at: BLOCK_TIME - 3 * day })).toBe(3);
    expect(run({ daysSince: [{ var: "data.at" }] }, { at: BLOCK_TIME - 3 * day + 1 })).toBe(2);
    expect(run({ daysSince: [{ var: "data.at" }] }, { at: BLOCK_TIME + 1 })).toBe(-1);
    expect(run({ daysSince: [{ var: "data.at" }] }, { at: null })).toBeNull();
  });

  it("isoDate: the UTC date of t, or of the block with no argument; null out of range", () => {
    expect(run({ isoDate: [{ var: "data.at" }] }, { at: 0 })).toBe("1970-01-01");
    expect(run({ isoDate: [{ var: "data.at" }] }, { at: Date.UTC(2024, 1, 29, 23, 59, 59, 999) })).toBe("2024-02-29");
    expect(run({ isoDate: [] })).toBe("2023-11-14");
    expect(run({ isoDate: [] }, null, Date.UTC(2030, 0, 1))).toBe("2030-01-01");
    expect(run({ isoDate: [{ var: "data.at" }] }, { at: -1 })).toBe("1969-12-31");
    expect(run({ isoDate: [{ var: "data.at" }] }, { at: 253_402_300_800_000 })).toBeNull(); // year 10000
    expect(run({ isoDate: [{ var: "data.at" }] }, { at: "2024-01-01" })).toBeNull();
  });

  it("date helpers inside iterators still read the block time of the evaluation", () => {
    const expr: Json = { map: [{ var: "data.ats" }, { since: [{ var: "" }] }] };
    expect(run(expr, { ats: [BLOCK_TIME - 1, BLOCK_TIME - 2] })).toEqual([1, 2]);
  });

  it("a date helper without a numeric block time is RULES_RUNTIME", () => {
    const f = rules.compile({ since: [1] });
    const bad = ctxWith(null, { block: { height: 1, time: Number.NaN, hash: "" } });
    expect(() => f(bad)).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
  });
});

describe("replaced built-ins", () => {
  it("in: lists and text; false for anything else (the library would throw)", () => {
    expect(run({ in: [2, { var: "data.xs" }] }, { xs: [1, 2] })).toBe(true);
    expect(run({ in: ["en", { var: "data.s" }] }, { s: "cen" })).toBe(true);
    expect(run({ in: [1, { var: "data.o" }] }, { o: { 1: 1 } })).toBe(false);
    expect(run({ in: [1, { var: "data.nope" }] }, {})).toBe(false);
    expect(run({ in: ["", ""] })).toBe(false); // empty text contains nothing, as in json-logic-js
    expect(run({ in: ["", "a"] })).toBe(true);
    expect(run({ in: [null, "a null"] })).toBe(true); // primitives are searched as text, like indexOf
    expect(run({ in: [[1], "[1]"] })).toBe(false);
  });

  it("cat: null renders as nothing, lists and objects as canonical JSON", () => {
    expect(run({ cat: ["a", null, 1, true, [1, "x"], { preserve: { b: 1, a: 2 } }] })).toBe('a1true[1,"x"]{"a":2,"b":1}');
    expect(run({ cat: "solo" })).toBe("solo");
  });

  it("substr: numbers count as text, negative lengths drop characters from the end", () => {
    expect(run({ substr: [{ var: "data.s" }, 0, 3] }, { s: "cen-12" })).toBe("cen");
    expect(run({ substr: [{ var: "data.s" }, -2] }, { s: "cen-12" })).toBe("12");
    expect(run({ substr: [{ var: "data.s" }, 1, -1] }, { s: "cen-12" })).toBe("en-1");
    expect(run({ substr: [{ var: "data.n" }, 0, 2] }, { n: 12345 })).toBe("12");
  });

  it("missing and missing_some: null and empty text count as missing (json-logic spec)", () => {
    const data = { a: 1, b: null, c: "", d: 0 };
    expect(run({ missing: ["data.a", "data.b", "data.c", "data.d", "data.e"] }, data)).toEqual(["data.b", "data.c", "data.e"]);
    expect(run({ missing: [{ merge: ["data.a", "data.e"] }] }, data)).toEqual(["data.e"]);
    expect(run({ missing_some: [1, ["data.a", "data.e"]] }, data)).toEqual([]);
    expect(run({ missing_some: [2, ["data.a", "data.e"]] }, data)).toEqual(["data.e"]);
  });

  it("merge flattens one level", () => {
    expect(run({ merge: [[1, 2], 3, [[4]]] })).toEqual([1, 2, 3, [4]]);
  });
});

describe("comparisons (compare.ts)", () => {
  it("an operand that compiles to and/or does not overwrite the other operand", () => {
    expect(run({ "==": ["", { if: [{ or: [0] }, "", "a"] }] })).toBe(false);
    expect(run({ "==": [{ var: "data.a" }, { or: [{ var: "data.b" }, "x"] }] }, { a: "x", b: "" })).toBe(true);
    expect(run({ "<": [1, { and: [{ var: "data.n" }, 5] }, 9] }, { n: 3 })).toBe(true);
    expect(run({ "!==": [{ var: "data.a" }, { or: [0, 7] }] }, { a: 7 })).toBe(false);
  });

  it("canary: json-logic-engine 5.0.7's own compiled comparison is wrong there (delete compare.ts when this fails)", () => {
    const plain = new LogicEngine(undefined, { disableInline: true });
    expect(() => (plain.build({ "==": ["", { if: [{ or: [0] }, "", "a"] }] }) as (d: unknown) => unknown)({})).toThrow();
  });

  it("keeps the engine's semantics: strings compare as text, numbers and numeric text as numbers, null next to 0", () => {
    expect(run({ "<": ["10", "9"] })).toBe(true);
    expect(run({ "<": ["10", 9] })).toBe(false);
    expect(run({ "==": ["1", 1] })).toBe(true);
    expect(run({ "==": [{ var: "data.z" }, 0] }, { z: null })).toBe(true);
    expect(run({ "===": [{ var: "data.z" }, 0] }, { z: null })).toBe(false);
    expect(() => run({ "==": ["abc", 1] })).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
  });
});

describe("kept built-ins behave as documented", () => {
  it.each<[Json, Json, Json]>([
    [{ "??": [{ var: "data.a" }, { var: "data.b" }, 3] }, { b: 2 }, 2],
    [{ if: [{ var: "data.a" }, "a", { var: "data.b" }, "b", "none"] }, { b: 1 }, "b"],
    [{ "?:": [true, 1, 2] }, {}, 1],
    [{ if: [{ var: "data.a" }, { length: { var: "data.xs" } }] }, { a: 1, xs: [7, 8] }, 2],
    [{ if: [{ var: "data.a" }, 1] }, { a: 0 }, null],
    [{ if: [{ length: { var: "data.xs" } }] }, { xs: [7, 8] }, 2],
    [{ reduce: [{ var: "data.xs" }, { "*": [{ var: "current" }, { var: "accumulator" }] }, 1] }, { xs: [2, 3, 4] }, 24],
    [{ all: [{ var: "data.xs" }, { ">": [{ var: "" }, 0] }] }, { xs: [] }, false],
    [{ none: [{ var: "data.xs" }, { var: "bad" }] }, { xs: [{ bad: false }, { bad: 0 }] }, true],
    [{ "%": [{ var: "data.n" }, 3] }, { n: 10 }, 1],
    [{ min: [3, { var: "data.n" }, 7] }, { n: 1 }, 1],
    [{ "<": [1, { var: "data.n" }, 3] }, { n: 2 }, true],
    [{ "<=": [1, { var: "data.n" }, 3] }, { n: 3 }, true],
    [{ and: [true, { var: "data.n" }] }, { n: 0 }, 0],
    [{ or: [0, "", { var: "data.n" }] }, { n: "x" }, "x"],
  ])("%j on %j is %j", (expr, data, expected) => {
    expect(run(expr, data)).toEqual(expected);
  });
});
