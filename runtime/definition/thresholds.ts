/**
 * Thresholds as written (`3`, `"2/3"`, `"all"`) resolved against a group's
 * size. q of n is safe only when 3q > 2n (two quorums then share more than
 * the n - q validators that may be faulty; README.md "Channel, groups and
 * thresholds"), compared in integers, never floats.
 */
import type { ThresholdPlan } from "./plan.js";

export type ThresholdResult =
  | { ok: true; plan: ThresholdPlan }
  | { ok: false; code: "DEFINITION_UNSAFE_THRESHOLD" | "DEFINITION_THRESHOLD_TOO_HIGH" | "DEFINITION_BAD_VALUE"; message: string; remedy: string; quorum?: number };

/** Smallest safe quorum of a group of n: floor(2n/3) + 1, i.e. "2/3". */
export function minimumSafeQuorum(n: number): number {
  return Math.floor((2 * n) / 3) + 1;
}

/**
 * The quorum a written threshold stands for in a group of n. A fraction `a/b`
 * means strictly more than a/b of n: q = floor(a*n/b) + 1 ("2/3" of 4 is 3).
 * Returns undefined for text that is not a threshold.
 */
export function quorumOf(written: string | number, n: number): number | undefined {
  if (typeof written === "number") return Number.isInteger(written) ? written : undefined;
  if (written === "all") return n;
  const m = /^([1-9][0-9]*)\/([1-9][0-9]*)$/.exec(written);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return Math.floor((a * n) / b) + 1;
}

/** Resolves and checks a threshold; the failure says why in plain words. */
export function resolveThreshold(written: string | number, n: number): ThresholdResult {
  const q = quorumOf(written, n);
  const shown = typeof written === "number" ? String(written) : `"${written}"`;
  if (q === undefined || q < 1) {
    return { ok: false, code: "DEFINITION_BAD_VALUE", message: `threshold ${shown} is not a count, "all" or a fraction like "2/3"`, remedy: `write a count such as ${minimumSafeQuorum(n)}, "2/3" or "all"` };
  }
  if (q > n) {
    const why = typeof written === "number" ? "" : ` (${shown} of ${n} means more than ${n})`;
    return {
      ok: false,
      code: "DEFINITION_THRESHOLD_TOO_HIGH",
      quorum: q,
      message: `threshold ${shown} needs ${q} signatures${why}, but the group has only ${n} validator${n === 1 ? "" : "s"}`,
      remedy: `use at most ${n} (or "all"); ${minimumSafeQuorum(n)} is the smallest safe threshold for ${n}`,
    };
  }
  if (3 * q <= 2 * n) {
    const overlap = 2 * q - n;
    const asWritten = typeof written === "number" ? `${q} of ${n}` : `${shown} of ${n} is ${q}, and ${q} of ${n}`;
    const meet =
      overlap <= 0
        ? `two quorums of ${q} can be disjoint`
        : `two quorums of ${q} need share only 2q-n = ${overlap} validator${overlap === 1 ? "" : "s"}`;
    return {
      ok: false,
      code: "DEFINITION_UNSAFE_THRESHOLD",
      quorum: q,
      message:
        `threshold ${asWritten} is unsafe: ${meet}, while up to n-q = ${n - q} may be faulty, ` +
        `so two conflicting decisions could both be certified (safe needs 3q > 2n)`,
      remedy: unsafeRemedy(n),
    };
  }
  return {
    ok: true,
    plan: { written, quorum: q, size: n, safetyFaults: Math.max(0, 2 * q - n - 1), livenessFaults: n - q },
  };
}

/**
 * Two ways out of an unsafe threshold: the smallest safe quorum of the group
 * as it is, or one more validator and that size's smallest safe quorum. Each
 * is given with the faults it tolerates, because raising the quorum of a small
 * group costs liveness (2 of 3 becomes 3 of 3: no validator may be offline)
 * while adding a validator keeps some (3 of 4: one may).
 */
function unsafeRemedy(n: number): string {
  const tolerance = (q: number, size: number) => `${Math.max(0, 2 * q - size - 1)} Byzantine, ${size - q} offline`;
  const raised = minimumSafeQuorum(n);
  const grown = minimumSafeQuorum(n + 1);
  return (
    `use at least ${raised} of ${n} (or "2/3", which means strictly more than two thirds; it tolerates ${tolerance(raised, n)}), ` +
    `or add a validator and use ${grown} of ${n + 1} (${tolerance(grown, n + 1)})`
  );
}
