/**
 * One file's failure, as a problem of that file: the CLI commands that take
 * several files report an exception on one of them (a bug in statecell, or
 * a limit of the engine such as a string too long to build) under that file
 * and go on with the others.
 */
import { isStatecellError, type Problem } from "../core/errors.js";

/** The problem that stands for exception `e` thrown while `file` was handled; keeps a statecell error's code. */
export function failureProblem(file: string, e: unknown): Problem {
  const text = e instanceof Error ? e.message : String(e);
  if (isStatecellError(e)) {
    return {
      code: e.code,
      severity: "error",
      message: e.message,
      remedy: e.remedy ?? "this is a bug in statecell; report it with the file",
      location: e.location ?? { file, line: 1, col: 1 },
    };
  }
  return {
    code: "CLI_INTERNAL",
    severity: "error",
    message: `statecell failed on ${file}: ${text.split("\n")[0]}`,
    remedy: "this is a bug in statecell; report it with the file (the other files were still handled)",
    location: { file, line: 1, col: 1 },
  };
}

/** Runs `f` for `file`; an exception becomes `onFailure(problem)` instead of stopping the command. */
export function perFile<T>(file: string, f: () => T, onFailure: (p: Problem) => T): T {
  try {
    return f();
  } catch (e: unknown) {
    return onFailure(failureProblem(file, e));
  }
}
