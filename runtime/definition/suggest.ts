/** "Did you mean": the closest name by edit distance, for misspelt keys and references. */

export { editDistance, closest } from "../core/suggest.js";
import { closest } from "../core/suggest.js";

/** ` (did you mean "x"?)` or nothing. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? "" : ` (did you mean "${c}"?)`;
}

/** `a, b or c` for messages. */
export function listWords(words: readonly string[], conj = "or"): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} ${conj} ${words[words.length - 1]}`;
}
