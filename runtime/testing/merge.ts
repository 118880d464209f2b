/** Aggregation of the reports of several channels into one run. */
import type { Problem } from "../core/errors.js";
import type { TestReport } from "./types.js";

/** A report of no tests: the problems that kept a file from running (errors count as load errors). */
export function problemReport(problems: Problem[]): TestReport {
  return {
    tests: [],
    passed: 0,
    failed: 0,
    problems,
    errors: problems.filter((p) => p.severity === "error").length,
    coverage: [],
    operations: [],
    unrejected: [],
  };
}

/** One report holding every test, problem and coverage row of `reports`, in order. */
export function mergeReports(reports: readonly TestReport[]): TestReport {
  const out = problemReport([]);
  for (const r of reports) {
    out.tests.push(...r.tests);
    out.passed += r.passed;
    out.failed += r.failed;
    out.problems.push(...r.problems);
    out.errors += r.errors;
    out.coverage.push(...r.coverage);
    out.operations.push(...r.operations);
    out.unrejected.push(...r.unrejected);
  }
  return out;
}
