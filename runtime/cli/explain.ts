import { formatProblem } from "../core/errors.js";
import { explainChannel } from "../definition/index.js";
import { perFile } from "./failure.js";
import { expandChannelArgs } from "./files.js";
import { loadChannelFile } from "./load.js";

/**
 * `statecell explain FILE|DIR...`: the auditor's account of each channel, in
 * order. A file that does not load, or makes statecell fail, is reported with
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
  expandChannelArgs(args).forEach((file, i) => {
    if (i > 0) out("\n");
    const text = perFile(
      file,
      () => {
        const r = loadChannelFile(file);
        if (!r.plan) {
          return `${r.problems.map((p) => `${formatProblem(p)}\n`).join("")}${r.file}: cannot explain a channel that does not load; fix the errors above first\n`;
        }
        const t = explainChannel(r.plan, { format });
        return { text: t.endsWith("\n") ? t : `${t}\n` };
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
