import { runTestFiles, formatTestReport } from "../testing/index.js";
import { expandChannelArgs, readTextFile } from "./files.js";

/** `statecell test`: run channel tests; exit 1 on any failure or load error. */
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
  const report = await runTestFiles(files, { readFile: readTextFile });
  out(formatTestReport(report, { format: opts.format as "text" | "json", coverage: opts.coverage }));
  return report.failed > 0 || report.errors > 0 ? 1 : 0;
}
