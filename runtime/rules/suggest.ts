/** "Did you mean" for misspelt operators and roots. */

/**
 * Names authors bring from other languages; edit distance alone would match
 * "=" to "!" (one substitution) before "==".
 */
const COMMON_MISTAKES: Readonly<Record<string, string>> = {
  "=": "==", eq: "==", equals: "==", ne: "!=", "<>": "!=", lt: "<", le: "<=", lte: "<=", gt: ">", ge: ">=", gte: ">=",
  "&&": "and", "||": "or", not: "!", "&": "and", "|": "or",
  contains: "in", includes: "in", concat: "cat", every: "all", any: "some", count: "length", size: "length", len: "length",
  startswith: "startsWith", endswith: "endsWith", starts_with: "startsWith", ends_with: "endsWith",
  sum: "+", add: "+", subtract: "-", minus: "-", times: "*", multiply: "*", divide: "/", mod: "%",
  get: "var", val: "var", ternary: "if", coalesce: "??", date: "isoDate",
};

/** Levenshtein distance, case-insensitive (authors mix `startswith` and `startsWith`). */
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
 * The closest candidate within a distance that grows with the word's length
 * (1 for short words, up to 3), or undefined when nothing is close.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const known = COMMON_MISTAKES[word.toLowerCase()];
  if (known !== undefined && candidates.includes(known)) return known;
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
