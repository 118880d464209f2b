import { formatProblem } from "../core/errors.js";
import { explainChannel } from "../definition/index.js";
import { loadChannelFile } from "./load.js";

/** `statecell explain FILE`: the auditor's account of one channel. */
export function explainCommand(args: readonly string[], opts: { format: string }, out: (s: string) => void): number {
  if (args.length !== 1) {
    out("statecell explain: name exactly one channel file, e.g. `statecell explain channels/poll.yaml`\n");
    return 2;
  }
  if (opts.format !== "text" && opts.format !== "markdown") {
    out(`statecell explain: --format is text or markdown, not "${opts.format}"\n`);
    return 2;
  }
  const r = loadChannelFile(args[0]);
  if (!r.plan) {
    for (const p of r.problems) out(`${formatProblem(p)}\n`);
    out(`${r.file}: cannot explain a channel that does not load; fix the errors above first\n`);
    return 1;
  }
  const text = explainChannel(r.plan, { format: opts.format });
  out(text.endsWith("\n") ? text : `${text}\n`);
  return 0;
}
