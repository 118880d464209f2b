/**
 * Rendering of a test report: text like a test runner prints it (✓/✗ per
 * test, a diff under each failure, a summary line), or JSON for tools.
 */
import { formatLocation, formatProblem } from "../core/errors.js";
import type { Json } from "../core/canonical.js";
import { coverageLabel } from "./coverage.js";
import { shortenForDisplay } from "./show-state.js";
import type { TestFailure, TestReport, TestResult } from "./types.js";

/** Longest JSON rendering of a whole value under a diff; the first difference is always shown in full. */
const MAX_CONTEXT_CHARS = 400;
/** A cell's state up to this many characters of JSON is one line under `--state`; a longer one is indented. */
const ONE_LINE_STATE = 100;
/** Lines of one cell's indented state under `--state`; the rest is counted, not shown (`--format json` has it all). */
const MAX_STATE_LINES = 60;

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
      body.operations = report.operations;
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
  const out = [`  ${t.passed ? "✓" : "✗"} ${t.name}`];
  if (t.failure) out.push(...formatFailure(t.failure).map((l) => `      ${l}`));
  if (t.state) out.push(...formatState(t.state, t.signers ?? {}, !t.passed).map((l) => `      ${l}`));
  return out;
}

/**
 * Each cell's state where a test ended (`--state`), signer keys as `$key:NAME`
 * and long keys shortened (show-state.ts).
 */
export function formatState(state: Readonly<Record<string, Json>>, signers: Readonly<Record<string, string>>, failed = false): string[] {
  const out = [failed ? "state where the test stopped:" : "state at the end:"];
  for (const [cell, value] of Object.entries(state)) {
    const lines = layout(`${cell}:`, shortenForDisplay(value, signers), "  ");
    out.push(...lines.slice(0, MAX_STATE_LINES));
    if (lines.length > MAX_STATE_LINES) out.push(`    … (${lines.length - MAX_STATE_LINES} more lines; --format json has the whole state)`);
  }
  return out;
}

/**
 * A labelled value as lines (`key: value`, or `- value` for a list item): the
 * value's JSON on the label's line when it fits in ONE_LINE_STATE characters,
 * else one line per field or item, nested the same way.
 */
function layout(label: string, v: Json, pad: string): string[] {
  const head = `${pad}${label}`;
  const line = JSON.stringify(v);
  if (head.length + 1 + line.length <= ONE_LINE_STATE || v === null || typeof v !== "object") return [`${head} ${line}`];
  const out = [head];
  if (Array.isArray(v)) for (const item of v) out.push(...layout("-", item, `${pad}  `));
  else for (const [k, x] of Object.entries(v)) out.push(...layout(`${showKey(k)}:`, x, `${pad}  `));
  return out;
}

/** A key as a `match:` writes it: bare, or quoted as JSON when bare text would mislead (empty, `-`, spaces, `:`, quotes). */
function showKey(k: string): string {
  return k !== "-" && /^[^\s:"'{}\[\],#]+$/.test(k) ? k : JSON.stringify(k);
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
  const out = ["rule coverage (inputs accepted / rejected by each rule; cell/op/rule for an operation's rules):"];
  if (report.coverage.length === 0) out.push("  (no rules)");
  const width = Math.max(0, ...report.coverage.map((c) => coverageLabel(c).length));
  for (const c of report.coverage) {
    out.push(`  ${coverageLabel(c).padEnd(width)}  ${counts(c.accepted, c.rejected)}`);
  }
  if (report.operations.length > 0) {
    out.push("operations (inputs accepted / rejected, for any reason):");
    const w = Math.max(0, ...report.operations.map((o) => `${o.channel} ${o.cell}/${o.op}`.length));
    for (const o of report.operations) out.push(`  ${`${o.channel} ${o.cell}/${o.op}`.padEnd(w)}  ${counts(o.accepted, o.rejected)}`);
  }
  if (report.unrejected.length === 0) {
    out.push("every rule rejects at least one input");
  } else {
    out.push(`rules no test rejects (${report.unrejected.length}):`);
    for (const c of report.coverage.filter((x) => x.rejected === 0)) {
      const where = c.location ? `  ${formatLocation(c.location)}` : "";
      out.push(`  ${coverageLabel(c)}${where}`);
    }
  }
  return out;
}

function counts(accepted: number, rejected: number): string {
  return `${String(accepted).padStart(5)} accepted  ${String(rejected).padStart(5)} rejected`;
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
