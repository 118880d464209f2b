import { describe, it, expect } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { createRuleEngine } from "../../../runtime/rules/index.js";

const rules = createRuleEngine({ params: { max: 500 } });

describe("describe: plain English for auditors", () => {
  it.each<[Json, string]>([
    [{ "<=": [{ var: "data.pm25" }, 500] }, "data.pm25 is at most 500"],
    [{ "<": [{ var: "data.a" }, 1] }, "data.a is less than 1"],
    [{ ">": [{ var: "data.a" }, 1] }, "data.a is more than 1"],
    [{ ">=": [{ var: "data.a" }, 1] }, "data.a is at least 1"],
    [{ "==": [{ var: "data.kind" }, "pm"] }, 'data.kind is "pm"'],
    [{ "===": [{ var: "data.a" }, null] }, "data.a is exactly null"],
    [{ "!=": [{ var: "data.a" }, 2] }, "data.a is not 2"],
    [{ "!==": [{ var: "data.a" }, 2] }, "data.a is not exactly 2"],
    [{ "<": [0, { var: "data.a" }, 10] }, "data.a is strictly between 0 and 10"],
    [{ "<=": [0, { var: "data.a" }, 10] }, "data.a is between 0 and 10 (inclusive)"],
    [
      { and: [{ ">": [{ var: "data.a" }, 0] }, { or: [{ var: "data.b" }, { "!": { var: "data.c" } }] }] },
      "(data.a is more than 0) and (data.b or (not data.c))",
    ],
    [{ "!!": [{ var: "signer" }] }, "signer is truthy (not false, 0, empty or null)"],
    [{ "!": { in: [{ var: "data.sensor" }, { var: "state.banned" }] } }, "data.sensor is not in state.banned"],
    [{ "!": [{ "==": [{ var: "signer" }, null] }] }, "signer is not null"],
    [{ "!": [{ "!==": [{ var: "data.a" }, 1] }] }, "data.a is exactly 1"],
    [{ "!": [{ startsWith: [{ var: "data.s" }, "x"] }] }, 'data.s does not start with "x"'],
    [{ "!": [{ endsWith: [{ var: "data.s" }, "x"] }] }, 'data.s does not end with "x"'],
    [{ "!": { missing: ["data.a", "data.b"] } }, "data.a, data.b are all present (not null or empty)"],
    [{ "!": { missing: ["data.a"] } }, "data.a is present (not null or empty)"],
    [{ "!": { "<": [{ var: "data.a" }, 1] } }, "not (data.a is less than 1)"],
    [{ in: [{ var: "data.d" }, ["cen", "nor"]] }, 'data.d is in ["cen","nor"]'],
    [{ if: [{ var: "data.a" }, "yes", "no"] }, 'if data.a then "yes", else "no"'],
    [{ if: [{ var: "data.a" }, 1, { var: "data.b" }, 2, 3] }, "if data.a then 1, else if data.b then 2, else 3"],
    [{ "+": [{ var: "data.a" }, { "*": [2, { var: "data.b" }] }] }, "data.a + (2 × data.b)"],
    [{ "-": [{ var: "data.a" }] }, "-data.a"],
    [{ "/": [{ var: "data.a" }, 4] }, "data.a ÷ 4"],
    [{ "%": [{ var: "data.a" }, 4] }, "data.a mod 4"],
    [{ max: [{ var: "data.a" }, 1] }, "the largest of data.a, 1"],
    [{ min: [{ var: "data.a" }, 1] }, "the smallest of data.a, 1"],
    [{ cat: ["id-", { var: "data.id" }] }, 'the text "id-" followed by data.id'],
    [{ substr: [{ var: "data.sensor" }, 0, 3] }, "3 characters of data.sensor from position 0"],
    [{ substr: [{ var: "data.sensor" }, 2] }, "the text of data.sensor from position 2"],
    [{ substr: [{ var: "data.sensor" }, 0, -1] }, "the text of data.sensor from position 0 without its last 1 characters"],
    [{ var: ["data.n", 0] }, "data.n (or 0 if missing)"],
    [{ var: "channel.params.max" }, "channel.params.max (= 500)"],
    [{ missing: ["data.a", "data.b"] }, "the missing ones among data.a, data.b"],
    [{ missing_some: [1, ["data.a", "data.b"]] }, "the missing ones among data.a, data.b, unless at least 1 are present"],
    [{ some: [{ var: "data.xs" }, { ">": [{ var: "v" }, 1] }] }, "some item of data.xs has (the item's v is more than 1)"],
    [{ all: [{ var: "data.xs" }, { ">": [{ var: "" }, 0] }] }, "data.xs is not empty and every item has (the item is more than 0)"],
    [{ none: [{ var: "data.xs" }, { var: "bad" }] }, "no item of data.xs has the item's bad"],
    [{ map: [{ var: "data.xs" }, { "*": [{ var: "" }, 2] }] }, "each item of data.xs turned into (the item × 2)"],
    [{ filter: [{ var: "data.xs" }, { ">": [{ var: "" }, 2] }] }, "the items of data.xs with (the item is more than 2)"],
    [
      { reduce: [{ var: "data.xs" }, { "+": [{ var: "current" }, { var: "accumulator" }] }, 0] },
      "data.xs folded into one value, starting from 0, by (the current item + the running accumulator)",
    ],
    [{ startsWith: [{ var: "data.s" }, "cen-"] }, 'data.s starts with "cen-"'],
    [{ endsWith: [{ var: "data.s" }, "-1"] }, 'data.s ends with "-1"'],
    [{ ">": [{ length: [{ var: "data.s" }] }, 2] }, "the length of data.s is more than 2"],
    [{ keys: [{ var: "data.o" }] }, "the keys of data.o (sorted)"],
    [{ "<": [{ since: [{ var: "data.at" }] }, 60000] }, "the milliseconds from data.at to the block time is less than 60000"],
    [{ "<=": [{ daysSince: [{ var: "data.at" }] }, 7] }, "the whole days from data.at to the block time is at most 7"],
    [{ "==": [{ isoDate: [{ var: "data.at" }] }, { isoDate: [] }] }, "the UTC date (YYYY-MM-DD) of data.at is the UTC date (YYYY-MM-DD) of the block"],
    [{ "??": [{ var: "data.a" }, 0] }, "data.a, or if that is null, 0"],
    [{ merge: [{ var: "data.a" }, [1]] }, "the list of data.a, [1] merged"],
    [{ preserve: { a: 1 } }, 'the literal {"a":1}'],
    [{ var: { cat: ["data.", { var: "data.k" }] } }, 'the value at the path the text "data." followed by data.k'],
  ])("%j -> %s", (expr, english) => {
    expect(rules.describe(expr)).toBe(english);
  });

  it.each<[Json, string]>([
    [{ "==": [{ var: "state.nfts.{data.collection}.{data.token}.owner" }, { var: "signer" }] }, "state.nfts.{data.collection}.{data.token}.owner is signer"],
    [{ "==": [{ var: "state.seen.{data.name}" }, null] }, "state.seen.{data.name} is null"],
    [{ "+": [{ var: ["state.counts.{data.k}", 0] }, 1] }, "state.counts.{data.k} (or 0 if missing) + 1"],
    [{ "<=": [{ var: "data.n" }, { var: "channel.params.{data.kind}" }] }, "data.n is at most channel.params.{data.kind}"],
    [{ some: [{ var: "data.xs" }, { var: "{k}.ok" }] }, "some item of data.xs has the item's {k}.ok"],
    [{ and: [{ "==": [{ var: "source.cell" }, "readings"] }, { "==": [{ var: "op" }, "mint"] }] }, '(source.cell is "readings") and (op is "mint")'],
  ])("a computed path and the new roots as written: %j -> %s", (expr, english) => {
    const text = rules.describe(expr);
    expect(text).toBe(english);
    expect(text).not.toContain("followed by");
  });

  it("falls back to compact JSON for what it cannot phrase", () => {
    expect(rules.describe({ frobnicate: [1, 2] })).toBe('{"frobnicate":[1,2]}');
    expect(rules.describe({ a: 1, b: 2 })).toBe('{"a":1,"b":2}');
    expect(rules.describe(42)).toBe("42");
    expect(rules.describe("text")).toBe('"text"');
  });

  it("does not overflow on a hostile 100,000-level expression", () => {
    let expr: Json = { var: "data.x" };
    for (let i = 0; i < 100_000; i++) expr = { "!": [expr] };
    const text = rules.describe(expr);
    expect(text.startsWith("not (not (")).toBe(true);
    expect(text).toContain("not ...)");
  });
});
