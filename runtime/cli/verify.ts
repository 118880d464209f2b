/**
 * `statecell verify FILE [CHANNEL.yaml...] [--l0-key KEY] [--format text|json]`:
 * the offline check of an export (verify-export.ts). With channel files, the
 * export's definition must be theirs; without, the definition the export
 * carries is used. Exit 0 with a summary, 1 naming the first divergence, 2
 * for wrong usage. Progress on standard error (progress.ts): a bar on a
 * terminal, plain lines otherwise, for a run longer than a second.
 */
import { readFileSync } from "node:fs";
import { posix, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadChannel, type ChannelPlan } from "../definition/index.js";
import { checkCode, createCodeRunner } from "../sandbox/index.js";
import { COMMAND_HELP } from "./help.js";
import { verifyExport, type VerifyResult } from "./verify-export.js";
import { progress, type ProgressOptions } from "./progress.js";

function readText(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}

const EMBEDDED_DIR = "/export-definition";

export async function verifyCommand(argv: readonly string[], out: (s: string) => void, progressOpts: ProgressOptions = {}): Promise<number> {
  let values: { format?: string; "l0-key"?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { format: { type: "string" }, "l0-key": { type: "string" }, help: { type: "boolean", short: "h" } } }));
  } catch (e) {
    out(`statecell verify: ${(e as Error).message}\nRun \`statecell help verify\` for usage.\n`);
    return 2;
  }
  if (values.help) {
    out(`${COMMAND_HELP.verify}\n`);
    return 0;
  }
  const format = values.format ?? "text";
  if (format !== "text" && format !== "json") {
    out(`statecell verify: --format is text or json, not ${JSON.stringify(format)}\n`);
    return 2;
  }
  const l0Key = values["l0-key"];
  if (l0Key !== undefined && !/^[0-9a-f]{64}$/.test(l0Key)) {
    out("statecell verify: --l0-key is L0's public key, 64 lowercase hex (GET /v1/info of L0)\n");
    return 2;
  }
  const [file, ...channelFiles] = positionals;
  if (file === undefined) {
    out("statecell verify: name the export file, e.g. statecell verify air-quality.jsonl channels/air-quality.yaml\n");
    return 2;
  }
  const text = readText(file);
  if (text === undefined) {
    out(`statecell verify: CLI_FILE_NOT_FOUND: ${file} cannot be read\n  fix: check the path\n`);
    return 1;
  }
  const plans = new Map<string, ChannelPlan>();
  for (const f of channelFiles) {
    const path = resolve(f);
    const source = readText(path);
    if (source === undefined) {
      out(`statecell verify: CLI_FILE_NOT_FOUND: ${f} cannot be read\n  fix: check the path\n`);
      return 1;
    }
    const r = loadChannel(source, { file: path }, { readFile: readText, checkCode });
    if (r.plan === undefined) {
      out(`statecell verify: ${f} does not load (run statecell lint ${f})\n`);
      return 1;
    }
    plans.set(r.plan.channel, r.plan);
  }
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const bar = format === "text" ? progress(`statecell verify ${file}`, "records", progressOpts) : undefined;
  const result: VerifyResult = verifyExport(lines, {
    plans,
    ...(l0Key !== undefined ? { l0Key } : {}),
    loadEmbedded: (d) => {
      const r = loadChannel(d.source, { file: posix.join(EMBEDDED_DIR, posix.basename(d.file)) }, {
        readFile: (p) => (p.startsWith(`${EMBEDDED_DIR}/`) ? d.code[p.slice(EMBEDDED_DIR.length + 1)] : undefined),
        checkCode,
      });
      return r.plan ?? r.problems.filter((p) => p.severity === "error").map((p) => `${p.code}: ${p.message}`).join("; ");
    },
    runner: (plan, cell) => {
      const c = plan.cells[cell];
      return createCodeRunner({ name: `${plan.channel}/${cell}`, source: c.code!.source, file: c.code!.path, limits: c.limits, maxOutputChars: plan.outputLimits.perInputBytes });
    },
    ...(bar !== undefined ? { progress: (n: number, total: number) => bar.update(n, total) } : {}),
  });
  bar?.end();
  if (format === "json") {
    out(`${JSON.stringify(result.ok ? { ok: true, file, summary: result.summary } : { ok: false, file, code: "CLI_VERIFY_DIVERGENCE", divergence: result.divergence, summary: result.summary })}\n`);
    return result.ok ? 0 : 1;
  }
  const s = result.summary;
  if (!result.ok) {
    const d = result.divergence;
    const what = [d.record, d.cell !== undefined ? `cell ${d.cell}` : undefined, d.height !== undefined ? `height ${d.height}` : undefined].filter((x) => x !== undefined).join(", ");
    out(`${file}:${d.line}: CLI_VERIFY_DIVERGENCE (${what}): ${d.what}\n  fix: get the ledger again from another validator of the group (statecell export --node URL), compare, and report the node that served this copy\n`);
    return 1;
  }
  const blocks = Object.values(s.cells).reduce((a, c) => a + c.blocks, 0);
  out(`${file}: ok: channel ${s.channel} (definition ${s.definitionHash.slice(0, 12)}…), ${s.records} records\n`);
  out(`  ${blocks} blocks re-executed and certified in ${Object.keys(s.cells).length} cells: ${Object.entries(s.cells).map(([c, v]) => `${c} at ${v.height} (state ${v.stateRoot.slice(0, 12)}…)`).join(", ")}\n`);
  out(`  ${s.snapshots.count} snapshots linked and certified${s.snapshots.count > 0 ? ` (head ${s.snapshots.hash.slice(0, 12)}…)` : ""}; ${s.acks} L0 acknowledgements verified${s.l0Key ? ` against ${s.l0Key.slice(0, 12)}…` : ""}\n`);
  return 0;
}
