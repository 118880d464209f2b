/**
 * `statecell demo`, what `npm start` runs until the network exists: the most
 * that works end to end today. Lints every example channel, explains one, and
 * runs all their tests with rule coverage.
 */
import { lintCommand } from "./lint.js";
import { explainCommand } from "./explain.js";
import { testCommand } from "./test.js";

export async function demoCommand(out: (s: string) => void): Promise<number> {
  const rule = (title: string) => out(`\n=== ${title} ${"=".repeat(Math.max(0, 70 - title.length))}\n\n`);
  rule("statecell lint channels/");
  const lint = lintCommand(["channels"], { format: "text" }, out);
  rule("statecell explain channels/air-quality.yaml");
  const explain = explainCommand(["channels/air-quality.yaml"], { format: "text" }, out);
  rule("statecell test channels/ --coverage");
  const test = await testCommand(["channels"], { format: "text", coverage: true }, out);
  const ok = lint === 0 && explain === 0 && test === 0;
  rule(ok ? "all example channels lint, explain and pass their tests" : "something failed above");
  return ok ? 0 : 1;
}
