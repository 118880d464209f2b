import { runTestFiles, formatTestReport, mergeReports, type TestReport } from "../testing/index.js";
import { perFile } from "./failure.js";
import { expandChannelArgs, readTextFile } from "./files.js";

/**
 * `statecell test`: run channel tests; exit 1 on any failure or load error.
 * Each file runs on its own: one that makes statecell fail is reported with
 * a code and the others still run.
 */
export async function testCommand(
  args: readonly string[],
  opts: { format: string; coverage: boolean },
  out: (s: string) => void,
): Promise<number> {
  if (opts.format !== "text" && opts.format !== "json") {
    out(`statecell test: --format is text or json, not "${opts.format}"\n`);
    return 2;
  }
  const files = expandChannelArgs(args.length > 0 ? args : ["channels"]);
  if (files.length === 0) {
    out("statecell test: no channel files found\n");
    return 1;
  }
  const reports = files.map((file) =>
    perFile<TestReport>(
      file,
      () => runTestFiles([file], { readFile: readTextFile }),
      (p) => ({ tests: [], passed: 0, failed: 0, problems: [p], errors: 1, coverage: [], unrejected: [] }),
    ),
  );
  const report = mergeReports(reports);
  out(formatTestReport(report, { format: opts.format as "text" | "json", coverage: opts.coverage }));
  return report.failed > 0 || report.errors > 0 ? 1 : 0;
}
