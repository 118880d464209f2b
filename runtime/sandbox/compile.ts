/**
 * Compiling hook files in an isolate: syntax errors come back from V8 as
 * `SyntaxError: msg [file:line:col]`, which we turn into a located Problem.
 */
import type ivm from "isolated-vm";
import { excerptAt, type Problem } from "../core/index.js";

/** V8's position suffix on compile errors in isolated-vm. */
const POSITION = /\s*\[(.*):(\d+):(\d+)\]$/;

/**
 * Compiles `stripped` (a hook file with `export` blanked) on its own, without
 * running it. Returns the compiled script, or a SANDBOX_SYNTAX problem at the
 * author's line and column. Compiling it alone first also guarantees that the
 * factory wrapper cannot be escaped by an unbalanced brace.
 */
export function compileHooks(
  isolate: ivm.Isolate,
  stripped: string,
  original: string,
  file: string,
): { script: ivm.Script; problem?: undefined } | { script?: undefined; problem: Problem } {
  try {
    return { script: isolate.compileScriptSync(stripped, { filename: file }) };
  } catch (e: unknown) {
    return { problem: syntaxProblem(e, original, file) };
  }
}

function syntaxProblem(e: unknown, original: string, file: string): Problem {
  const text = e instanceof Error ? e.message : String(e);
  const m = POSITION.exec(text);
  const message = m ? text.slice(0, m.index) : text;
  const problem: Problem = {
    code: "SANDBOX_SYNTAX",
    severity: "error",
    message: `the code does not parse: ${message}`,
    remedy: "fix the JavaScript at this position; hook files are plain scripts (top-level functions, `export function` allowed, no `import`)",
  };
  if (m) {
    problem.location = { file, line: Number(m[2]), col: Number(m[3]) };
    problem.excerpt = excerptAt(original, problem.location);
  }
  return problem;
}
