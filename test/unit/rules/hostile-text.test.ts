/**
 * Text operations count and cut on code points: no expression can turn
 * well-formed text into a lone surrogate, which canonical JSON refuses to
 * encode (the fault would surface later, far from the rule that caused it).
 */
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import type { Json } from "../../../runtime/core/canonical.js";
import { canonicalString } from "../../../runtime/core/canonical.js";
import { createRuleEngine } from "../../../runtime/rules/index.js";
import { ctxWith } from "./context.js";

const rules = createRuleEngine();
const run = (expr: Json, data: Json): Json => rules.compile(expr)(ctxWith(data));

/** True when `s` has a surrogate code unit that is not part of a pair. */
function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      else return true;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function noLoneSurrogate(v: Json): void {
  if (typeof v === "string") expect(hasLoneSurrogate(v)).toBe(false);
  else if (v !== null && typeof v === "object") for (const x of Object.values(v)) noLoneSurrogate(x);
  expect(() => canonicalString(v)).not.toThrow();
}

describe("text is cut on code points", () => {
  it("substr never cuts an emoji in half: the first character of 😀x is 😀", () => {
    expect(run({ substr: [{ var: "data.s" }, 0, 1] }, { s: "😀x" })).toBe("😀");
    expect(run({ substr: [{ var: "data.s" }, 1] }, { s: "😀x" })).toBe("x");
    expect(run({ substr: [{ var: "data.s" }, -1] }, { s: "x😀" })).toBe("😀");
    expect(run({ substr: [{ var: "data.s" }, 1, -1] }, { s: "a😀😀b" })).toBe("😀😀");
    expect(run({ substr: [{ var: "data.s" }, 0, -1] }, { s: "ab😀" })).toBe("ab");
    expect(run({ substr: [{ var: "data.s" }, 2, 2] }, { s: "👩‍👩x" })).toBe("👩x"); // ZWJ sequences are several code points
  });

  it("length counts code points: 😀 is 1, a flag is 2 (two regional indicators), é written as e + accent is 2", () => {
    expect(run({ length: { var: "data.s" } }, { s: "😀" })).toBe(1);
    expect(run({ length: { var: "data.s" } }, { s: "🇫🇷" })).toBe(2);
    expect(run({ length: { var: "data.s" } }, { s: "e\u0301" })).toBe(2);
    expect(run({ length: { var: "data.s" } }, { s: "" })).toBe(0);
  });

  it("a var path into text reads code points: data.s.length and data.s.0 of 😀x are 2 and 😀", () => {
    expect(run({ var: "data.s.length" }, { s: "😀x" })).toBe(2);
    expect(run({ var: "data.s.0" }, { s: "😀x" })).toBe("😀");
    expect(run({ var: "data.s.1" }, { s: "😀x" })).toBe("x");
    expect(run({ var: ["data.s.2", "none"] }, { s: "😀x" })).toBe("none");
    expect(run({ var: ["data.s.01", "none"] }, { s: "😀x" })).toBe("none");
    expect(run({ var: "data.s.0.length" }, { s: "😀x" })).toBe(1);
    expect(run({ map: [{ var: "data.xs" }, { var: "0" }] }, { xs: ["😀a", "b", ""] })).toEqual(["😀", "b", null]);
    expect(run({ var: { cat: ["data.s.", 0] } }, { s: "😀x" })).toBe("😀");
    expect(run({ missing: ["data.s.0", "data.s.5"] }, { s: "😀" })).toEqual(["data.s.5"]);
    // Lists keep their own length and indices.
    expect(run({ var: "data.xs.length" }, { xs: ["😀", 1] })).toBe(2);
    expect(run({ var: "data.xs.0" }, { xs: ["😀", 1] })).toBe("😀");
  });

  it("a template placeholder into text reads code points too", () => {
    expect(rules.compileTemplate("first {data.s.0}, {data.s.length} in all").render(ctxWith({ s: "😀x" }))).toBe("first 😀, 2 in all");
  });

  it("no substr, length or var path over well-formed text yields a lone surrogate (property, 2,000 cases)", () => {
    const text = fc.string({ unit: "grapheme", maxLength: 12 });
    const int = fc.integer({ min: -15, max: 15 });
    fc.assert(
      fc.property(text, int, fc.option(int, { nil: undefined }), fc.nat({ max: 14 }), (s, a, b, i) => {
        const sub: Json = { substr: b === undefined ? [{ var: "data.s" }, a] : [{ var: "data.s" }, a, b] };
        const out = run({ cat: [sub, "|", { var: `data.s.${i}` }, "|", { length: { var: "data.s" } }] }, { s });
        noLoneSurrogate(out);
        // The cut agrees with cutting the list of code points.
        const cps = Array.from(s);
        const from = a < 0 ? Math.max(cps.length + a, 0) : Math.min(a, cps.length);
        const rest = cps.slice(from);
        const expected = b === undefined ? rest : b < 0 ? rest.slice(0, Math.max(0, rest.length + b)) : rest.slice(0, b);
        expect(run(sub, { s })).toBe(expected.join(""));
        expect(run({ length: { var: "data.s" } }, { s })).toBe(cps.length);
      }),
      { numRuns: 2000, seed: 20261201 },
    );
  });

  it("substr of a number is text; a list or an object as start or length is a fault, never a call into the data's own toString", () => {
    expect(run({ substr: [{ var: "data.n" }, 1, 2] }, { n: 12345 })).toBe("23");
    expect(run({ substr: ["abcd", "1", "2"] }, null)).toBe("bc");
    const hostile = JSON.parse('{"o": {"toString": 1, "valueOf": 1}}') as Json;
    for (const args of [["abc", { var: "data.o" }], ["abc", 0, { var: "data.o" }], ["abc", [1]]] as Json[]) {
      expect(() => run({ substr: args }, hostile)).toThrow(expect.objectContaining({ code: "RULES_RUNTIME", message: expect.stringContaining("substr") }));
    }
  });

  it("code-point scans are charged to the work budget: length of 1 MiB text in a 20,000-item map stops at the budget", () => {
    const big = "😀".repeat(1 << 19); // 1 MiB of UTF-16
    expect(run({ length: { var: "data.s" } }, { s: big })).toBe(1 << 19);
    const scan = rules.compile({ map: [{ var: "data.xs" }, { length: { var: "" } }] });
    const xs = Array.from({ length: 20_000 }, () => big);
    const t0 = performance.now();
    expect(() => scan(ctxWith({ xs }))).toThrow(expect.objectContaining({ code: "RULES_RUNTIME", message: expect.stringContaining("1,000,000") }));
    // 62 items x 16,384 visits pass the budget; scanning all 20,000 would take seconds.
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});
