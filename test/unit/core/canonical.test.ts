import { describe, it, expect } from "vitest";
import { createHash } from "node:crypto";
import { canonicalString, canonicalBytes, assertJson } from "../../../runtime/core/canonical.js";
import { sha256Hex, hashJson } from "../../../runtime/core/hash.js";
import { StatecellError } from "../../../runtime/core/errors.js";

describe("canonical JSON (RFC 8785)", () => {
  it("sorts keys by UTF-16 code units and drops whitespace", () => {
    // RFC 8785 section 3.2.3: keys sorted by UTF-16 code units, not by code points.
    expect(canonicalString({ "\u20ac": 1, "\r": 2, "\ud83d\ude00": 3, "1": 4, b: { z: 1, a: [] } })).toBe(
      '{"\\r":2,"1":4,"b":{"a":[],"z":1},"€":1,"😀":3}',
    );
  });

  it("serialises numbers as ECMAScript does (RFC 8785 appendix B samples)", () => {
    expect(canonicalString([1e21, 1e-7, 0.1, -0, 333333333.3333333, 5e-324, 1.7976931348623157e308])).toBe(
      "[1e+21,1e-7,0.1,0,333333333.3333333,5e-324,1.7976931348623157e+308]",
    );
  });

  it("is independent of key insertion order", () => {
    expect(canonicalString({ a: 1, b: 2 })).toBe(canonicalString({ b: 2, a: 1 }));
  });

  it.each([
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["undefined", { a: undefined }],
    ["a function", { f: () => 1 }],
    ["a bigint", 1n],
    ["a Date", new Date(0)],
  ])("refuses %s with CORE_NOT_JSON", (_name, value) => {
    expect(() => canonicalString(value)).toThrowError(StatecellError);
    try {
      canonicalString(value);
    } catch (e) {
      expect((e as StatecellError).code).toBe("CORE_NOT_JSON");
    }
  });

  it("refuses cycles and overly deep values without overflowing the stack", () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => assertJson(a)).toThrow(/refers to itself/);
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(() => assertJson(deep)).toThrow(/deeper than/);
  });

  it("hashes agree with node:crypto and are domain-separated", () => {
    const bytes = canonicalBytes({ a: 1 });
    expect(sha256Hex(bytes)).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(hashJson("block", { a: 1 })).not.toBe(hashJson("vote", { a: 1 }));
    expect(hashJson("block", { a: 1 })).toBe(createHash("sha256").update('statecell:block:{"a":1}').digest("hex"));
  });
});
