/**
 * Hostile computed paths: placeholder values chosen by the sender (data) must
 * never reach a prototype, fault a read, be converted by calling into them, or
 * cost more than one lookup; hostile path text must cost its length, not its
 * square, and give short messages.
 */
import { describe, it, expect, afterEach } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { MAX_PLACEHOLDERS, createRuleEngine, parseComputedPath } from "../../../runtime/rules/index.js";
import { ctxWith } from "./context.js";

const rules = createRuleEngine();

afterEach(() => {
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

describe("hostile placeholder values", () => {
  it("a placeholder naming __proto__ reads null even where __proto__ is an own key of the state", () => {
    const state = JSON.parse('{"x": {"__proto__": {"polluted": "yes"}, "constructor": 1, "prototype": 2}}') as Json;
    for (const k of ["__proto__", "constructor", "prototype"]) {
      expect(rules.compile({ var: "state.x.{data.k}" })(ctxWith({ k }, { state }))).toBeNull();
      expect(rules.compile({ var: "state.x.{data.k}.polluted" })(ctxWith({ k }, { state }))).toBeNull();
    }
    expect(rules.compile({ var: "state.x.{data.k}" })(ctxWith({ k: "prototype2" }, { state: { x: { prototype2: 3 } } }))).toBe(3);
  });

  it("placeholders naming Object.prototype's members read null: own properties only", () => {
    const f = rules.compile({ var: "state.x.{data.k}" });
    for (const k of ["toString", "hasOwnProperty", "valueOf", "__defineGetter__", "isPrototypeOf", "toLocaleString"]) {
      expect(f(ctxWith({ k }, { state: { x: {} } }))).toBeNull();
      expect(f(ctxWith({ k }, { state: { x: [] } }))).toBeNull();
      expect(f(ctxWith({ k }, { state: { x: { [k]: 5 } } }))).toBe(5); // an own key of that name is data, and readable
    }
  });

  it("a placeholder holding a list or an object is never walked, converted or called: no property of it is read", () => {
    let reads = 0;
    const trap = (target: object): object =>
      new Proxy(target, {
        get: (t, p, r) => {
          reads++;
          return Reflect.get(t, p, r) as unknown;
        },
        has: () => {
          reads++;
          return false;
        },
        getOwnPropertyDescriptor: (t, p) => {
          reads++;
          return Reflect.getOwnPropertyDescriptor(t, p);
        },
      });
    const big = trap(Array.from({ length: 100_000 }, (_, i) => i));
    const sneaky = trap({ toString: () => "a", valueOf: () => 1 });
    const f = rules.compile({ var: ["state.x.{data.k}", "none"] });
    for (const k of [big, sneaky]) {
      expect(f(ctxWith({ k } as unknown as Json, { state: { x: { a: 1, "1": 2, "0,1,2": 3 } } }))).toBe("none");
    }
    expect(reads).toBe(0);
    expect(f(ctxWith({ k: "0,1,2" }, { state: { x: { a: 1, "1": 2, "0,1,2": 3 } } }))).toBe(3);
  });

  it("a 100,000-character placeholder value with 50,000 dots is one segment: 1,000 reads in under 2 s", () => {
    const k = "a.".repeat(50_000);
    const state = { seen: { [k]: true } };
    const f = rules.compile({ var: "state.seen.{data.k}" });
    const ctx = ctxWith({ k }, { state });
    const near = ctxWith({ k: k.slice(1) }, { state });
    const t0 = performance.now();
    for (let i = 0; i < 1_000; i++) {
      expect(f(ctx)).toBe(true);
      expect(f(near)).toBeNull();
    }
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it("a placeholder value with lone surrogates or braces is read as it is, never parsed", () => {
    const f = rules.compile({ var: "state.x.{data.k}" });
    for (const k of ["\ud800", "{data.secret}", "a}.{b", "{{", "😀.\udfff"]) {
      expect(f(ctxWith({ k, secret: "s" }, { state: { x: { [k]: k.length } } }))).toBe(k.length);
    }
    expect(f(ctxWith({ k: "{data.secret}", secret: "s" }, { state: { x: { s: "leak" } } }))).toBeNull();
  });
});

describe("hostile path text", () => {
  it("a 3,000-character malformed computed path gets a message under 600 characters", () => {
    const path = `state.${"x".repeat(3_000)}{data.k}`;
    const ps = rules.check({ var: path });
    expect(ps.map((p) => p.code)).toEqual(["RULES_BAD_PATH"]);
    expect(ps[0].message.length).toBeLessThan(600);
    const parsed = parseComputedPath(`${"a.".repeat(1_500)}{`);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message.length).toBeLessThan(600);
  });

  it(`a path of ${MAX_PLACEHOLDERS + 1} placeholders is refused at load; one of ${MAX_PLACEHOLDERS} compiles and reads`, () => {
    const many = (n: number): string => `state.${Array.from({ length: n }, () => "{data.k}").join(".")}`;
    expect(rules.check({ var: many(MAX_PLACEHOLDERS + 1) }).map((p) => p.code)).toEqual(["RULES_BAD_PATH"]);
    const huge = many(70_000);
    const t0 = performance.now();
    expect(rules.check({ var: huge }).map((p) => p.code)).toEqual(["RULES_BAD_PATH"]);
    expect(performance.now() - t0).toBeLessThan(2_000);
    let state: Json = "end";
    for (let i = 0; i < MAX_PLACEHOLDERS; i++) state = { "k.k": state };
    expect(rules.compile({ var: many(MAX_PLACEHOLDERS) })(ctxWith({ k: "k.k" }, { state }))).toBe("end");
  });

  it("a template of 200,000 unclosed braces is checked in under 2 s (one pass, not one scan per brace)", () => {
    const text = "{ ".repeat(200_000);
    const t0 = performance.now();
    const ps = rules.checkTemplate(text);
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(ps.length).toBe(200_000);
    expect(ps.every((p) => p.code === "RULES_BAD_TEMPLATE")).toBe(true);
  });

  it("a template of 20,000 nested computed placeholders is refused in under 2 s", () => {
    const text = `${"{state.".repeat(20_000)}x${"}".repeat(20_000)}`;
    const t0 = performance.now();
    const ps = rules.checkTemplate(text);
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(ps.map((p) => p.code)).toEqual(["RULES_BAD_TEMPLATE"]);
    expect(ps[0].message.length).toBeLessThan(1_000);
  });
});
