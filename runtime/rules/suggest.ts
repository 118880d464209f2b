/** "Did you mean" for misspelt operators and roots (CONTEXT_ROOTS, source and op included). */

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
  // roots (only suggested where a root is expected: candidates must include them)
  operation: "op", origin: "source", upstream: "source", input: "data", sender: "signer",
};

import { closest as closestByDistance } from "../core/suggest.js";

export { editDistance } from "../core/suggest.js";

/**
 * The closest candidate within a distance that grows with the word's length
 * (1 for short words, up to 3), or undefined when nothing is close.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const known = COMMON_MISTAKES[word.toLowerCase()];
  if (known !== undefined && candidates.includes(known)) return known;
  return closestByDistance(word, candidates);
}
