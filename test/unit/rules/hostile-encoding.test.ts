/**
 * Encoding lists and objects as text (`cat`, message placeholders) is bounded:
 * it stops as soon as the text passes its limit, counts against the work
 * budget, and stays RFC 8785 (identical to core/canonical) for what fits.
 *
 * Measured before: with 20,000 records in state, one `cat` of state.records
 * cost 120 ms per input, and a `{state.records}` placeholder made a 2.58 MB
 * message per rejection (200 rejections: 22 s, 1.07 GB).
 */
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import type { Json } from "../../../runtime/core/canonical.js";
import { canonicalString } from "../../../runtime/core/canonical.js";
import { createRuleEngine, type RuleContext } from "../../../runtime/rules/index.js";
import { encodeCanonical } from "../../../runtime/rules/encode.js";
import { MAX_MESSAGE_CHARS, MAX_PLACEHOLDER_CHARS } from "../../../runtime/rules/template.js";
import { ctxWith } from "./context.js";

const rules = createRuleEngine();

/** 20,000 records of ~120 characters each (2.36 MB as canonical JSON), behind a proxy that counts the records read. */
function countedRecords(n = 20_000): { records: Json; read: Set<string> } {
  const plain: Record<string, Json> = {};
  for (let i = 0; i < n; i++) {
    plain[`sensor-${String((i * 7919) % n).padStart(5, "0")}@1700000000`] = { sensor: `cen-${i}`, pm25: ((i * 7) % 600) + 0.5, pm10: i % 700, at: 1_700_000_000_000 + i, district: "cen", ok: true };
  }
  const read = new Set<string>();
  const records = new Proxy(plain, {
    get(t, k, r) {
      if (typeof k === "string") read.add(k);
      return Reflect.get(t, k, r) as unknown;
    },
  }) as Json;
  return { records, read };
}

const codePoints = (s: string): number => Array.from(s).length;

describe("encoding is RFC 8785, identical to core/canonical for what fits", () => {
  const json = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>;
  const unicode = fc.oneof(fc.string({ unit: "grapheme", maxLength: 6 }), fc.constantFrom("__proto__", "a\u0000b", "\u2028", "é", "e\u0301", "😀", "\u007f", '"\\'));
  const richJson: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(-0, 1e21, 1e-7, 5e-324, 0.1)),
      unicode,
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("v"), { maxLength: 4 }),
      fc.array(fc.tuple(unicode, tie("v")), { maxLength: 5 }).map((es) => JSON.parse(JSON.stringify(Object.fromEntries(es))) as Json),
    ),
  })).v;

  it("the whole encoding equals canonicalString (random values, 3,000 cases)", () => {
    fc.assert(
      fc.property(fc.oneof(json, richJson), (v) => {
        const r = encodeCanonical(v, { limit: 1 << 20, strict: true, what: "cat" });
        expect(r.complete).toBe(true);
        expect(r.text).toBe(canonicalString(v));
      }),
      { numRuns: 3000, seed: 1201 },
    );
  });

  it("under any limit, the text is canonicalString or a prefix of it (random values and limits, 3,000 cases)", () => {
    fc.assert(
      fc.property(fc.oneof(json, richJson), fc.nat({ max: 120 }), (v, limit) => {
        const full = canonicalString(v);
        const r = encodeCanonical(v, { limit, strict: false, what: "a template" });
        if (r.complete) expect(r.text).toBe(full);
        else {
          expect(full.startsWith(r.text)).toBe(true);
          expect(full.length).toBeGreaterThan(limit);
        }
      }),
      { numRuns: 3000, seed: 1202 },
    );
  });

  it("cat of lists and objects gives canonical text, with its own rules for the top level (null is nothing, text as is)", () => {
    const o = JSON.parse('{"b": [1, "x", {"z": null, "a": 1e21}], "__proto__": {"k": "😀"}, "a": -0}') as Json;
    expect(rules.compile({ cat: ["<", { var: "data" }, ">", null, 1.5] })(ctxWith(o))).toBe(`<${canonicalString(o)}>1.5`);
  });
});

describe("cat stops at its limit and pays for what it encodes", () => {
  it("cat of 20,000 records (2.36 MB) faults at 1 MiB after reading under half of them", () => {
    const { records, read } = countedRecords();
    const f = rules.compile({ cat: [{ var: "state.records" }] });
    expect(() => f(ctxWith(null, { state: { records } }))).toThrow(
      expect.objectContaining({ code: "RULES_RUNTIME", message: expect.stringContaining("1,048,576") }),
    );
    // 1 MiB holds ~8,900 of these records; encoding all of them first read 20,000.
    expect(read.size).toBeLessThan(9_500);
    expect(read.size).toBeGreaterThan(8_000);
  });

  it("an object with more keys than 1 MiB can hold is refused before any value is read", () => {
    const { records, read } = countedRecords(220_000); // 5 code units per entry at least: 1.1 MB
    expect(() => rules.compile({ cat: [{ var: "state.records" }] })(ctxWith(null, { state: { records } }))).toThrow(
      expect.objectContaining({ code: "RULES_RUNTIME" }),
    );
    expect(read.size).toBe(0);
  });

  it("a list longer than 1 MiB can hold is refused before any item is read", () => {
    const xs = new Proxy(new Array<Json>(600_000).fill(0), {
      get(t, k, r) {
        if (k !== "length" && typeof k === "string" && /^\d+$/.test(k)) throw new Error("an item was read");
        return Reflect.get(t, k, r) as unknown;
      },
    });
    expect(() => rules.compile({ cat: [{ var: "data.xs" }] })(ctxWith({ xs } as unknown as Json))).toThrow(
      expect.objectContaining({ code: "RULES_RUNTIME", message: expect.stringContaining("cat built text longer") }),
    );
  });

  it("cat's encoding counts against the work budget: 1,500 objects of 1,000 keys pass 1,000,000 visits", () => {
    const item = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`k${i}`, 0]));
    const f = rules.compile({ map: [{ var: "data.xs" }, { cat: [{ var: "" }] }] });
    expect((f(ctxWith({ xs: Array.from({ length: 400 }, () => item) })) as Json[]).length).toBe(400);
    expect(() => f(ctxWith({ xs: Array.from({ length: 1_500 }, () => item) }))).toThrow(
      expect.objectContaining({ code: "RULES_RUNTIME", message: expect.stringContaining("1,000,000") }),
    );
  });

  it("cat of a value nested 300 levels deep is refused like canonical JSON refuses it", () => {
    let deep: Json = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(() => rules.compile({ cat: [{ var: "data" }] })(ctxWith(deep))).toThrow(expect.objectContaining({ code: "RULES_RUNTIME", message: expect.stringContaining("256") }));
    let ok: Json = 1;
    for (let i = 0; i < 256; i++) ok = [ok];
    expect(rules.compile({ cat: [{ var: "data" }] })(ctxWith(ok))).toBe(canonicalString(ok));
  });
});

describe("message templates are capped and never throw", () => {
  it("a {state.records} placeholder over 20,000 records reads 5 records and renders 256 code points ending in …", () => {
    const { records, read } = countedRecords();
    const t = rules.compileTemplate("rejected; records are {state.records}");
    const out = t.render(ctxWith(null, { state: { records } }));
    expect(out.startsWith('rejected; records are {"sensor-00000@1700000000":{"at":1700000000000,')).toBe(true);
    expect(out.endsWith("…")).toBe(true);
    expect(codePoints(out)).toBe("rejected; records are ".length + MAX_PLACEHOLDER_CHARS);
    expect(read.size).toBeLessThanOrEqual(5); // ~120 code units each: 5 pass the 512 the encoder writes at most
  });

  it("200 rejection messages with {state.records} over 20,000 records take under 10 s and 300 KB in all (before: 27 s and 472 MB here)", () => {
    const records: Record<string, Json> = {};
    for (let i = 0; i < 20_000; i++) records[`sensor-${String((i * 7919) % 20_000).padStart(5, "0")}@1700000000`] = { sensor: `cen-${i}`, pm25: 1.5, at: i, district: "cen" };
    const t = rules.compileTemplate("PM2.5 of {data.pm25} over the limit; state {state.records}");
    const ctx = ctxWith({ pm25: 612 }, { state: { records } });
    const t0 = performance.now();
    let total = 0;
    for (let i = 0; i < 200; i++) total += t.render(ctx).length;
    // What remains is one pass over the 20,000 keys per message (~10 ms here); nothing is encoded past the cap.
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(total).toBeLessThan(300_000);
  });

  it("each placeholder is cut at 256 code points and the message at 1,024, between code points", () => {
    const emoji = "😀".repeat(1_000);
    const one = rules.compileTemplate("{data.s}").render(ctxWith({ s: emoji }));
    expect(one).toBe("😀".repeat(MAX_PLACEHOLDER_CHARS - 1) + "…");
    const many = rules.compileTemplate("{data.s}|".repeat(8)).render(ctxWith({ s: emoji }));
    expect(codePoints(many)).toBe(MAX_MESSAGE_CHARS);
    expect(many.endsWith("😀…")).toBe(true);
    expect(() => canonicalString(many)).not.toThrow();
    const literal = rules.compileTemplate("x".repeat(5_000) + " {data.s}").render(ctxWith({ s: "y" }));
    expect(literal).toBe("x".repeat(MAX_MESSAGE_CHARS - 1) + "…");
    // Values that fit render whole, as canonical JSON.
    expect(rules.compileTemplate("{data.o}").render(ctxWith({ o: { b: [1, 2], a: "😀" } }))).toBe('{"a":"😀","b":[1,2]}');
  });

  it("a 1 MB text placeholder reads only what it shows", () => {
    const big = "a".repeat(1 << 20);
    const t0 = performance.now();
    for (let i = 0; i < 1_000; i++) expect(rules.compileTemplate("{data.s}").render(ctxWith({ s: big })).length).toBe(MAX_PLACEHOLDER_CHARS);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it("render never throws: a state that throws when read, a lone surrogate, a missing context", () => {
    const t = rules.compileTemplate("a {state.x} b {data.s} c {state}");
    const throwing = new Proxy({}, {
      get() {
        throw new Error("boom");
      },
      ownKeys() {
        throw new Error("boom");
      },
    }) as Json;
    expect(t.render(ctxWith({ s: "ok" }, { state: throwing }))).toBe("a null b ok c null");
    const lone = t.render(ctxWith({ s: "x\ud800y" }, { state: { x: ["\udc00"] } }));
    expect(lone).toBe('a ["\\udc00"] b x\ufffdy c {"x":["\\udc00"]}');
    expect(() => canonicalString(lone)).not.toThrow();
    expect(t.render(null as unknown as RuleContext)).toBe("a null b null c null");
  });
});
