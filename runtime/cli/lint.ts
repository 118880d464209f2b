import { formatProblem } from "../core/errors.js";
import { perFile } from "./failure.js";
import { expandChannelArgs } from "./files.js";
import { loadChannelFile, loadTestsFile, isTestsFile, hasErrors, isCodeFile, codeFileProblem, type LoadedFile } from "./load.js";

/**
 * `statecell lint`: every problem of every file; exit 1 if any error. A file
 * that makes statecell fail is reported with a code; the others are still
 * linted. A code file is named for what it is (CLI_CODE_FILE), with the
 * channel to lint instead.
 */
export function lintCommand(args: readonly string[], opts: { format: string }, out: (s: string) => void): number {
  if (args.length === 0) {
    out("statecell lint: name at least one channel file or folder, e.g. `statecell lint channels/`\n");
    return 2;
  }
  if (opts.format !== "text" && opts.format !== "json") {
    out(`statecell lint: --format is text or json, not "${opts.format}"\n`);
    return 2;
  }
  const results = expandChannelArgs(args, process.cwd(), { includeTests: true }).map((f) =>
    perFile<LoadedFile & { tests?: number }>(
      f,
      () => (isCodeFile(f) ? { file: f, problems: [codeFileProblem(f, "lint")] } : isTestsFile(f) ? loadTestsFile(f) : loadChannelFile(f)),
      (p) => ({ file: f, problems: [p] }),
    ),
  );
  const failed = results.some((r) => hasErrors(r.problems));
  if (opts.format === "json") {
    out(`${JSON.stringify(results.map((r) => ({ file: r.file, ok: !hasErrors(r.problems), hash: r.plan?.hash, problems: r.problems })), null, 2)}\n`);
    return failed ? 1 : 0;
  }
  let errors = 0;
  let warnings = 0;
  for (const r of results) {
    for (const p of r.problems) {
      out(`${formatProblem(p)}\n`);
      if (p.severity === "error") errors++;
      else warnings++;
    }
    if (r.problems.length > 0) continue;
    if ("tests" in r) out(`${r.file}: ok (${String(r.tests)} tests of ${r.plan?.channel})\n`);
    else out(`${r.file}: ok (${r.plan?.channel} v${r.plan?.version}, ${Object.keys(r.plan?.cells ?? {}).length} cells)\n`);
  }
  out(`${results.length} file(s): ${errors} error(s), ${warnings} warning(s)\n`);
  return failed ? 1 : 0;
}
