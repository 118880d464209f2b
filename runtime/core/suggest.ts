/**
 * "Did you mean": edit distance and the closest candidate, shared by every
 * module that suggests a fix for a misspelt name (keys, references,
 * operators, roots, hook names).
 *
 * Suggestions run on text from strangers' files, so their cost is bounded:
 * only words and candidates of at most MAX_SUGGEST_LENGTH characters are
 * compared, a comparison computes only the diagonal band of the distance
 * table that can stay within the allowed distance (and stops as soon as no
 * cell of a row can), and one call computes at most MAX_SUGGEST_CELLS cells.
 * A caller that makes many calls (one per problem of a file) passes a shared
 * SuggestBudget as well. Before these bounds, 10 unknown references with
 * 3,000-character names against 10 such groups took 17 s (a full table of
 * 9 million cells per pair); now a 3,000-character name is not compared at all.
 */

/** Longest word (or candidate) a suggestion is computed for; the channel language's names are at most 63 characters. */
export const MAX_SUGGEST_LENGTH = 64;

/** Most distance-table cells (plus one per candidate looked at) one `closest` call may compute. */
export const MAX_SUGGEST_CELLS = 100_000;

/** The largest distance `closest` accepts for any word (words of 9 or more characters). */
const MAX_LIMIT = 3;

/**
 * Work left for suggestions, shared by several `closest` calls (e.g. all the
 * problems of one file). When it runs out, further calls suggest nothing.
 */
export interface SuggestBudget {
  /** Distance-table cells left (a candidate looked at counts one). */
  cells: number;
}

/** A budget of `cells` distance-table cells for many `closest` calls together. */
export function suggestBudget(cells = 2_000_000): SuggestBudget {
  return { cells };
}

/**
 * Levenshtein distance, case-insensitive (authors mix `maxDepth` and
 * `maxdepth`). Exact, and costs the product of the two lengths: callers that
 * compare text from files use `closest`, or `withinDistance` with a bound.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[t.length];
}

/**
 * The case-insensitive edit distance of `a` and `b` when it is at most `max`,
 * else undefined. Costs at most (2 * max + 1) * min(length) steps.
 */
export function withinDistance(a: string, b: string, max: number): number | undefined {
  const d = banded(a.toLowerCase(), b.toLowerCase(), max, { cells: Infinity });
  return d <= max ? d : undefined;
}

/**
 * The closest candidate within a distance that grows with the word's length
 * (1 for short words, up to 3), or undefined when nothing is close enough to
 * be a typo (a suggestion that is plainly wrong is worse than none), when the
 * word is longer than MAX_SUGGEST_LENGTH, or when the work allowed (this
 * call's MAX_SUGGEST_CELLS, and `budget` when given) runs out first: a
 * suggestion is only made when every candidate was compared.
 */
export function closest(word: string, candidates: Iterable<string>, budget?: SuggestBudget): string | undefined {
  if (word.length > MAX_SUGGEST_LENGTH) return undefined;
  const w = word.toLowerCase();
  const limit = Math.min(MAX_LIMIT, Math.max(1, Math.floor(word.length / 3)));
  const work = { cells: Math.min(MAX_SUGGEST_CELLS, budget?.cells ?? Infinity) };
  const start = work.cells;
  let best: string | undefined;
  let bestD = limit + 1;
  let complete = true;
  const buf = rows(MAX_SUGGEST_LENGTH);
  for (const c of candidates) {
    if (--work.cells < 0) {
      complete = false;
      break;
    }
    // Only a strictly better candidate can replace the best, so the band narrows as it improves.
    const max = bestD - 1;
    if (c.length > MAX_SUGGEST_LENGTH || Math.abs(c.length - w.length) > max) continue;
    const d = banded(w, c.toLowerCase(), max, work, buf);
    if (work.cells < 0) {
      complete = false;
      break;
    }
    if (d <= max) {
      best = c;
      bestD = d;
      if (d === 0) break;
    }
  }
  if (budget) budget.cells = Math.max(0, budget.cells - (start - Math.max(0, work.cells)));
  return complete ? best : undefined;
}

/** Two rows of the distance table, reused by every comparison of one call. */
interface Rows {
  a: Int32Array;
  b: Int32Array;
}

function rows(length: number): Rows {
  return { a: new Int32Array(length + 1), b: new Int32Array(length + 1) };
}

/**
 * Levenshtein distance of two lower-cased strings if it is at most `max`,
 * else max + 1. Only cells within `max` of the diagonal can hold a distance
 * of at most `max`; each computed cell is charged to `work`.
 */
function banded(x: string, y: string, max: number, work: SuggestBudget, buf: Rows = rows(Math.max(x.length, y.length))): number {
  const s = x.length <= y.length ? x : y;
  const t = x.length <= y.length ? y : x;
  const n = s.length;
  const m = t.length;
  if (m - n > max) return max + 1;
  if (n === 0) return m;
  const over = max + 1;
  let prev = buf.a;
  let cur = buf.b;
  prev.fill(over, 0, m + 1);
  cur.fill(over, 0, m + 1);
  for (let j = 0; j <= Math.min(m, max); j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    const lo = i - max > 1 ? i - max : 1;
    const hi = i + max < m ? i + max : m;
    cur[lo - 1] = lo === 1 ? (i <= max ? i : over) : over;
    if (hi < m) cur[hi + 1] = over;
    let rowMin = cur[lo - 1];
    work.cells -= hi - lo + 1;
    const si = s.charCodeAt(i - 1);
    for (let j = lo; j <= hi; j++) {
      let v = prev[j - 1] + (si === t.charCodeAt(j - 1) ? 0 : 1);
      if (prev[j] + 1 < v) v = prev[j] + 1;
      if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
      if (v > over) v = over;
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max || work.cells < 0) return over;
    const swap = prev;
    prev = cur;
    cur = swap;
  }
  return prev[m];
}
