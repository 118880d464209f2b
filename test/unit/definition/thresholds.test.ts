import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { minimumSafeQuorum, quorumOf, resolveThreshold } from "../../../runtime/definition/index.js";

describe("thresholds", () => {
  it.each([
    [3, 4, 3, 1, 1],
    [4, 4, 4, 3, 0],
    [1, 1, 1, 0, 0],
    ["all", 4, 4, 3, 0],
    ["all", 1, 1, 0, 0],
    ["2/3", 4, 3, 1, 1],
    ["2/3", 3, 3, 2, 0],
    ["2/3", 6, 5, 3, 1],
    ["2/3", 7, 5, 2, 2],
    ["1/2", 4, 3, 1, 1],
    [5, 7, 5, 2, 2],
  ] as const)("%s of %i: quorum %i, tolerates %i Byzantine and %i offline", (written, n, q, safety, liveness) => {
    const r = resolveThreshold(written, n);
    expect(r).toEqual({ ok: true, plan: { written, quorum: q, size: n, safetyFaults: safety, livenessFaults: liveness } });
  });

  it("reads a fraction as strictly more than a/b of n", () => {
    expect(quorumOf("2/3", 3)).toBe(3);
    expect(quorumOf("2/3", 9)).toBe(7);
    expect(quorumOf("1/2", 10)).toBe(6);
    expect(quorumOf("3/4", 4)).toBe(4);
    expect(quorumOf("x", 4)).toBeUndefined();
  });

  it("refuses 2 of 4 and explains why", () => {
    const r = resolveThreshold(2, 4);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe("DEFINITION_UNSAFE_THRESHOLD");
    expect(r.message).toContain("two quorums of 2 can be disjoint");
    expect(r.message).toContain("n-q = 2");
    expect(r.remedy).toContain("at least 3 of 4");
  });

  it("refuses 2 of 3 (quorums share one validator, one may be faulty)", () => {
    const r = resolveThreshold(2, 3);
    expect(r.ok || r.code).toBe("DEFINITION_UNSAFE_THRESHOLD");
    if (!r.ok) expect(r.message).toContain("2q-n = 1 validator");
  });

  it("refuses thresholds above the group size, also as fractions", () => {
    expect(resolveThreshold(5, 4)).toMatchObject({ ok: false, code: "DEFINITION_THRESHOLD_TOO_HIGH", quorum: 5 });
    expect(resolveThreshold("1/1", 4)).toMatchObject({ ok: false, code: "DEFINITION_THRESHOLD_TOO_HIGH", quorum: 5 });
  });

  it("is safe exactly when 3q > 2n, for every q and n up to 200", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 }), (n, q) => {
        fc.pre(q <= n);
        const r = resolveThreshold(q, n);
        expect(r.ok).toBe(3 * q > 2 * n);
        if (r.ok) {
          expect(r.plan.safetyFaults).toBe(2 * q - n - 1);
          expect(r.plan.livenessFaults).toBe(n - q);
        }
      }),
    );
  });

  it('"2/3" is always the minimum safe quorum', () => {
    for (let n = 1; n <= 300; n++) {
      expect(quorumOf("2/3", n)).toBe(minimumSafeQuorum(n));
      expect(resolveThreshold(minimumSafeQuorum(n), n).ok).toBe(true);
      if (minimumSafeQuorum(n) > 1) expect(resolveThreshold(minimumSafeQuorum(n) - 1, n).ok).toBe(false);
    }
  });
});
