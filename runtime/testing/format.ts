/**
 * Rendering of a test report: text like a test runner prints it (✓/✗ per
 * test, a diff under each failure, a summary line), or JSON for tools.
 */
import { formatLocation, formatProblem } from "../core/errors.js";
import type { Json } from "../core/canonical.js";
import type { TestFailure, TestReport, TestResult } from "./types.js";

/** Longest JSON rendering of a whole value under a diff; the first difference is always shown in full. */
const MAX_CONTEXT_CHARS = 400;

export interface FormatOptions {
  format: "text" | "json";
  /** Add the per-rule counts and the list of rules no test rejects. */
  coverage?: boolean;
}

/**
 * The report as text or JSON, ending in a newline.
 * @example formatTestReport(report, { format: "text", coverage: true })
 */
export function formatTestReport(report: TestReport, opts: FormatOptions): string {
  if (opts.format === "json") {
    const body: Record<string, unknown> = {
      passed: report.passed,
      failed: report.failed,
      errors: report.errors,
      tests: report.tests,
      problems: report.problems,
    };
    if (opts.coverage) {
      body.coverage = report.coverage;
      body.unrejected = report.unrejected;
    }
    return `${JSON.stringify(body, null, 2)}\n`;
  }
  const lines: string[] = [];
  let file: string | undefined;
  for (const t of report.tests) {
    if (t.file !== file) {
      if (file !== undefined) lines.push("");
      file = t.file;
      lines.push(`${t.file} (${t.channel})`);
    }
    lines.push(...formatResult(t));
  }
  if (report.problems.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push(report.errors > 0 ? "could not run:" : "warnings:");
    for (const p of report.problems) lines.push(indent(formatProblem(p), "  "));
  }
  if (opts.coverage) lines.push("", ...formatCoverage(report));
  lines.push("", summaryLine(report));
  return `${lines.join("\n")}\n`;
}

/** "N passed, N failed" (and the load errors, when there are some). */
export function summaryLine(report: TestReport): string {
  const errors = report.errors > 0 ? `, ${report.errors} load error${report.errors === 1 ? "" : "s"}` : "";
  return `${report.passed} passed, ${report.failed} failed${errors}`;
}

function formatResult(t: TestResult): string[] {
  if (t.passed) return [`  ✓ ${t.name}`];
  const out = [`  ✗ ${t.name}`];
  if (t.failure) out.push(...formatFailure(t.failure).map((l) => `      ${l}`));
  return out;
}

/** The lines under a failed test: where, what, and the diff. */
export function formatFailure(f: TestFailure): string[] {
  const where = f.location ? `${formatLocation(f.location)}: ` : "";
  const out = [`${where}step ${f.step + 1}: ${f.code}: ${f.message}`];
  if (f.excerpt) out.push(...f.excerpt.split("\n").map((l) => `  ${l}`));
  if (f.verdict && !f.verdict.accepted) {
    const rule = f.verdict.rule ? ` (rule ${f.verdict.rule})` : "";
    out.push(`  actual verdict: rejected ${f.verdict.code ?? "?"}${rule}: ${f.verdict.message ?? ""}`.trimEnd());
    if (f.verdict.path) out.push(`  at: ${f.verdict.path}`);
  }
  if (f.path !== undefined) {
    out.push(`  at:       ${f.path === "" ? "(the whole value)" : f.path}`);
    out.push(`  expected: ${show(f.expected)}`);
    out.push(`  actual:   ${f.missing ? "(missing)" : show(f.actual)}`);
  }
  if (f.actualWhole !== undefined) out.push(`  whole actual value: ${truncate(show(f.actualWhole), MAX_CONTEXT_CHARS)}`);
  return out;
}

function formatCoverage(report: TestReport): string[] {
  const out = ["rule coverage (inputs accepted / rejected by each rule):"];
  if (report.coverage.length === 0) out.push("  (no rules)");
  const width = Math.max(0, ...report.coverage.map((c) => `${c.channel} ${c.cell}/${c.rule}`.length));
  for (const c of report.coverage) {
    const name = `${c.channel} ${c.cell}/${c.rule}`.padEnd(width);
    out.push(`  ${name}  ${String(c.accepted).padStart(5)} accepted  ${String(c.rejected).padStart(5)} rejected`);
  }
  if (report.unrejected.length === 0) {
    out.push("every rule rejects at least one input");
  } else {
    out.push(`rules no test rejects (${report.unrejected.length}):`);
    for (const c of report.coverage.filter((x) => x.rejected === 0)) {
      const where = c.location ? `  ${formatLocation(c.location)}` : "";
      out.push(`  ${c.channel} ${c.cell}/${c.rule}${where}`);
    }
  }
  return out;
}

function show(v: Json | undefined): string {
  return v === undefined ? "(nothing)" : JSON.stringify(v);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more characters)`;
}

function indent(s: string, pad: string): string {
  return s.replace(/^/gm, pad);
}
