/** "Did you mean": the bounded search gives the answers of an exact one, and its work is bounded. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { closest, editDistance, MAX_SUGGEST_CELLS, MAX_SUGGEST_LENGTH, suggestBudget, withinDistance } from "../../../runtime/core/suggest.js";

/** The search as it was: exact distances to every candidate. */
function reference(word: string, candidates: string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= limit ? best : undefined;
}

const word = fc.string({ unit: fc.constantFrom("a", "b", "c", "A", "-", "é"), maxLength: 14 });

describe("closest", () => {
  it("suggests what an exact search suggests", () => {
    fc.assert(
      fc.property(word, fc.array(word, { maxLength: 12 }), (w, cs) => {
        expect(closest(w, cs)).toBe(reference(w, cs));
      }),
      { numRuns: 3000 },
    );
  });

  it("withinDistance agrees with editDistance up to the bound", () => {
    fc.assert(
      fc.property(word, word, fc.integer({ min: 0, max: 4 }), (a, b, max) => {
        const d = editDistance(a, b);
        expect(withinDistance(a, b, max)).toBe(d <= max ? d : undefined);
      }),
      { numRuns: 3000 },
    );
  });

  it("keeps the suggestions of the language's typos", () => {
    expect(closest("grup", ["group", "accepts", "rules"])).toBe("group");
    expect(closest("maxdepth", ["maxDepth", "maxInputBytes"])).toBe("maxDepth");
    expect(closest("=<", ["<", "<=", "=="])).toBe("<");
    expect(closest("zzzzzz", ["group"])).toBeUndefined();
  });
});

describe("hostile suggestions", () => {
  it("a 3,000-character name gets no suggestion and costs no comparison", () => {
    const long = "g".repeat(3000);
    const budget = suggestBudget(1_000_000);
    expect(closest(long, [`${long}x`, long.slice(1)], budget)).toBeUndefined();
    expect(budget.cells).toBe(1_000_000);
  });

  it("3,000-character candidates are skipped, so a short word still finds its match", () => {
    const budget = suggestBudget(1_000_000);
    expect(closest("group", ["x".repeat(3000), "grop"], budget)).toBe("grop");
    expect(1_000_000 - budget.cells).toBeLessThan(100);
  });

  // Candidates of one length that differ only at the end: every comparison runs the whole band.
  const name = (i: number) => `c${"a".repeat(50)}${String(i).padStart(6, "0")}`;
  const far = `c${"a".repeat(50)}x99999`;

  it("one call computes at most MAX_SUGGEST_CELLS cells, and then suggests nothing", () => {
    const typo = `c${"a".repeat(50)}y99999`;
    const candidates = [...Array.from({ length: 3_000 }, (_, i) => name(i)), typo];
    expect(reference(far, candidates)).toBe(typo);
    const budget = suggestBudget(10 * MAX_SUGGEST_CELLS);
    expect(closest(far, candidates, budget)).toBeUndefined();
    const spent = 10 * MAX_SUGGEST_CELLS - budget.cells;
    expect(spent).toBeLessThanOrEqual(MAX_SUGGEST_CELLS);
    expect(spent).toBeGreaterThan(MAX_SUGGEST_CELLS / 2);
  });

  it("a shared budget stops suggestions once spent: 2,000 calls over 2,000 candidates cost at most the budget", () => {
    const candidates = Array.from({ length: 2_000 }, (_, i) => name(i));
    const budget = suggestBudget(300_000);
    const t = performance.now();
    for (let i = 0; i < 2_000; i++) expect(closest(far, candidates, budget)).toBeUndefined();
    expect(budget.cells).toBe(0);
    // Unbounded, 1,000 unknown references among 1,000 such cells took 28 s to load; bounded, this takes about 20 ms.
    expect(performance.now() - t).toBeLessThan(2_000);
  });

  it("names up to MAX_SUGGEST_LENGTH characters still get suggestions", () => {
    const n = "a".repeat(MAX_SUGGEST_LENGTH - 1);
    expect(closest(`${n}b`, [`${n}c`])).toBe(`${n}c`);
  });
});
