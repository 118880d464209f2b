/**
 * `statecell explain`: a channel in plain English for auditors. For each group
 * who validates, how many must sign and how many faults it tolerates; for each
 * cell (in pipeline order) where its inputs come from, what it accepts (or
 * its operations, each with its own schema, rules, key, updates and emits),
 * every rule as a sentence with its name, its condition and its message,
 * whether signed inputs can be replayed, state updates, emits, code, the
 * refusals its code names and limits, and the params its rules read through
 * computed paths; snapshots; token; tests (the channel's and its
 * NAME.test.yaml's). Markdown adds a mermaid flowchart of the pipeline.
 */
import type { Json } from "../core/canonical.js";
import { createRuleEngine, type RuleEngine } from "../rules/index.js";
import { inlineValue, PARAM_CHARS } from "../rules/describe.js";
import type { CellPlan, ChannelPlan, EmitPlan, GroupPlan, OperationPlan, RulePlan, StateUpdatePlan, TestPlan } from "./plan.js";
import { outputBound } from "./fan-out.js";
import { summariseSchema } from "./schema-summary.js";
import { formatCount, listWords } from "./suggest.js";
import { varReads } from "./var-paths.js";
import { tokenLines } from "./explain-token.js";

/** How explainChannel renders: plain text or markdown (with a mermaid diagram), and the tests beside the channel. */
export interface ExplainOptions {
  format: "text" | "markdown";
  /**
   * The tests of the channel's NAME.test.yaml, as `loadTests` returns them,
   * and the file they are in: listed with the channel file's own tests.
   */
  testsFile?: { file: string; tests: readonly TestPlan[] };
}

/** A section: a heading and lines (plain lines, or `- ` list items). */
interface Section {
  level: 1 | 2 | 3 | 4;
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
  for (const name of plan.order) {
    const c = plan.cells[name];
    sections.push({ level: 3, title: `Cell ${name}`, lines: cellLines(plan, c, engine, md) });
    for (const op of Object.values(c.operations ?? {})) sections.push({ level: 4, title: `Operation ${op.name} of cell ${name}`, lines: operationLines(plan, c, op, engine, md) });
  }

  const other: string[] = [];
  if (plan.snapshots) {
    const s = plan.snapshots;
    const when = s.every !== undefined ? `every ${count(s.every, "block")}` : `every ${count(s.seconds ?? 0, "second")} of block time`;
    other.push(`Snapshots: ${when}, group ${s.group} certifies the head of every cell${plan.token ? " and the token state" : ""} and sends it to the global L0 ledger.`);
  } else other.push("Snapshots: none are configured, so nothing is sent to the global L0 ledger.");
  if (plan.token) {
    other.push(...tokenLines(plan.token, engine));
  } else other.push("Token: none.");
  other.push(testsLine(plan.tests, opts.testsFile));
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
  const ops = Object.values(c.operations ?? {});
  if (c.description) lines.push(c.description);
  lines.push(`Validated by group ${c.group} (${plan.groups[c.group]?.threshold.quorum ?? "?"} of ${plan.groups[c.group]?.threshold.size ?? "?"} must sign).`);
  if (c.upstream.length === 0) lines.push("A source: inputs are submitted to it directly.");
  else if (c.direct) lines.push(`Receives outputs of ${c.upstream.join(", ")}, and inputs submitted to it directly (\`direct: true\`).`);
  else lines.push(`Receives outputs of ${c.upstream.join(", ")} only: an input submitted to it directly is refused.`);
  if (ops.length) {
    lines.push(
      `It takes ${count(ops.length, "operation")}, and each submission names one: ${ops.map((o) => code(o.name, md)).join(", ")}. Each operation has its own schema, and its rules, key, updates and emits apply after the cell's, which every operation shares.`,
    );
  } else lines.push(`Accepts ${summary(plan, c.accepts.schema, c.schemaName)}.`);
  lines.push(c.signed ? "Inputs must be signed; rules see the signer's public key as `signer`." : "Inputs need not be signed.");
  if (c.keySource !== undefined) {
    const which = ops.length ? (ops.some((o) => o.keySource !== undefined) ? " (of an operation without a key of its own)" : " (of every operation)") : "";
    lines.push(`Each accepted input${which} is stored as a record under the key ${phrase(engine, c.keySource)}; a second input with the same key is rejected.`);
  } else if (c.signed && !ops.length) lines.push(REPLAY);
  if (c.rules.length) {
    lines.push(ops.length ? "Rules of every operation, checked in order before the operation's own (the first that fails rejects the input):" : "Rules, checked in order (the first that fails rejects the input):");
    c.rules.forEach((r, i) => lines.push(ruleLine(r, i, engine, md)));
  } else if (c.code?.hooks.includes("validate")) {
    lines.push(ops.length ? "It has no rules shared by its operations; its code's validate hook also decides which inputs are accepted." : "It has no rules: its code's validate hook decides which inputs that match the schema are accepted.");
  } else if (!ops.length) lines.push("It has no rules: every input that matches the schema is accepted.");
  lines.push(...paramLines(plan, c, md));
  if (c.state.length) {
    lines.push(ops.length ? "State updates for each accepted input of any operation, in order, before the operation's own:" : "State updates for each accepted input, in order:");
    for (const u of c.state) lines.push(`- ${stateSentence(u, engine, md)}`);
  }
  const opEmits = Math.max(0, ...ops.map((o) => o.emit.length));
  if (c.emit.length) {
    lines.push(ops.length ? "Emits, for each accepted input of any operation, before the operation's own:" : "Emits, for each accepted input:");
    for (const e of c.emit) lines.push(`- ${emitSentence(e, engine, md)}`);
  }
  if (c.emit.length + opEmits > 0) {
    const transform = c.code?.hooks.includes("transform") ?? false;
    const emits = c.emit.length + opEmits;
    const bound = outputBound({ emits, transform }, plan.outputLimits);
    const ofOp = `up to ${count(opEmits, "emit")} of an operation`;
    const how = ops.length && opEmits > 0 ? (c.emit.length ? `${count(c.emit.length, "emit")} of the cell and ${ofOp}` : ofOp) : count(emits, "emit");
    lines.push(
      `So one accepted input produces at most ${count(bound, "output")} here (${how}${transform ? `, each forwarding up to ${plan.outputLimits.perInput} outputs of the transform hook` : ""}).`,
    );
  }
  if (c.code) {
    const hooks = c.code.hooks.length ? `the ${listWords([...c.code.hooks], "and")} hook${c.code.hooks.length === 1 ? "" : "s"}` : "no hooks";
    lines.push(
      `Code: ${code(c.code.path, md)} (sha256 ${c.code.sha256.slice(0, 16)}…) defines ${hooks}; it runs in an isolated sandbox limited to ${c.limits.memoryMb} MB of memory and ${c.limits.timeMs} ms per input, and ${c.limits.blockTimeMs} ms for all its hook calls of one block (inputs not reached in time are rejected).`,
    );
    const refusals = Object.entries(c.code.rejects);
    if (refusals.length) {
      lines.push(`Its hooks may refuse an input by name (the rejection carries the name and its sentence):`);
      for (const [name, sentence] of refusals) lines.push(`- ${code(name, md)}: ${quote(sentence)}`);
    }
  }
  return lines;
}

/** The sentence for a signed cell (or operation) without a record key. */
const REPLAY =
  "Nothing refuses a replay: with no record key, the same signed submission is accepted again each time anyone submits it (a key on the signer and a nonce would refuse the second).";

function operationLines(plan: ChannelPlan, c: CellPlan, op: OperationPlan, engine: RuleEngine, md: boolean): string[] {
  const lines: string[] = [];
  if (op.description) lines.push(op.description);
  lines.push(`Accepts ${summary(plan, op.accepts.schema, op.schemaName)}.`);
  if (op.keySource !== undefined) lines.push(`Each accepted input is stored as a record under the key ${phrase(engine, op.keySource)}; a second input with the same key is rejected.`);
  else if (c.keySource !== undefined) lines.push("Its inputs are stored under the cell's key.");
  else if (c.signed) lines.push(REPLAY);
  if (op.rules.length) {
    lines.push(c.rules.length ? "Rules, checked in order after the cell's (the first that fails rejects the input):" : "Rules, checked in order (the first that fails rejects the input):");
    op.rules.forEach((r, i) => lines.push(ruleLine(r, i, engine, md)));
  } else lines.push(c.rules.length ? "It has no rules of its own: the cell's rules decide." : "It has no rules: every input that matches its schema is accepted.");
  if (op.state.length) {
    lines.push(c.state.length ? "State updates for each accepted input, in order, after the cell's:" : "State updates for each accepted input, in order:");
    for (const u of op.state) lines.push(`- ${stateSentence(u, engine, md)}`);
  }
  if (op.emit.length) {
    lines.push(c.emit.length ? "Emits, for each accepted input, after the cell's:" : "Emits, for each accepted input:");
    for (const e of op.emit) lines.push(`- ${emitSentence(e, engine, md)}`);
  }
  return lines;
}

/** `1. name: requires that ... If not: "message".` with the rule's condition of application first. */
function ruleLine(r: RulePlan, i: number, engine: RuleEngine, md: boolean): string {
  const desc = r.description ? ` ${r.description}` : "";
  const when = r.whenSource !== undefined ? `when ${engine.describe(r.whenSource)}, ` : "";
  return `${md ? "1." : `  ${i + 1}.`} ${code(r.name, md)}: ${when}requires that ${r.english}. If not: ${quote(r.message)}.${desc}`;
}

/**
 * The params the cell's expressions read through computed paths
 * (`channel.params.next.{state.status}`): a rule's English shows such a path
 * as written, so the value it reads from (a transition table, a device list)
 * is shown here, once per cell, shortened as the English shortens a param.
 */
function paramLines(plan: ChannelPlan, c: CellPlan, md: boolean): string[] {
  const params = isObj(plan.document) && isObj(plan.document.params) ? plan.document.params : {};
  const names = new Set<string>();
  let all = false;
  for (const expr of cellExpressions(c)) {
    for (const read of varReads(expr)) {
      const [root, sub, name, ...rest] = read.parts;
      if (!root || !("literal" in root) || root.literal !== "channel" || !sub || !("literal" in sub) || sub.literal !== "params" || !name) continue;
      if ("placeholder" in name) all = true;
      else if (rest.some((p) => "placeholder" in p)) names.add(name.literal);
    }
  }
  const shown = all ? Object.keys(params) : [...names].filter((n) => Object.prototype.hasOwnProperty.call(params, n));
  if (shown.length === 0) return [];
  const listed = shown.slice(0, 12).map((n) => `- ${code(`channel.params.${n}`, md)} = ${inlineValue(params[n], PARAM_CHARS)}`);
  const more = shown.length > 12 ? [`- and ${formatCount(shown.length - 12)} more`] : [];
  return [all ? "Its expressions read params through computed paths, by a name computed from the input: any of these." : "Its expressions read these params through computed paths:", ...listed, ...more];
}

/** Every expression of a cell and its operations, as written. */
function cellExpressions(c: CellPlan): Json[] {
  const out: Json[] = [];
  const body = (b: { rules: readonly RulePlan[]; keySource?: Json; state: readonly StateUpdatePlan[]; emit: readonly EmitPlan[] }) => {
    for (const r of b.rules) out.push(r.require, ...(r.whenSource !== undefined ? [r.whenSource] : []));
    if (b.keySource !== undefined) out.push(b.keySource);
    for (const u of b.state) {
      if (u.valueSource !== undefined) out.push(u.valueSource);
      if (u.whenSource !== undefined) out.push(u.whenSource);
      for (const p of u.pathParts) if ("source" in p) out.push({ var: p.source });
    }
    for (const e of b.emit) {
      if (e.whenSource !== undefined) out.push(e.whenSource);
      if (e.dataSource !== undefined) out.push(e.dataSource);
    }
  };
  body(c);
  for (const op of Object.values(c.operations ?? {})) body(op);
  return out;
}

/** `schema Loan: an object with ...`, or the summary of an inline schema. */
function summary(plan: ChannelPlan, schema: Json, name: string | undefined): string {
  const what = summariseSchema(schema, 0, { named: plan.schemas });
  return name ? `schema ${name}: ${what}` : what;
}

function testsLine(own: readonly TestPlan[], file: ExplainOptions["testsFile"]): string {
  const names = (tests: readonly TestPlan[]) => tests.map((t) => quote(t.name)).join(", ");
  const beside = file?.tests ?? [];
  if (own.length + beside.length === 0) return "Tests: none.";
  if (beside.length === 0) return `Tests: ${count(own.length, "test")} (${names(own)}).`;
  const inFile = `${count(beside.length, "test")} in ${file?.file} (${names(beside)})`;
  return own.length ? `Tests: ${count(own.length + beside.length, "test")}: ${count(own.length, "test")} in the channel file (${names(own)}) and ${inFile}.` : `Tests: ${inFile}.`;
}

function stateSentence(u: StateUpdatePlan, engine: RuleEngine, md: boolean): string {
  const value = u.valueSource !== undefined ? phrase(engine, u.valueSource) : "";
  const path = code(u.path, md);
  const when = u.whenSource !== undefined ? `, when ${engine.describe(u.whenSource)}` : "";
  switch (u.op) {
    case "set":
      return `sets ${path} to ${value}${when}`;
    case "add":
      return `adds ${value || "1"} to ${path} (missing counts as 0)${when}`;
    case "append":
      return `appends ${value} to the list ${path}${when}`;
    case "remove":
      return `removes ${path}${when}`;
  }
}

function emitSentence(e: EmitPlan, engine: RuleEngine, md: boolean): string {
  const when = e.whenSource !== undefined ? ` when ${engine.describe(e.whenSource)}` : "";
  const data = e.dataSource !== undefined ? `: ${phrase(engine, e.dataSource)}` : ": the input as it is (after any transform hook)";
  const op = e.op !== undefined ? ` as operation ${code(e.op, md)}` : "";
  return `sends to ${code(e.to, md)}${op}${when}${data}`;
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
    const c = plan.cells[n];
    const emits: Array<{ e: EmitPlan; from?: string }> = [...c.emit.map((e) => ({ e })), ...Object.values(c.operations ?? {}).flatMap((o) => o.emit.map((e) => ({ e, from: o.name })))];
    for (const { e, from } of emits) {
      const label = [from !== undefined ? `on ${from}` : "", e.whenSource !== undefined ? "when" : "", e.op !== undefined ? `as ${e.op}` : ""].filter(Boolean).join(", ");
      out.push(`  ${id.get(n)} -->${label ? `|${label}|` : ""} ${id.get(e.to)}`);
    }
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
      out.push(s.level === 1 ? s.title : s.level === 2 ? `${s.title}:` : s.level === 3 ? `  ${s.title}` : `    ${s.title}`);
      if (s.level === 1) out.push("=".repeat(s.title.length));
      const indent = s.level === 4 ? "      " : s.level === 3 ? "    " : s.level === 2 ? "  " : "";
      // List items sit under the sentence that introduces them.
      for (const l of s.lines) out.push(`${indent}${l.startsWith("- ") ? "  " : ""}${l}`);
    }
  }
  return `${out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd()}\n`;
}

function code(s: string, md: boolean): string {
  return md ? `\`${s}\`` : s;
}

/**
 * A message or name in quotes that never double up with its own: "text",
 * 'text' when it holds a double quote, “text” when it holds both kinds.
 */
function quote(s: string): string {
  if (!s.includes('"')) return `"${s}"`;
  if (!s.includes("'")) return `'${s}'`;
  return `“${s}”`;
}

function count(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

function isObj(v: unknown): v is { [k: string]: Json } {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
