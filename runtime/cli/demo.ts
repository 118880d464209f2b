/**
 * `statecell demo`, what `npm start` runs until the network exists: the most
 * that works end to end today. Lints every example channel, explains one,
 * runs all their tests with rule coverage, and has the poll's validators
 * agree on a block with the consensus core.
 */
import { lintCommand } from "./lint.js";
import { explainCommand } from "./explain.js";
import { testCommand } from "./test.js";
import { consensusDemo } from "./demo-consensus.js";

export async function demoCommand(out: (s: string) => void): Promise<number> {
  const rule = (title: string) => out(`\n=== ${title} ${"=".repeat(Math.max(0, 70 - title.length))}\n\n`);
  rule("statecell lint channels/");
  const lint = lintCommand(["channels"], { format: "text" }, out);
  rule("statecell explain channels/air-quality.yaml");
  const explain = explainCommand(["channels/air-quality.yaml"], { format: "text" }, out);
  rule("statecell test channels/ --coverage");
  const test = await testCommand(["channels"], { format: "text", coverage: true }, out);
  rule("consensus: the poll's clerks agree on a block of ballots (in one process)");
  const consensus = consensusDemo(out);
  const ok = lint === 0 && explain === 0 && test === 0 && consensus === 0;
  rule(ok ? "all example channels lint, explain and pass their tests; the clerks agree" : "something failed above");
  return ok ? 0 : 1;
}
