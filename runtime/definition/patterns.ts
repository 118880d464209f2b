/**
 * Schema patterns run with RE2 (the `re2` native addon), whose matching time
 * is linear in the text: with JavaScript's backtracking engine, `^(a+)+$`
 * against 28 `a`s and a `!` (37 bytes) took 14 s. Every validator runs the
 * same engine, so a pattern accepts the same texts on every node. RE2 has no
 * lookaround and no backreferences; `checkPattern` says which construct a
 * refused pattern uses and what to write instead.
 */
import { createRequire } from "node:module";

interface Re2Like {
  test(s: string): boolean;
}
type Re2Constructor = new (pattern: string, flags?: string) => Re2Like;
/** ajv's RegExpEngine: a pattern and flags to an object with `test`, and a name for generated code. */
type RegExpEngine = ((pattern: string, flags: string) => Re2Like) & { code: string };

// re2 is a CommonJS native addon: loaded with require, once per process.
const RE2 = createRequire(import.meta.url)("re2") as Re2Constructor;

/** ajv's `code.regExp`: every `pattern`, `patternProperties` and `propertyNames` pattern is compiled with RE2. */
export const re2RegExp: RegExpEngine = Object.assign((pattern: string, flags: string) => new RE2(pattern, flags), { code: "re2" });

/** A pattern's problem: the code, what is wrong, and what to write instead. */
export interface PatternProblem {
  code: "DEFINITION_UNSUPPORTED_PATTERN" | "DEFINITION_BAD_SCHEMA";
  message: string;
  remedy: string;
}

const LOOKAROUND_REMEDY =
  "RE2, the linear-time engine schemas run with, has no lookaround: describe the text with a pattern of what it is, and express exclusions with other keywords (`not: { pattern: ... }`, or `allOf` of two patterns for two conditions)";

/**
 * Checks that `pattern` is a valid JavaScript pattern (with the `u` flag, as
 * ajv uses it and JSON Schema specifies) and that RE2 compiles it. Compiling
 * never matches anything, so this costs time linear in the pattern.
 */
export function checkPattern(pattern: string): PatternProblem | undefined {
  const shown = pattern.length > 80 ? `${JSON.stringify(pattern.slice(0, 77))}…` : JSON.stringify(pattern);
  try {
    new RegExp(pattern, "u");
  } catch (e: unknown) {
    return {
      code: "DEFINITION_BAD_SCHEMA",
      message: `the pattern ${shown} is not a valid regular expression (${firstLine(e)})`,
      remedy: "fix the pattern: it is a JavaScript regular expression with the `u` flag; escape `{`, `}`, `(` and `)` with `\\` when they stand for themselves",
    };
  }
  try {
    new RE2(pattern, "u");
    return undefined;
  } catch (e: unknown) {
    const construct = unsupportedConstruct(pattern);
    if (construct) return { code: "DEFINITION_UNSUPPORTED_PATTERN", message: `the pattern ${shown} uses ${construct.what}, which RE2 does not support`, remedy: construct.remedy };
    return {
      code: "DEFINITION_UNSUPPORTED_PATTERN",
      message: `the pattern ${shown} cannot be compiled by RE2, the linear-time engine schemas run with (${firstLine(e)})`,
      remedy: "rewrite the pattern without that construct; RE2 supports character classes, groups, alternation and counted repetition, but no lookaround or backreferences",
    };
  }
}

/** The construct of `pattern` RE2 refuses, found by reading it outside character classes. */
function unsupportedConstruct(pattern: string): { what: string; remedy: string } | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[i + 1] ?? "";
      if (!inClass && /[1-9]/.test(next)) {
        return { what: `a backreference (\`\\${next}\`)`, remedy: "RE2 has no backreferences: list the allowed forms explicitly (`^(aa|bb)$` instead of `^(a|b)\\1$`), or check the repetition in a rule or a code hook" };
      }
      if (!inClass && next === "k" && pattern[i + 2] === "<") {
        return { what: "a named backreference (`\\k<name>`)", remedy: "RE2 has no backreferences: list the allowed forms explicitly, or check the repetition in a rule or a code hook" };
      }
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      // `[^]` (any character) has no RE2 spelling of that form.
      if (pattern.startsWith("[^]", i)) return { what: "`[^]` (any character)", remedy: "write `[\\s\\S]` for any character" };
      inClass = true;
      if (pattern[i + 1] === "]") i++;
      continue;
    }
    if (c === "(" && pattern[i + 1] === "?") {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith("=")) return { what: "a lookahead (`(?=...)`)", remedy: LOOKAROUND_REMEDY };
      if (rest.startsWith("!")) return { what: "a negative lookahead (`(?!...)`)", remedy: LOOKAROUND_REMEDY };
      if (rest === "<=") return { what: "a lookbehind (`(?<=...)`)", remedy: LOOKAROUND_REMEDY };
      if (rest === "<!") return { what: "a negative lookbehind (`(?<!...)`)", remedy: LOOKAROUND_REMEDY };
    }
  }
  return undefined;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}
