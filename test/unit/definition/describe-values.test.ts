/** How the English of rules inlines values: whole while short, by size when long, at a bounded cost. */
import { describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { createRuleEngine } from "../../../runtime/rules/index.js";
import { inlineValue, LITERAL_CHARS, PARAM_CHARS } from "../../../runtime/rules/describe.js";

describe("inlined values", () => {
  it("short values are inlined as compact JSON", () => {
    expect(inlineValue([1, "a", { b: null }])).toBe('[1,"a",{"b":null}]');
    expect(inlineValue("x")).toBe('"x"');
    expect(inlineValue(undefined)).toBe("null");
  });

  it("long values are named by kind and size, with thousands grouped", () => {
    expect(inlineValue(Array.from({ length: 20_000 }, (_, i) => i))).toBe("a list of 20,000 items");
    expect(inlineValue("x".repeat(950_000))).toBe("a text of 950,000 characters");
    expect(inlineValue(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])))).toBe("an object of 300 keys");
    expect(inlineValue([1, 2, 3], 3)).toBe("a list of 3 items");
  });

  it("a param is shown whole up to PARAM_CHARS, else by its size", () => {
    const short = Array.from({ length: 5 }, (_, i) => `d${i}`);
    const long = Array.from({ length: 20_000 }, (_, i) => `d${i}`);
    const engine = createRuleEngine({ params: { short, long } });
    expect(engine.describe({ in: [{ var: "data.d" }, { var: "channel.params.short" }] })).toBe(`data.d is in channel.params.short (= ${JSON.stringify(short)})`);
    expect(engine.describe({ in: [{ var: "data.d" }, { var: "channel.params.long" }] })).toBe("data.d is in channel.params.long (a list of 20,000 items)");
    expect(JSON.stringify(short).length).toBeLessThanOrEqual(PARAM_CHARS);
  });

  it("inlining a 1,000,000-item list reads only the items it could show", () => {
    let reads = 0;
    const items = new Proxy(Array.from({ length: 1_000_000 }, () => 7), {
      get(target, key, receiver) {
        if (typeof key === "string" && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    }) as Json;
    expect(inlineValue(items)).toBe("a list of 1,000,000 items");
    expect(reads).toBeLessThanOrEqual(LITERAL_CHARS);
  });
});
