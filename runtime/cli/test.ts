import { runTestFiles, formatTestReport, mergeReports, channelFilesOf, problemReport, type TestReport } from "../testing/index.js";
import { perFile } from "./failure.js";
import { expandChannelArgs, readTextFile } from "./files.js";
import { codeFileProblem, isCodeFile } from "./load.js";
import { progress, type ProgressOptions } from "./progress.js";

/** Options of `statecell test`. */
export interface TestCommandOptions {
  format: string;
  coverage: boolean;
  /** Run only the tests whose name contains this text (ignoring case). */
  grep?: string;
  /** Print each cell's state at the end of each test. */
  state?: boolean;
  /** Where progress goes and when (progress.ts); standard error by default. */
  progress?: ProgressOptions;
}

/**
 * `statecell test`: run channel tests; exit 1 on any failure or load error,
 * and when `--grep` selects no test. A tests file stands for its channel, so
 * `statecell test channels/*.yaml` runs each channel once, as `lint` checks
 * the same files; a code file is named for what it is. Each file runs on its
 * own: one that makes statecell fail is reported with a code and the others
 * still run. A run longer than a second shows its progress on standard
 * error (files and tests done): a bar on a terminal, plain lines otherwise.
 */
export async function testCommand(args: readonly string[], opts: TestCommandOptions, out: (s: string) => void): Promise<number> {
  if (opts.format !== "text" && opts.format !== "json") {
    out(`statecell test: --format is text or json, not "${opts.format}"\n`);
    return 2;
  }
  if (opts.grep === "") {
    out("statecell test: --grep needs a text, e.g. `--grep ballot`\n");
    return 2;
  }
  const files = channelFilesOf(expandChannelArgs(args.length > 0 ? args : ["channels"]), readTextFile);
  if (files.length === 0) {
    out("statecell test: no channel files found\n");
    return 1;
  }
  const bar = progress("statecell test", "channel files", opts.progress);
  let tests = 0;
  let filesDone = 0;
  const onTest = (): void => {
    tests++;
    bar.update(filesDone, files.length, `${tests} tests`);
  };
  const reports = files.map((file) => {
    const r = perFile<TestReport>(
      file,
      () =>
        isCodeFile(file)
          ? problemReport([codeFileProblem(file, "test")])
          : runTestFiles([file], { readFile: readTextFile }, { ...(opts.grep !== undefined ? { grep: opts.grep } : {}), state: opts.state === true, onTest }),
      (p) => problemReport([p]),
    );
    filesDone++;
    bar.update(filesDone, files.length, `${tests} tests`);
    return r;
  });
  bar.end();
  const report = mergeReports(reports);
  out(formatTestReport(report, { format: opts.format as "text" | "json", coverage: opts.coverage }));
  if (opts.grep !== undefined && report.tests.length === 0 && report.errors === 0) {
    if (opts.format === "text") out(`no test name contains "${opts.grep}"\n`);
    return 1;
  }
  return report.failed > 0 || report.errors > 0 ? 1 : 0;
}
