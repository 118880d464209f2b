/**
 * `statecell explain`: a channel in plain English for auditors. For each group
 * who validates, how many must sign and how many faults it tolerates; for each
 * cell (in pipeline order) what it accepts, every rule as a sentence with its
 * name and message, state updates, emits, code and limits; snapshots; token.
 * Markdown adds a mermaid flowchart of the pipeline.
 */
import type { Json } from "../core/canonical.js";
import { createRuleEngine, type RuleEngine } from "../rules/index.js";
import { inlineValue } from "../rules/describe.js";
import type { CellPlan, ChannelPlan, EmitPlan, GroupPlan, StateUpdatePlan } from "./plan.js";
import { outputBound } from "./fan-out.js";
import { summariseSchema } from "./schema-summary.js";
import { listWords } from "./suggest.js";

export interface ExplainOptions {
  format: "text" | "markdown";
}

/** A section: a heading and lines (plain lines, or `- ` list items). */
interface Section {
  level: 1 | 2 | 3;
  title: string;
  lines: string[];
}

/**
 * Renders `plan` for a reader who does not read YAML or json-logic.
 *
 * @example
 * process.stdout.write(explainChannel(plan, { format: "markdown" }));
 */
export function explainChannel(plan: ChannelPlan, opts: ExplainOptions = { format: "text" }): string {
  const engine = createRuleEngine(isObj(plan.document) && isObj(plan.document.params) ? { params: plan.document.params } : {});
  const md = opts.format === "markdown";
  const sections: Section[] = [];

  const summary: string[] = [];
  if (plan.description) summary.push(plan.description);
  const cellCount = plan.order.length;
  summary.push(
    `It has ${cellCount} cell${cellCount === 1 ? "" : "s"} (${plan.order.join(" -> ")} in pipeline order) validated by ${count(Object.keys(plan.groups).length, "group")}.`,
  );
  summary.push(`Definition hash: ${plan.hash}.`);
  summary.push(`Every input may be at most ${plan.inputLimits.maxBytes} bytes of JSON and nest at most ${plan.inputLimits.maxDepth} levels deep.`);
  const o = plan.outputLimits;
  const b = plan.blockLimits;
  summary.push(
    `Each accepted input may produce at most ${count(o.perInput, "output")} (${o.perInputBytes} bytes of JSON together), and one block of a cell at most ${count(o.perBlock, "output")} (${o.perBlockBytes} bytes); an input that would produce more is rejected.`,
  );
  summary.push(`A block carries at most ${count(b.maxInputs, "input")} and ${b.maxBytes} bytes of submissions.`);
  sections.push({ level: 1, title: `Channel ${plan.channel}, version ${plan.version}`, lines: summary });

  if (md) sections.push({ level: 2, title: "Pipeline", lines: mermaid(plan) });

  sections.push({ level: 2, title: "Groups", lines: [] });
  for (const name of Object.keys(plan.groups).sort()) sections.push({ level: 3, title: `Group ${name}`, lines: groupLines(plan.groups[name]) });

  sections.push({ level: 2, title: "Cells, in pipeline order", lines: [] });
  for (const name of plan.order) sections.push({ level: 3, title: `Cell ${name}`, lines: cellLines(plan, plan.cells[name], engine, md) });

  const other: string[] = [];
  if (plan.snapshots) {
    const s = plan.snapshots;
    const when = s.every !== undefined ? `every ${count(s.every, "block")}` : `every ${count(s.seconds ?? 0, "second")} of block time`;
    other.push(`Snapshots: ${when}, group ${s.group} certifies the head of every cell${plan.token ? " and the token state" : ""} and sends it to the global L0 ledger.`);
  } else other.push("Snapshots: none are configured, so nothing is sent to the global L0 ledger.");
  if (plan.token) {
    const t = plan.token;
    const holders = Object.entries(t.genesis);
    other.push(
      `Token: ${t.name} (${t.symbol}) with ${t.decimals} decimal${t.decimals === 1 ? "" : "s"}; the genesis supply of ${amount(t.supply, t.decimals)} is held by ${count(holders.length, "account")}${holders.length ? `: ${holders.map(([a, v]) => `${a} ${amount(v, t.decimals)}`).join(", ")}` : ""}.`,
    );
  } else other.push("Token: none.");
  other.push(plan.tests.length ? `Tests: ${count(plan.tests.length, "test")} (${plan.tests.map((t) => quote(t.name)).join(", ")}).` : "Tests: none.");
  sections.push({ level: 2, title: "Snapshots, token and tests", lines: other });

  return render(sections, md);
}

function groupLines(g: GroupPlan): string[] {
  const t = g.threshold;
  const lines: string[] = [];
  if (g.description) lines.push(g.description);
  lines.push(`Validators (${t.size}): ${g.validators.join(", ")}.`);
  if (t.size === 1) {
    lines.push(`A centralized service: the single validator ${g.validators[0]} decides alone. It tolerates 0 Byzantine validators for safety and 0 offline for liveness.`);
    return lines;
  }
  const written = typeof t.written === "number" ? `threshold ${t.written}` : t.written === "all" ? 'threshold "all"' : `threshold "${t.written}", strictly more than ${t.written} of ${t.size}`;
  lines.push(`${t.quorum} of ${t.size} must sign (${written}).`);
  lines.push(
    `Safety holds while at most ${count(t.safetyFaults, "validator")} ${t.safetyFaults === 1 ? "is" : "are"} Byzantine (2q-n-1); liveness holds while at most ${t.livenessFaults} ${t.livenessFaults === 1 ? "is" : "are"} offline (n-q).`,
  );
  return lines;
}

function cellLines(plan: ChannelPlan, c: CellPlan, engine: RuleEngine, md: boolean): string[] {
  const lines: string[] = [];
  if (c.description) lines.push(c.description);
  lines.push(`Validated by group ${c.group} (${plan.groups[c.group]?.threshold.quorum ?? "?"} of ${plan.groups[c.group]?.threshold.size ?? "?"} must sign).`);
  const from = c.upstream.length ? `Receives outputs of ${c.upstream.join(", ")}` : "A source: inputs are submitted to it directly";
  lines.push(`${from}.`);
  const what = summariseSchema(c.accepts.schema);
  lines.push(`Accepts ${c.schemaName ? `schema ${c.schemaName}: ` : ""}${what}.`);
  lines.push(c.signed ? "Inputs must be signed; rules see the signer's public key as `signer`." : "Inputs need not be signed.");
  if (c.keySource !== undefined) lines.push(`Each accepted input is stored as a record under the key ${phrase(engine, c.keySource)}; a second input with the same key is rejected.`);
  if (c.rules.length) {
    lines.push("Rules, checked in order (the first that fails rejects the input):");
    c.rules.forEach((r, i) => {
      const desc = r.description ? ` ${r.description}` : "";
      lines.push(`${md ? "1." : `  ${i + 1}.`} ${code(r.name, md)}: requires that ${r.english}. If not: ${quote(r.message)}.${desc}`);
    });
  } else if (c.code?.hooks.includes("validate")) {
    lines.push("It has no rules: its code's validate hook decides which inputs that match the schema are accepted.");
  } else lines.push("It has no rules: every input that matches the schema is accepted.");
  if (c.state.length) {
    lines.push("State updates for each accepted input, in order:");
    for (const u of c.state) lines.push(`- ${stateSentence(u, engine, md)}`);
  }
  if (c.emit.length) {
    lines.push("Emits, for each accepted input:");
    for (const e of c.emit) lines.push(`- ${emitSentence(e, engine, md)}`);
    const transform = c.code?.hooks.includes("transform") ?? false;
    const bound = outputBound({ emits: c.emit.length, transform }, plan.outputLimits);
    lines.push(
      `So one accepted input produces at most ${count(bound, "output")} here (${count(c.emit.length, "emit")}${transform ? `, each forwarding up to ${plan.outputLimits.perInput} outputs of the transform hook` : ""}).`,
    );
  }
  if (c.code) {
    const hooks = c.code.hooks.length ? `the ${listWords([...c.code.hooks], "and")} hook${c.code.hooks.length === 1 ? "" : "s"}` : "no hooks";
    lines.push(
      `Code: ${code(c.code.path, md)} (sha256 ${c.code.sha256.slice(0, 16)}…) defines ${hooks}; it runs in an isolated sandbox limited to ${c.limits.memoryMb} MB of memory and ${c.limits.timeMs} ms per input, and ${c.limits.blockTimeMs} ms for all its hook calls of one block (inputs not reached in time are rejected).`,
    );
  }
  return lines;
}

function stateSentence(u: StateUpdatePlan, engine: RuleEngine, md: boolean): string {
  const value = u.valueSource !== undefined ? phrase(engine, u.valueSource) : "";
  const path = code(u.path, md);
  const when = u.whenSource !== undefined ? `, when ${engine.describe(u.whenSource)}` : "";
  switch (u.op) {
    case "set":
      return `sets ${path} to ${value}${when}`;
    case "add":
      return `adds ${value} to ${path} (missing counts as 0)${when}`;
    case "append":
      return `appends ${value} to the list ${path}${when}`;
    case "remove":
      return `removes ${path}${when}`;
  }
}

function emitSentence(e: EmitPlan, engine: RuleEngine, md: boolean): string {
  const when = e.whenSource !== undefined ? ` when ${engine.describe(e.whenSource)}` : "";
  const data = e.dataSource !== undefined ? `: ${phrase(engine, e.dataSource)}` : ": the input as it is (after any transform hook)";
  return `sends to ${code(e.to, md)}${when}${data}`;
}

/** A mapping or expression in words: expressions described, objects field by field, literals as JSON. */
function phrase(engine: RuleEngine, v: Json): string {
  if (isObj(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && engine.operators.includes(keys[0])) return engine.describe(v);
    return `{ ${keys.map((k) => `${k}: ${phrase(engine, v[k])}`).join(", ")} }`;
  }
  if (Array.isArray(v)) return `[${v.map((x) => phrase(engine, x)).join(", ")}]`;
  return inlineValue(v);
}

function mermaid(plan: ChannelPlan): string[] {
  const id = new Map(plan.order.map((n, i) => [n, `c${i}`]));
  const out = ["```mermaid", "flowchart LR"];
  for (const n of plan.order) out.push(`  ${id.get(n)}["${label(n)}<br/>group: ${label(plan.cells[n].group)}"]`);
  for (const n of plan.order) {
    for (const e of plan.cells[n].emit) out.push(`  ${id.get(n)} -->${e.whenSource !== undefined ? "|when|" : ""} ${id.get(e.to)}`);
  }
  out.push("```");
  return out;
}

function label(s: string): string {
  return s.replace(/["<>]/g, "");
}

function render(sections: Section[], md: boolean): string {
  const out: string[] = [];
  for (const s of sections) {
    if (md) {
      out.push(`${"#".repeat(s.level)} ${s.title}`, "");
      let inList = false;
      for (const l of s.lines) {
        const item = /^(- |1\. )/.test(l);
        if (inList && !item) out.push("");
        out.push(l);
        // Paragraphs are separated by blank lines; the lines of the mermaid block are not.
        const inFence = l.startsWith("```mermaid") || l.startsWith("  ") || l === "flowchart LR";
        if (!item && !inFence) out.push("");
        inList = item;
      }
      if (inList) out.push("");
    } else {
      if (s.level < 3 && out.length) out.push("");
      out.push(s.level === 1 ? s.title : s.level === 2 ? `${s.title}:` : `  ${s.title}`);
      if (s.level === 1) out.push("=".repeat(s.title.length));
      const indent = s.level === 3 ? "    " : s.level === 2 ? "  " : "";
      // List items sit under the sentence that introduces them.
      for (const l of s.lines) out.push(`${indent}${l.startsWith("- ") ? "  " : ""}${l}`);
    }
  }
  return `${out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd()}\n`;
}

function code(s: string, md: boolean): string {
  return md ? `\`${s}\`` : s;
}

function quote(s: string): string {
  return `"${s}"`;
}

function count(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

function amount(v: number, decimals: number): string {
  return v.toFixed(decimals);
}

function isObj(v: unknown): v is { [k: string]: Json } {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
