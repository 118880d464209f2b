/** Lists of names in remedies stay short; counts are written without the engine's locale data. */
import { describe, expect, it } from "vitest";
import { formatCount, listSome } from "../../../runtime/definition/suggest.js";

describe("listSome", () => {
  it("lists a few names whole", () => {
    expect(listSome(["a", "b", "c"])).toBe("a, b, c");
    expect(listSome(new Set(["a", "b"]), { exclude: "a" })).toBe("b");
    expect(listSome(new Map([["x", 1]]))).toBe("x");
  });

  it("lists 12 of 10,000 names and counts the rest, without the excluded one", () => {
    const names = new Set(Array.from({ length: 10_000 }, (_, i) => `c${i}`));
    expect(listSome(names, { exclude: "c0" })).toBe("c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12 and 9,987 more");
  });

  it("cuts names over 64 characters", () => {
    expect(listSome(["x".repeat(3000)])).toBe(`${"x".repeat(63)}…`);
  });
});

describe("formatCount", () => {
  it("groups thousands", () => {
    expect([0, 7, 999, 1000, 20000, 1234567, -4500].map(formatCount)).toEqual(["0", "7", "999", "1,000", "20,000", "1,234,567", "-4,500"]);
  });
});
