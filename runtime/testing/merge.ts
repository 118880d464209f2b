/** Aggregation of the reports of several channels into one run. */
import type { TestReport } from "./types.js";

/** One report holding every test, problem and coverage row of `reports`, in order. */
export function mergeReports(reports: readonly TestReport[]): TestReport {
  const out: TestReport = { tests: [], passed: 0, failed: 0, problems: [], errors: 0, coverage: [], unrejected: [] };
  for (const r of reports) {
    out.tests.push(...r.tests);
    out.passed += r.passed;
    out.failed += r.failed;
    out.problems.push(...r.problems);
    out.errors += r.errors;
    out.coverage.push(...r.coverage);
    out.unrejected.push(...r.unrejected);
  }
  return out;
}
