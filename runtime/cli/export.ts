/**
 * `statecell export --node URL --channel NAME --out FILE`: a channel's ledger
 * as JSON Lines (schemas/export.schema.json): the header, the definition, the
 * registration, every cell's certified blocks (cells in pipeline order,
 * heights in order), the certified snapshots, L0's acknowledgements, and an
 * end record with the count (a cut-off file is noticed). `--node` may be given
 * more than once: a cell the first node does not host is read from the next
 * that does. The file is written beside FILE and renamed into place.
 * Progress on standard error (progress.ts): a bar on a terminal, plain
 * lines otherwise, for a run longer than a second.
 */
import { renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { COMMAND_HELP } from "./help.js";
import { progress, type ProgressOptions } from "./progress.js";

export const EXPORT_FORMAT = "statecell-export/1";
const PAGE = 1000;
/** Largest answer read from a node (a page of 1,000 blocks of 1 MiB frames is far below it in practice). */
const MAX_ANSWER_BYTES = 512 * 1024 * 1024;

type Summary = { channel: string; definitionHash: string; groups: unknown; tokenAccounts?: Record<string, string>; cells: Array<{ cell: string; hosted: boolean; height: number | null }>; snapshots: number; registration: { record: unknown; signatures: unknown; answer: unknown } | null; l0Key: string | null };

class ExportError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly remedy: string,
  ) {
    super(message);
  }
}

async function getJson(base: string, path: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${base.replace(/\/+$/, "")}${path}`, { signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    throw new ExportError("CLI_EXPORT_UNREACHABLE", `the node ${base} does not answer GET ${path}: ${(e as Error).message}`, "check the node's API address (up.json lists it) and that it runs");
  }
  const text = await res.text();
  if (text.length > MAX_ANSWER_BYTES) throw new ExportError("CLI_EXPORT_BAD_ANSWER", `the node ${base} answered GET ${path} with more than ${MAX_ANSWER_BYTES} bytes`, "export from another node");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ExportError("CLI_EXPORT_BAD_ANSWER", `the node ${base} answered GET ${path} with something that is not JSON (HTTP ${res.status})`, "check that URL is a statecell node's API");
  }
  if (res.status !== 200) {
    const b = body as { code?: unknown; message?: unknown; remedy?: unknown };
    throw new ExportError(typeof b.code === "string" ? b.code : "CLI_EXPORT_BAD_ANSWER", `the node ${base} refused GET ${path}: ${String(b.message ?? res.status)}`, typeof b.remedy === "string" ? b.remedy : "check the channel name and the node");
  }
  return body;
}

/** Every item of a paged route, from height 1 on; `got(n)` after each page of n items. */
async function pages(base: string, path: string, field: string, got: (n: number) => void = () => undefined): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let from = 1; ; ) {
    const page = ((await getJson(base, `${path}?from=${from}&limit=${PAGE}`)) as Record<string, unknown>)[field];
    if (!Array.isArray(page)) throw new ExportError("CLI_EXPORT_BAD_ANSWER", `the node ${base} answered GET ${path} without a list of ${field}`, "export from a node of this statecell version");
    out.push(...page);
    got(page.length);
    // A node may answer fewer than asked (a page is bounded in bytes too): only an empty page ends.
    if (page.length === 0) return out;
    from = (page[page.length - 1] as { height: number }).height + 1;
  }
}

/**
 * The export's lines (each a JSON text) of `channel` read from `nodes`.
 * `onProgress(read, expected)` after each page: records read so far, and
 * the records the nodes' summaries announce (blocks by height, snapshots;
 * the chain may grow while it is read).
 */
export async function exportLines(nodes: readonly string[], channel: string, onProgress: (read: number, expected: number) => void = () => undefined): Promise<string[]> {
  const ch = encodeURIComponent(channel);
  const summaries: Summary[] = [];
  for (const n of nodes) summaries.push((await getJson(n, `/v1/export/${ch}`)) as Summary);
  const main = summaries[0];
  for (let i = 1; i < summaries.length; i++) {
    if (summaries[i].definitionHash !== main.definitionHash) {
      throw new ExportError("CLI_EXPORT_MIXED", `the nodes ${nodes[0]} and ${nodes[i]} run different definitions of ${channel} (${main.definitionHash.slice(0, 12)}, ${summaries[i].definitionHash.slice(0, 12)})`, "export from nodes that run the same definition");
    }
  }
  const definition = await getJson(nodes[0], `/v1/export/${ch}/definition`);
  // Later versions (upgrades at a height), each with the block height it is in force from.
  const upgrades = ((await getJson(nodes[0], `/v1/export/${ch}/upgrades`)) as { definitions?: unknown[] }).definitions ?? [];
  let read = 0;
  let expected = main.cells.reduce((a, c) => a + (c.height ?? 0), 0) + (typeof main.snapshots === "number" ? main.snapshots : 0);
  const got = (n: number): void => {
    read += n;
    expected = Math.max(expected, read);
    onProgress(read, expected);
  };
  // Acknowledgements, then snapshots, then blocks: the chain goes on while it is read, and each is stored
  // before the next kind refers to it (a snapshot before its acknowledgement, a block before a snapshot names
  // it), so every acknowledgement's snapshot and every block a snapshot names are in the export.
  const acks = await pages(nodes[0], `/v1/export/${ch}/acks`, "acks", got);
  const snapshots = await pages(nodes[0], `/v1/export/${ch}/snapshots`, "snapshots", got);
  const blocks: Array<{ cell: string; items: unknown[]; node: string }> = [];
  const missing: string[] = [];
  for (const c of main.cells) {
    const at = summaries.findIndex((s) => s.cells.some((x) => x.cell === c.cell && x.hosted));
    if (at < 0) {
      missing.push(c.cell);
      continue;
    }
    blocks.push({ cell: c.cell, node: nodes[at], items: await pages(nodes[at], `/v1/export/${ch}/blocks/${encodeURIComponent(c.cell)}`, "blocks", got) });
  }
  if (missing.length > 0) {
    throw new ExportError("CLI_EXPORT_CELL_MISSING", `no node given hosts the cell(s) ${missing.join(", ")} of ${channel}`, `add --node URL of a validator of ${missing.length === 1 ? "that cell's" : "those cells'"} group (up.json lists the nodes)`);
  }
  const lines: unknown[] = [
    { type: "export", format: EXPORT_FORMAT, channel, definitionHash: main.definitionHash, nodes: [...nodes], exportedAt: Date.now(), l0Key: main.l0Key, groups: main.groups, ...(main.tokenAccounts !== undefined ? { tokenAccounts: main.tokenAccounts } : {}), cells: blocks.map((b) => ({ cell: b.cell, blocks: b.items.length, node: b.node })) },
    definition,
    ...upgrades,
    { type: "registration", channel, record: main.registration?.record ?? null, signatures: main.registration?.signatures ?? [], answer: main.registration?.answer ?? null },
  ];
  for (const b of blocks) for (const block of b.items) lines.push({ type: "block", cell: b.cell, height: (block as { height: number }).height, block });
  for (const s of snapshots as Array<{ height: number; hash: string; block: unknown }>) lines.push({ type: "snapshot", height: s.height, hash: s.hash, block: s.block });
  for (const a of acks as Array<{ height: number; hash: string; ack: unknown }>) lines.push({ type: "ack", height: a.height, hash: a.hash, ack: a.ack });
  lines.push({ type: "end", records: lines.length + 1 });
  return lines.map((l) => JSON.stringify(l));
}

export async function exportCommand(argv: readonly string[], out: (s: string) => void, progressOpts: ProgressOptions = {}): Promise<number> {
  let values: { node?: string[]; channel?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...argv], allowPositionals: false, options: { node: { type: "string", multiple: true }, channel: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } } }));
  } catch (e) {
    out(`statecell export: ${(e as Error).message}\nRun \`statecell help export\` for usage.\n`);
    return 2;
  }
  if (values.help) {
    out(`${COMMAND_HELP.export}\n`);
    return 0;
  }
  if (!values.node?.length || values.channel === undefined || values.out === undefined) {
    out("statecell export: give --node URL, --channel NAME and --out FILE, e.g. statecell export --node http://127.0.0.1:8080 --channel air-quality --out air-quality.jsonl\n");
    return 2;
  }
  try {
    const bar = progress(`statecell export ${values.channel}`, "records", progressOpts);
    let lines: string[];
    try {
      lines = await exportLines(values.node, values.channel, (n, total) => bar.update(n, total));
    } finally {
      bar.end();
    }
    const tmp = `${values.out}.${process.pid}.tmp`;
    writeFileSync(tmp, `${lines.join("\n")}\n`);
    renameSync(tmp, values.out);
    const blocks = lines.filter((l) => l.startsWith('{"type":"block"')).length;
    const snaps = lines.filter((l) => l.startsWith('{"type":"snapshot"')).length;
    const acks = lines.filter((l) => l.startsWith('{"type":"ack"')).length;
    out(`exported ${values.channel}: ${blocks} blocks, ${snaps} snapshots, ${acks} L0 acknowledgements (${lines.length} records) to ${values.out}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ExportError) {
      out(`statecell export: ${e.code}: ${e.message}\n  fix: ${e.remedy}\n`);
      return 1;
    }
    throw e;
  }
}
