/**
 * Computed `var` paths: `{ var: "state.nfts.{data.collection}.{data.token}.owner" }`.
 * Each placeholder fills exactly one segment whatever it contains, so reading
 * agrees with writing (`set: seen.{data.name}`), which `cat` + a dotted path
 * does not: it splits the value on its dots.
 */
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import type { Json } from "../../../runtime/core/canonical.js";
import {
  FORBIDDEN_SEGMENTS,
  createRuleEngine,
  parseComputedPath,
  placeholderSegment,
  type RuleContext,
} from "../../../runtime/rules/index.js";
import { ctxWith } from "./context.js";

const rules = createRuleEngine({ params: { max: 500, limits: { pm: 5 } } });
const read = (path: string | [string, Json], data: Json, state: Json = {}): Json => rules.compile({ var: path })(ctxWith(data, { state }));

/**
 * A state-update writer with the loader's segment rules: the path parsed by
 * parseComputedPath, each placeholder's value turned into a segment by
 * placeholderSegment (undefined: the write is refused), missing objects created.
 */
function writeAt(state: Record<string, Json>, path: string, value: Json, ctx: RuleContext): boolean {
  const parsed = parseComputedPath(path);
  if (!parsed.ok) throw new Error(parsed.message);
  const segs: string[] = [];
  for (const part of parsed.parts) {
    if ("literal" in part) segs.push(part.literal);
    else {
      const seg = placeholderSegment(rules.compile({ var: part.placeholder })(ctx));
      if (seg === undefined) return false;
      segs.push(seg);
    }
  }
  let cur = state;
  for (let i = 0; i < segs.length - 1; i++) {
    const next = Object.prototype.hasOwnProperty.call(cur, segs[i]) ? cur[segs[i]] : undefined;
    if (next === undefined) {
      const fresh: Record<string, Json> = {};
      Object.defineProperty(cur, segs[i], { value: fresh, enumerable: true, writable: true, configurable: true });
      cur = fresh;
    } else cur = next as Record<string, Json>;
  }
  Object.defineProperty(cur, segs[segs.length - 1], { value, enumerable: true, writable: true, configurable: true });
  return true;
}

describe("computed paths: one placeholder, one segment", () => {
  it("a name seen before is caught even when it has a dot in it (the cat read splits it and passes the duplicate)", () => {
    // What `set: seen.{data.name}` wrote for the first input named "a.b".
    const state = {} as Record<string, Json>;
    expect(writeAt(state, "seen.{data.name}", true, ctxWith({ name: "a.b" }))).toBe(true);
    expect(state).toEqual({ seen: { "a.b": true } });
    const notSeen = rules.compileRule({ "==": [{ var: "state.seen.{data.name}" }, null] });
    const oldNotSeen = rules.compileRule({ "==": [{ var: { cat: ["state.seen.", { var: "data.name" }] } }, null] });
    const second = ctxWith({ name: "a.b" }, { state });
    expect(notSeen(second)).toBe(false); // the duplicate is refused
    expect(oldNotSeen(second)).toBe(true); // the defect this replaces: state.seen.a.b names nothing
    expect(notSeen(ctxWith({ name: "a" }, { state }))).toBe(true);
    expect(notSeen(ctxWith({ name: "a.b" }, { state: { seen: { a: { b: true } } } }))).toBe(true); // a.b is one key, not a then b
  });

  it("reads through several placeholders, in the middle of literal segments", () => {
    const state = { nfts: { "col.1": { "tok.9": { owner: "alice" } } } };
    expect(read("state.nfts.{data.collection}.{data.token}.owner", { collection: "col.1", token: "tok.9" }, state)).toBe("alice");
    expect(read("state.nfts.{data.collection}.{data.token}.owner", { collection: "col", token: "tok.9" }, state)).toBeNull();
  });

  it("a whole number fills a segment as its decimal text: an index into a list, a key of an object", () => {
    const state = { list: ["a", "b", "c"], byId: { "7": "seven", "0": "zero" } };
    expect(read("state.list.{data.i}", { i: 2 }, state)).toBe("c");
    expect(read("state.list.{data.i}", { i: "1" }, state)).toBe("b");
    expect(read("state.byId.{data.i}", { i: 7 }, state)).toBe("seven");
    expect(read("state.byId.{data.i}", { i: -0 }, state)).toBe("zero");
    expect(read("state.list.{data.i}", { i: 3 }, state)).toBeNull();
  });

  it.each<[string, Json]>([
    ["null", null],
    ["a missing value", undefined as unknown as Json],
    ["true", true],
    ["a list", ["a"]],
    ["an object", { a: 1 }],
    ["a fraction", 1.5],
    ["a negative number", -1],
    ["a number past 2^53 - 1", 1e21],
    ["empty text", ""],
    ["__proto__", "__proto__"],
    ["constructor", "constructor"],
    ["prototype", "prototype"],
  ])("a placeholder holding %s names nothing: null, or the default", (_name, k) => {
    const data: Json = k === undefined ? {} : { k };
    // Every one of these keys exists, so only the placeholder rule can make the read miss.
    const state = JSON.parse('{"x": {"null": 1, "true": 1, "1.5": 1, "-1": 1, "1e+21": 1, "": 1, "a": 1, "[object Object]": 1, "__proto__": 1, "constructor": 1, "prototype": 1, "undefined": 1}}') as Json;
    expect(read("state.x.{data.k}", data, state)).toBeNull();
    expect(read(["state.x.{data.k}", 0], data, state)).toBe(0);
    expect(() => read("state.x.{data.k}", data, state)).not.toThrow();
    expect(read("state.x.{data.k}", { k: "a" }, state)).toBe(1); // the same path reads a key a placeholder can name
    expect(read("state.x.{data.k}", { k: "null" }, state)).toBe(1);
  });

  it("a default applies when the path names nothing, not when it holds null", () => {
    const state = { counts: { "a.b": 3, z: null } };
    expect(read(["state.counts.{data.k}", 0], { k: "a.b" }, state)).toBe(3);
    expect(read(["state.counts.{data.k}", 0], { k: "q" }, state)).toBe(0);
    expect(read(["state.counts.{data.k}", 0], { k: "z" }, state)).toBeNull();
    expect(rules.compile({ var: ["state.counts.{data.k}", { var: "data.fallback" }] })(ctxWith({ k: "q", fallback: "f" }, { state }))).toBe("f");
    expect(rules.compile({ "+": [{ var: ["state.counts.{data.k}", 0] }, 1] })(ctxWith({ k: "a.b" }, { state }))).toBe(4);
  });

  it("a path into text reads code points, with a computed index too", () => {
    expect(read("data.s.{data.i}", { s: "😀é", i: 1 })).toBe("é");
    expect(read("state.names.{data.k}.length", { k: "a.b" }, { names: { "a.b": "😀😀" } })).toBe(2);
  });

  it("placeholders may have spaces around their path, and read in iterator scope against the item", () => {
    expect(read("state.x.{ data.k }", { k: "a" }, { x: { a: 1 } })).toBe(1);
    const f = rules.compile({ map: [{ var: "data.items" }, { var: ["{key}", "none"] }] });
    expect(f(ctxWith({ items: [{ key: "a", a: 1 }, { key: "b.c", "b.c": 2 }, { key: "q" }] }))).toEqual([1, 2, "none"]);
    const g = rules.compile({ reduce: [{ var: "data.ks" }, { "+": [{ var: "accumulator" }, { var: ["current.{current.k}", 0] }] }, 0] });
    expect(g(ctxWith({ ks: [{ k: "x.y", "x.y": 2 }, { k: "z" }] }))).toBe(2);
  });

  it("a computed read returns a copy, like every read", () => {
    const data = { k: "a.b" };
    const state = { x: { "a.b": { n: 1 } } };
    const out = read("state.x.{data.k}", data, state) as { n: number };
    out.n = 2;
    expect(state.x["a.b"].n).toBe(1);
  });

  it("one compiled path serves many contexts (no state kept between evaluations)", () => {
    const f = rules.compile({ var: ["state.x.{data.a}.{data.b}", "none"] });
    const state = { x: { p: { q: 1 }, "p.q": { r: 2 } } };
    expect(f(ctxWith({ a: "p", b: "q" }, { state }))).toBe(1);
    expect(f(ctxWith({ a: "p.q", b: "r" }, { state }))).toBe(2);
    expect(f(ctxWith({ a: null, b: "r" }, { state }))).toBe("none");
    expect(f(ctxWith({ a: "p", b: "q" }, { state }))).toBe(1);
  });

  it("a computed read does the work of a plain read plus its placeholders' reads (property accesses counted)", () => {
    let touches = 0;
    const counted = (v: Json): Json => {
      if (v === null || typeof v !== "object") return v;
      const inner = Array.isArray(v) ? v.map(counted) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, counted(x)]));
      return new Proxy(inner, {
        get: (t, p, r) => {
          touches++;
          return Reflect.get(t, p, r) as unknown;
        },
        getOwnPropertyDescriptor: (t, p) => {
          touches++;
          return Reflect.getOwnPropertyDescriptor(t, p);
        },
        has: (t, p) => {
          touches++;
          return Reflect.has(t, p);
        },
      }) as Json;
    };
    const cost = (expr: Json, data: Json, state: Json, expected: Json): number => {
      const f = rules.compile(expr);
      const ctx = ctxWith(counted(data), { state: counted(state) });
      touches = 0;
      expect(f(ctx)).toBe(expected);
      return touches;
    };
    const data = { c: "c.1", t: 7 };
    const computed = cost({ var: "state.nfts.{data.c}.{data.t}.owner" }, data, { nfts: { "c.1": { "7": { owner: "alice" } } } }, "alice");
    const plain = cost({ var: "state.nfts.c.7.owner" }, data, { nfts: { c: { "7": { owner: "alice" } } } }, "alice"); // the same depth
    const placeholders = cost({ var: "data.c" }, data, {}, "c.1") + cost({ var: "data.t" }, data, {}, 7);
    expect(computed).toBeGreaterThan(0);
    expect(computed).toBeLessThanOrEqual(plain + placeholders);
  });

  it("a path computed by an expression keeps splitting on dots; braces in it are plain text", () => {
    const f = rules.compile({ var: { cat: ["state.", { var: "data.k" }] } });
    expect(f(ctxWith({ k: "{data.x}" }, { state: { "{data": { "x}": 1 } } }))).toBe(1);
  });
});

describe("parseComputedPath: the one definition of a segment", () => {
  it.each<[string, Array<{ literal: string } | { placeholder: string }>]>([
    ["totals.{data.district}.count", [{ literal: "totals" }, { placeholder: "data.district" }, { literal: "count" }]],
    ["log", [{ literal: "log" }]],
    ["a.b", [{ literal: "a" }, { literal: "b" }]],
    ["{k}", [{ placeholder: "k" }]],
    ["a.{ data.x }", [{ literal: "a" }, { placeholder: "data.x" }]],
    ["a.{data.x}.{data.y}", [{ literal: "a" }, { placeholder: "data.x" }, { placeholder: "data.y" }]],
    ["é.😀", [{ literal: "é" }, { literal: "😀" }]],
  ])("%j", (text, parts) => {
    expect(parseComputedPath(text)).toEqual({ ok: true, parts });
  });

  it.each<[string, number, string]>([
    ["", 0, "empty segment"],
    ["a..b", 2, "empty segment"],
    ["a.", 2, "empty segment"],
    [".a", 0, "empty segment"],
    ["a.{}", 2, "empty placeholder"],
    ["a.{  }", 2, "empty placeholder"],
    ["a.{data.x", 2, "never closed"],
    ["a.data.x}", 8, 'a "}"'],
    ["a.{data.x}}", 10, 'a "}"'],
    ["a.{data.{x}}", 8, "do not nest"],
    ["a.b{data.x}", 2, "mixes text"],
    ["a.{data.x}b", 2, "mixes text"],
    ["a.{data.x}{data.y}", 2, "mixes text"],
  ])("%j is refused at code unit %d (%s)", (text, offset, what) => {
    const r = parseComputedPath(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.offset).toBe(offset);
    expect(r.message).toContain(what);
    expect(r.message).toContain(JSON.stringify(text));
  });

  it("placeholderSegment refuses every forbidden segment (the rules' own list)", () => {
    for (const s of FORBIDDEN_SEGMENTS) expect(placeholderSegment(s)).toBeUndefined();
    expect(placeholderSegment("a.b")).toBe("a.b");
    expect(placeholderSegment(12)).toBe("12");
    expect(placeholderSegment(Number.MAX_SAFE_INTEGER)).toBe("9007199254740991");
    expect(placeholderSegment(Number.MAX_SAFE_INTEGER + 1)).toBeUndefined();
  });
});

describe("computed paths: write with the loader's segment rules, read back with var", () => {
  // Text with dots, empty pieces, braces, forbidden names, digits and Unicode (pairs and lone surrogates).
  const piece = fc.constantFrom("", ".", "..", "a", "b", "0", "01", "7", " ", "{", "}", "{}", "é", "e\u0301", "😀", "\ud800", "__proto__", "constructor", "length", "null");
  const text = fc.oneof(fc.string({ unit: "binary", maxLength: 12 }), fc.array(piece, { maxLength: 6 }).map((xs) => xs.join("")));
  const value = fc.oneof(text, fc.nat(), fc.constant(null), fc.constant(-1), fc.constant(2.5));

  it("what a.{data.x}.{data.y} wrote, state.a.{data.x}.{data.y} reads; a refused write reads nothing", () => {
    const f = rules.compile({ var: "state.a.{data.x}.{data.y}" });
    fc.assert(
      fc.property(value, value, fc.oneof(fc.string(), fc.integer()), (x, y, v) => {
        const state: Record<string, Json> = {};
        const ctx = ctxWith({ x, y });
        const written = writeAt(state, "a.{data.x}.{data.y}", v, ctx);
        const got = f(ctxWith({ x, y }, { state }));
        if (written) expect(got).toBe(v);
        else expect(got).toBeNull();
        // Nothing else in the state is read by mistake: other texts miss.
        if (written && typeof x === "string") expect(f(ctxWith({ x: x + ".", y }, { state }))).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it("two different texts never read each other's value", () => {
    const f = rules.compile({ var: "state.seen.{data.k}" });
    fc.assert(
      fc.property(text, text, (a, b) => {
        fc.pre(a !== b);
        const state: Record<string, Json> = {};
        if (!writeAt(state, "seen.{data.k}", "A", ctxWith({ k: a }))) return;
        expect(f(ctxWith({ k: b }, { state }))).toBeNull();
        expect(f(ctxWith({ k: a }, { state }))).toBe("A");
      }),
      { numRuns: 2000 },
    );
  });
});
