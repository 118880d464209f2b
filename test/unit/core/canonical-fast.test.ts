/**
 * The one-walk canonical encoder (canonicalString) against the checked path
 * it replaced (assertJson, then the `canonicalize` package): the same text
 * for every value the checked path encodes, and the same error for every
 * value it refuses. What validators hash goes through here, so a difference
 * would be a fork between nodes of two versions.
 */
import { describe, expect, it } from "vitest";
import { canonicalString, checkedCanonicalString } from "../../../runtime/core/canonical.js";

/** A small seeded PRNG (mulberry32), so a failure names a reproducible seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = ["a", "Z", "0", " ", '"', "\\", "/", "\n", "\t", "\u0000", "\u001f", "\u007f", "é", "\u2028", "\u2029", "€", "\ud83d\ude00", "\ud800", "\udc00", "\uffff", "_", "-"];
const NUMBERS = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 123456789012345680000, 5e-324, 1.7976931348623157e308, -2.5e-10, 333333333.3333333, 9007199254740993, 1 / 3];

function text(r: () => number): string {
  let s = "";
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) s += CHARS[Math.floor(r() * CHARS.length)];
  return s;
}

function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 4 ? 5 : 8));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return r() < 0.5 ? NUMBERS[Math.floor(r() * NUMBERS.length)] : (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
    case 3:
    case 4:
      return text(r);
    case 5:
    case 6: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) o[text(r)] = value(r, depth + 1);
      return o;
    }
    default: {
      const n = Math.floor(r() * 5);
      return Array.from({ length: n }, () => value(r, depth + 1));
    }
  }
}

function outcome(f: () => string): { text: string } | { error: string } {
  try {
    return { text: f() };
  } catch (e) {
    return { error: `${(e as { code?: string }).code ?? ""} ${(e as Error).message}` };
  }
}

describe("canonicalString (one walk) equals the checked path", () => {
  it("on 20,000 random JSON values, lone surrogates and odd numbers included", () => {
    const r = prng(8785);
    let encoded = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const v = value(r, 0);
      const want = outcome(() => checkedCanonicalString(v));
      expect(outcome(() => canonicalString(v)), `value ${i}`).toEqual(want);
      if ("text" in want) encoded++;
      else refused++;
    }
    // Both kinds were exercised: values it encodes and values with a lone surrogate it refuses.
    expect(encoded).toBeGreaterThan(5_000);
    expect(refused).toBeGreaterThan(500);
  });

  it("refuses what JSON cannot carry with the checked path's error, first problem first", () => {
    class Point {
      x = 1;
    }
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    const cases: unknown[] = [NaN, Infinity, { a: undefined }, [1, undefined], [, 1], new Point(), new Date(0), cyclic, deep, { f: () => 1 }, { s: Symbol("x") }, 10n, { lone: "\ud800", n: NaN }, { "\udc00": 1 }];
    for (const v of cases) {
      const want = outcome(() => checkedCanonicalString(v));
      expect("error" in want).toBe(true);
      expect(outcome(() => canonicalString(v))).toEqual(want);
    }
  });

  it("sorts keys by UTF-16 code units and writes numbers as ECMAScript does", () => {
    expect(canonicalString({ b: 1, a: [1e21, 1e-7, -0, 0.1], "\u20ac": true, "\ud83d\ude00": null, A: "x" })).toBe('{"A":"x","a":[1e+21,1e-7,0,0.1],"b":1,"\u20ac":true,"\ud83d\ude00":null}');
    expect(canonicalString(Object.assign(Object.create(null) as object, { z: 1, y: [] }))).toBe('{"y":[],"z":1}');
  });
});
