import { formatProblem, type Problem } from "../core/errors.js";
import { explainChannel, loadTests, type ChannelPlan } from "../definition/index.js";
import { channelFilesOf, testFileOf } from "../testing/index.js";
import { perFile } from "./failure.js";
import { expandChannelArgs, readTextFile } from "./files.js";
import { codeFileProblem, isCodeFile, loadChannelFile } from "./load.js";

/**
 * `statecell explain FILE|DIR...`: the auditor's account of each channel, in
 * order, with the tests of NAME.test.yaml beside it. A tests file stands for
 * its channel (each channel is explained once); a code file is named for what
 * it is. A file that does not load, or makes statecell fail, is reported with
 * its problems and the others are still explained; exit 1 if any was not.
 */
export function explainCommand(args: readonly string[], opts: { format: string }, out: (s: string) => void): number {
  if (args.length === 0) {
    out("statecell explain: name at least one channel file, e.g. `statecell explain channels/poll.yaml`\n");
    return 2;
  }
  if (opts.format !== "text" && opts.format !== "markdown") {
    out(`statecell explain: --format is text or markdown, not "${opts.format}"\n`);
    return 2;
  }
  const format = opts.format;
  let failed = 0;
  channelFilesOf(expandChannelArgs(args), readTextFile).forEach((file, i) => {
    if (i > 0) out("\n");
    const text = perFile(
      file,
      () => {
        if (isCodeFile(file)) return `${formatProblem(codeFileProblem(file, "explain"))}\n${file}: not explained\n`;
        const r = explainFile(file, format);
        if ("problems" in r) {
          return `${r.problems.map((p) => `${formatProblem(p)}\n`).join("")}${file}: cannot explain a channel that does not load; fix the errors above first\n`;
        }
        return r;
      },
      (p) => `${formatProblem(p)}\n${file}: not explained\n`,
    );
    if (typeof text === "string") {
      failed++;
      out(text);
    } else out(text.text);
  });
  return failed > 0 ? 1 : 0;
}

/**
 * What `statecell explain FILE` prints for one channel file (ending in a
 * newline), or the problems that keep it from loading. Files are read through
 * `readFile` (the disk by default), so a test can pin the output of a channel
 * given as text.
 * @example explainFile("channels/poll.yaml", "text")
 */
export function explainFile(file: string, format: "text" | "markdown", readFile: (path: string) => string | undefined = readTextFile): { text: string } | { problems: Problem[] } {
  const r = loadChannelFile(file, readFile);
  if (!r.plan) return { problems: r.problems };
  const testsFile = testsFileOf(r.plan, file, readFile);
  const t = explainChannel(r.plan, testsFile === undefined ? { format } : { format, testsFile });
  return { text: t.endsWith("\n") ? t : `${t}\n` };
}

/**
 * The tests of NAME.test.yaml beside `file`, for explain to count and name
 * with the channel's own; a tests file with errors gives the tests that
 * loaded (`statecell lint` reports the rest).
 */
function testsFileOf(plan: ChannelPlan, file: string, readFile: (path: string) => string | undefined): { file: string; tests: ChannelPlan["tests"] } | undefined {
  const testFile = testFileOf(file);
  const source = testFile === file ? undefined : readFile(testFile);
  if (source === undefined) return undefined;
  const { tests } = loadTests(source, { file: testFile }, plan);
  return tests.length === 0 ? undefined : { file: testFile, tests };
}
