/** "Did you mean": the closest name by edit distance, for misspelt keys and references; bounded lists of names. */

export { editDistance, closest, suggestBudget, type SuggestBudget } from "../core/suggest.js";
import { closest, type SuggestBudget } from "../core/suggest.js";
import { groupDigits } from "../rules/text.js";

/** ` (did you mean "x"?)` or nothing; `budget` is the file's (Reporter.suggestions). */
export function didYouMean(word: string, candidates: Iterable<string>, budget?: SuggestBudget): string {
  const c = closest(word, candidates, budget);
  return c === undefined ? "" : ` (did you mean "${c}"?)`;
}

/** `a, b or c` for messages. */
export function listWords(words: readonly string[], conj = "or"): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} ${conj} ${words[words.length - 1]}`;
}

/** Most names a remedy lists ("use one of: ..."); the rest are counted. */
export const MAX_LISTED_NAMES = 12;
/** Longest name a list shows whole; longer ones are cut. */
const MAX_LISTED_LENGTH = 64;

/**
 * `a, b, c` for remedies that list the names to choose from, with at most
 * MAX_LISTED_NAMES names of at most 64 characters each and "and N more":
 * a file with thousands of cells and thousands of wrong references would
 * otherwise print every name in every problem. Reads only the names it
 * shows (plus `exclude`, a name left out of the list), so a remedy costs the
 * same in a channel of 10 or 10,000 cells.
 */
export function listSome(names: ReadonlySet<string> | ReadonlyMap<string, unknown> | readonly string[], opts: { exclude?: string; max?: number } = {}): string {
  const max = opts.max ?? MAX_LISTED_NAMES;
  const all = "size" in names ? names.size : names.length;
  const excluded = opts.exclude !== undefined && ("has" in names ? names.has(opts.exclude) : names.includes(opts.exclude)) ? 1 : 0;
  const shown: string[] = [];
  for (const n of "size" in names ? names.keys() : names) {
    if (shown.length === max) break;
    if (n === opts.exclude) continue;
    shown.push(n.length > MAX_LISTED_LENGTH ? `${n.slice(0, MAX_LISTED_LENGTH - 1)}…` : n);
  }
  const more = all - excluded - shown.length;
  return more > 0 ? `${shown.join(", ")} and ${formatCount(more)} more` : shown.join(", ");
}

/** 20000 -> "20,000": thousands grouped by hand, so the text never depends on the engine's locale data (the rules' own grouping). */
export const formatCount: (n: number) => string = groupDigits;
