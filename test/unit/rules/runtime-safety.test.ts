import { describe, it, expect, afterEach } from "vitest";
import jsonLogic from "json-logic-js";
import { LogicEngine } from "json-logic-engine";
import type { Json } from "../../../runtime/core/canonical.js";
import { StatecellError } from "../../../runtime/core/errors.js";
import { createRuleEngine } from "../../../runtime/rules/index.js";
import { ctxWith } from "./context.js";

const rules = createRuleEngine();
const evalWith = (expr: Json, data: Json): Json => rules.compile(expr)(ctxWith(data));

/** Hostile inputs arrive as JSON text; JSON.parse makes "__proto__" an own key. */
const hostile = (): Json =>
  JSON.parse(
    '{"__proto__": {"polluted": "yes", "isAdmin": true}, "constructor": {"prototype": {"polluted": "yes"}}, "a": {"__proto__": {"polluted": "yes"}}, "list": [{"__proto__": {"polluted": "yes"}}], "flat": [{"__proto__": "yes", "polluted": 1}]}',
  ) as Json;

function prototypesClean(): void {
  const probe: Record<string, unknown> = {};
  expect(probe.polluted).toBeUndefined();
  expect(probe.isAdmin).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty("polluted");
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
}

afterEach(prototypesClean);

describe("prototype pollution payloads", () => {
  it.each<[string, Json]>([
    ["returning the whole input", { var: "data" }],
    ["returning a nested __proto__ holder", { var: "data.a" }],
    ["mapping over hostile items", { map: [{ var: "data.list" }, { var: "" }] }],
    ["filtering hostile items", { filter: [{ var: "data.list" }, true] }],
    ["merging hostile items", { merge: [{ var: "data.list" }, { var: "data.list" }] }],
    ["reducing into an object", { reduce: [{ var: "data.flat" }, { var: "current" }, {}] }],
    ["keys of the input", { keys: [{ var: "data" }] }],
    ["cat of the input", { cat: [{ var: "data" }] }],
    ["preserve of a __proto__ literal", { preserve: JSON.parse('{"__proto__": {"polluted": "yes"}}') as Json }],
    ["if returning the input", { if: [true, { var: "data" }, null] }],
  ])("%s leaves Object.prototype untouched and keeps __proto__ as an own key", (_name, expr) => {
    const out = evalWith(expr, hostile());
    prototypesClean();
    // Results are fresh plain objects: a __proto__ key stays data, never a prototype.
    const walk = (v: unknown): void => {
      if (v === null || typeof v !== "object") return;
      if (!Array.isArray(v)) expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      for (const x of Object.values(v as object)) walk(x);
    };
    walk(out);
  });

  it("a returned object is a copy: writing to it cannot reach the input or the compiled literal", () => {
    const data = { a: { b: 1 } } as Json;
    const out = evalWith({ var: "data.a" }, data) as { b: number };
    out.b = 2;
    expect(data).toEqual({ a: { b: 1 } });
    const lit = rules.compile({ preserve: { k: [1] } });
    const first = lit(ctxWith(null)) as { k: number[] };
    first.k.push(2);
    expect(lit(ctxWith(null))).toEqual({ k: [1] });
  });

  it("the own __proto__ key round-trips as data", () => {
    const out = evalWith({ var: "data" }, hostile()) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(["__proto__", "constructor", "a", "list", "flat"]);
    expect(Object.getOwnPropertyDescriptor(out, "__proto__")?.value).toEqual({ polluted: "yes", isAdmin: true });
  });
});

describe("forbidden paths at run time", () => {
  it.each(["__proto__", "constructor", "prototype"])("a computed path reaching %s is refused with RULES_RUNTIME", (seg) => {
    const f = rules.compile({ var: { cat: ["data.", { var: "data.k" }] } });
    expect(f(ctxWith({ k: "x", x: 1 }))).toBe(1);
    try {
      f(ctxWith({ k: seg }));
      expect.unreachable();
    } catch (e: unknown) {
      expect(e).toBeInstanceOf(StatecellError);
      expect((e as StatecellError).code).toBe("RULES_RUNTIME");
      expect((e as StatecellError).message).toContain(seg);
    }
  });

  it("computed missing paths are checked too", () => {
    const f = rules.compile({ missing: [{ cat: ["data.", { var: "data.k" }] }] });
    expect(f(ctxWith({ k: "x" }))).toEqual(["data.x"]);
    expect(() => f(ctxWith({ k: "constructor" }))).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
  });

  it("inherited properties are never read: Object.prototype members and array methods are missing", () => {
    for (const path of ["data.toString", "data.hasOwnProperty", "data.valueOf", "data.xs.map", "data.s.toUpperCase", "data.n.toFixed"]) {
      expect(evalWith({ var: [path, "absent"] }, { xs: [1], s: "t", n: 1 })).toBe("absent");
      expect(evalWith({ var: { cat: [path] } }, { xs: [1], s: "t", n: 1 })).toBeNull();
    }
    expect(evalWith({ map: [{ var: "data.xs" }, { var: "toString" }] }, { xs: [{}, "s", 1] })).toEqual([null, null, null]);
    expect(evalWith({ map: [{ var: "data.xs" }, { var: "length" }] }, { xs: ["abc", [1], {}] })).toEqual([3, 1, null]);
    // Own properties of strings and lists are data: indices and length.
    expect(evalWith({ var: "data.s.length" }, { s: "abc" })).toBe(3);
    expect(evalWith({ var: "data.xs.1" }, { xs: [5, 6] })).toBe(6);
  });

  it("even a polluted Object.prototype is not visible through var", () => {
    const proto = Object.prototype as unknown as Record<string, unknown>;
    proto.leaked = "secret";
    try {
      expect(evalWith({ var: "data.leaked" }, {})).toBeNull();
      expect(evalWith({ var: { cat: ["data.", "leaked"] } }, {})).toBeNull();
      expect(evalWith({ missing: ["data.leaked"] }, {})).toEqual(["data.leaked"]);
      // On iterator items (data, not statecell's context) the first step is checked too.
      expect(evalWith({ map: [{ var: "data.xs" }, { var: "leaked" }] }, { xs: [{}, { leaked: 1 }] })).toEqual([null, 1]);
      expect(evalWith({ map: [{ var: "data.xs" }, { var: ["leaked", "d"] }] }, { xs: [{}] })).toEqual(["d"]);
    } finally {
      delete proto.leaked;
    }
  });
});

describe("hostile data", () => {
  it("keys that shadow what the library reads (constructor, length, includes) do not break truthiness or in", () => {
    const data = JSON.parse('{"o": {"constructor": null, "length": 0, "includes": "x", "map": 1}}') as Json;
    expect(rules.compileRule({ var: "data.o" })(ctxWith(data))).toBe(true);
    expect(evalWith({ in: [1, { var: "data.o" }] }, data)).toBe(false);
    expect(evalWith({ "!!": [{ var: "data.o" }] }, data)).toBe(true);
    expect(() => evalWith({ map: [{ var: "data.o" }, 1] }, data)).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
  });

  it("deeply nested data is read without recursion, and deep results are refused, not overflowed", () => {
    let deep: Json = "bottom";
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const path = "data." + Array.from({ length: 1000 }, () => "d").join(".");
    expect(rules.compile({ "!!": { var: path } })(ctxWith(deep))).toBe(true);
    expect(() => evalWith({ var: "data" }, deep)).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
    expect(() => evalWith({ cat: [{ var: "data" }] }, deep)).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
  });

  it("huge lists are handled, and doubling accumulators hit the size caps instead of exhausting memory", () => {
    const xs = Array.from({ length: 200_000 }, (_, i) => i);
    expect(evalWith({ reduce: [{ var: "data.xs" }, { "+": [{ var: "current" }, { var: "accumulator" }] }, 0] }, { xs })).toBe(
      (199_999 * 200_000) / 2,
    );
    const doubling: Json = { reduce: [{ var: "data.xs" }, { merge: [{ var: "accumulator" }, { var: "accumulator" }] }, [1]] };
    expect(() => evalWith(doubling, { xs: xs.slice(0, 40) })).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
    const catDoubling: Json = { reduce: [{ var: "data.xs" }, { cat: [{ var: "accumulator" }, { var: "accumulator" }] }, "ab"] };
    expect(() => evalWith(catDoubling, { xs: xs.slice(0, 40) })).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
  });

  it("a deterministic work budget stops quadratic work (1,000,000 visits per evaluation)", () => {
    // Nested iteration over lists held by the items: 1,001 + 1,001 x 1,000 visits.
    const row = Array.from({ length: 1_000 }, (_, i) => i);
    const nested = rules.compile({ map: [{ var: "data.rows" }, { map: [{ var: "" }, 0] }] });
    expect((nested(ctxWith({ rows: Array.from({ length: 900 }, () => row) })) as Json[]).length).toBe(900);
    expect(() => nested(ctxWith({ rows: Array.from({ length: 1_001 }, () => row) }))).toThrow(
      expect.objectContaining({ code: "RULES_RUNTIME", message: expect.stringContaining("1,000,000") }),
    );
    // A reduce that re-merges its accumulator copies 1 + 2 + ... + n items.
    const xs = Array.from({ length: 2_000 }, (_, i) => i);
    const growing = rules.compile({ reduce: [{ var: "data.xs" }, { merge: [{ var: "accumulator" }, [{ var: "current" }]] }, []] });
    expect((growing(ctxWith({ xs: xs.slice(0, 1_000) })) as Json[]).length).toBe(1_000);
    expect(() => growing(ctxWith({ xs }))).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
    // The same with text: cat charges one visit per 64 characters it builds.
    const text = rules.compile({ reduce: [{ var: "data.xs" }, { cat: [{ var: "accumulator" }, "0123456789abcdef"] }, ""] });
    expect(() => text(ctxWith({ xs: Array.from({ length: 60_000 }, () => 0) }))).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
    // `in` over a literal list, once per item.
    const lit = Array.from({ length: 1_000 }, (_, i) => -i - 1);
    const scan = rules.compile({ filter: [{ var: "data.xs" }, { in: [{ var: "" }, { preserve: lit }] }] });
    expect(scan(ctxWith({ xs: xs.slice(0, 900) }))).toEqual([]);
    expect(() => scan(ctxWith({ xs: xs.slice(0, 1_100) }))).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
    // `keys` of a huge object.
    const keys = rules.compile({ keys: [{ var: "data.o" }] });
    const o = Object.fromEntries(Array.from({ length: 1_000_001 }, (_, i) => [`k${i}`, i]));
    expect(() => keys(ctxWith({ o }))).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
    // The budget is per evaluation: the next one starts from zero.
    const one = rules.compile({ map: [{ var: "data.xs" }, 1] });
    for (let i = 0; i < 600; i++) expect((one(ctxWith({ xs })) as Json[]).length).toBe(2_000);
  });

  it("the internal work operator cannot be written by authors", () => {
    expect(rules.operators).not.toContain("statecell:work");
    expect(rules.check({ "statecell:work": [[1]] }).map((p) => p.code)).toEqual(["RULES_UNKNOWN_OPERATOR"]);
  });

  it("a reduce accumulator may not hold nested values (json-logic-engine's depth guard)", () => {
    const nest: Json = { reduce: [{ var: "data.xs" }, { merge: [[{ var: "accumulator" }]] }, []] };
    expect(() => evalWith(nest, { xs: [1, 2, 3] })).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
  });
});

describe("results are JSON values", () => {
  it("missing values are null, never undefined", () => {
    expect(evalWith({ var: "data.nope" }, {})).toBeNull();
    expect(evalWith({ var: "data.a.b.c" }, { a: null })).toBeNull();
    expect(evalWith({ map: [{ var: "data.xs" }, { var: "q" }] }, { xs: [{}, { q: 1 }] })).toEqual([null, 1]);
    expect(evalWith({ if: [false, 1] }, {})).toBeNull();
    expect(evalWith({ var: "signer" }, {})).toBeNull();
  });

  it("a present null is returned as null; the default applies only to a missing value (json-logic-js semantics)", () => {
    expect(evalWith({ var: ["data.x", 5] }, { x: null })).toBeNull();
    expect(evalWith({ var: ["data.y", 5] }, { x: null })).toBe(5);
  });

  it.each<[string, Json, Json]>([
    ["overflow to Infinity", { "*": [{ var: "data.x" }, 1e308, 10] }, { x: 10 }],
    ["division by zero at run time", { "/": [1, { var: "data.x" }] }, { x: 0 }],
    ["arithmetic on text", { "+": [{ var: "data.x" }, 1] }, { x: "abc" }],
    ["ordering an object", { "<": [{ var: "data.x" }, 1] }, { x: { a: 1 } }],
    ["substr of a list", { substr: [{ var: "data.x" }, 1] }, { x: [1] }],
    ["max of text", { max: [{ var: "data.x" }, 1] }, { x: "a" }],
    ["an iterator over text", { map: [{ var: "data.x" }, 1] }, { x: "abc" }],
  ])("a fault (%s) is RULES_RUNTIME with a message and a remedy", (_name, expr, data) => {
    try {
      evalWith(expr, data);
      expect.unreachable();
    } catch (e: unknown) {
      expect(e).toBeInstanceOf(StatecellError);
      const err = e as StatecellError;
      expect(err.code).toBe("RULES_RUNTIME");
      expect(err.message.length).toBeGreaterThan(10);
      expect(err.remedy?.length).toBeGreaterThan(10);
    }
  });

  it("compileRule faults the same way and otherwise returns booleans with json-logic truthiness", () => {
    const r = (e: Json, d: Json): boolean => rules.compileRule(e)(ctxWith(d));
    expect(r({ var: "data.x" }, { x: {} })).toBe(true); // json-logic-js: {} is truthy (json-logic-engine alone says false)
    expect(r({ var: "data.x" }, { x: [] })).toBe(false);
    expect(r({ var: "data.x" }, { x: "0" })).toBe(true);
    expect(r({ var: "data.x" }, { x: 0 })).toBe(false);
    expect(r({ var: "data.x" }, { x: "" })).toBe(false);
    expect(() => r({ "*": [{ var: "data.x" }, 1e308] }, { x: 10 })).toThrow(expect.objectContaining({ code: "RULES_RUNTIME" }));
  });
});

describe("isolation", () => {
  it("custom operators live on the channel's engine only", () => {
    createRuleEngine();
    expect(() => jsonLogic.apply({ startsWith: ["ab", "a"] }, {})).toThrow(/Unrecognized operation/);
    expect(() => jsonLogic.apply({ isoDate: [0] }, {})).toThrow(/Unrecognized operation/);
    const plain = new LogicEngine();
    expect(() => plain.run({ startsWith: ["ab", "a"] })).toThrow();
    expect(plain.run({ keys: [{ preserve: { b: 1, a: 2 } }] })).toEqual(["b", "a"]); // the library's own keys is unsorted
    expect(plain.methods.log === undefined || typeof plain.methods.log === "function").toBe(true);
    expect(plain.methods.val).toBeDefined(); // we removed it from our instance, not from the library
  });

  it("two engines share no state: evaluation in one does not change the other", () => {
    const a = createRuleEngine();
    const b = createRuleEngine();
    const fa = a.compile({ isoDate: [] });
    const fb = b.compile({ isoDate: [] });
    expect(fa(ctxWith(null, { block: { height: 1, time: 0, hash: "" } }))).toBe("1970-01-01");
    expect(fb(ctxWith(null))).toBe("2023-11-14");
  });

  it("compiles deep-frozen expressions and does not depend on the caller's copy afterwards", () => {
    const expr = { if: [{ "<=": [{ var: "data.x" }, 3] }, { preserve: { ok: true } }, "no"] };
    const frozen = deepFreeze(structuredClone(expr)) as Json;
    const f = rules.compile(frozen);
    expect(f(ctxWith({ x: 1 }))).toEqual({ ok: true });
    const mutable = structuredClone(expr) as { if: [unknown, { preserve: { ok: boolean } }, string] };
    const g = rules.compile(mutable as unknown as Json);
    mutable.if[1].preserve.ok = false;
    mutable.if[2] = "changed";
    expect(g(ctxWith({ x: 1 }))).toEqual({ ok: true });
    expect(g(ctxWith({ x: 9 }))).toBe("no");
  });
});

function deepFreeze(v: unknown): unknown {
  if (v !== null && typeof v === "object") {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
