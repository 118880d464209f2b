/**
 * What `statecell export` reads from a node (GET /v1/export/...): a channel's
 * definition (its file's text and code files, checked to hash to the plan
 * the node runs), its registration with the signatures gathered, the
 * certified blocks of the cells this node hosts, its certified snapshots and
 * L0's acknowledgements. Pages are bounded by the caller.
 */
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import type { Json } from "../../core/canonical.js";
import { loadChannel, type ChannelPlan } from "../../definition/index.js";
import type { Ledger } from "../../ledger/index.js";
import { checkCode } from "../../sandbox/index.js";
import { jsonSizeEstimate } from "../../consensus/index.js";

/** Most bytes of blocks in one export page (the answer is built in memory). */
export const MAX_PAGE_BYTES = 16 * 1024 * 1024;

/** The definition as exported: the channel file's text and its code files by the path the file writes. */
export interface ExportedDefinition {
  type: "definition";
  channel: string;
  version: number;
  hash: string;
  file: string;
  source: string;
  code: Record<string, string>;
  /** For a later version: the block height from which it is in force (absent for the version from genesis). */
  activation?: number;
  /** For a later version L0 scheduled: the snapshot height from which snapshots name it. */
  atSnapshot?: number;
}

/** A version of a hosted channel with its text, as the node keeps them (node.ts). */
export interface VersionText {
  from: number;
  plan: ChannelPlan;
  atSnapshot?: number;
  text: { file: string; source: string; code: Record<string, string> } | undefined;
}

export interface ExportSource {
  channels(): string[];
  /** The summary of a channel, or undefined when the node does not host it. */
  summary(channel: string): Json | undefined;
  definition(channel: string): ExportedDefinition | undefined;
  /** The later versions of a channel (upgrades at a height), with their texts and activation heights. */
  upgrades(channel: string): ExportedDefinition[] | undefined;
  blocks(channel: string, cell: string, from: number, limit: number): Json[] | undefined;
  snapshots(channel: string, from: number, limit: number): Json[] | undefined;
  acks(channel: string, from: number, limit: number): Json[] | undefined;
}

export function exportSource(
  plans: readonly ChannelPlan[],
  ledger: Ledger,
  hosts: (channel: string, cell: string) => boolean,
  l0Key: string | undefined,
  keysOf: (plan: ChannelPlan, group: string) => Record<string, string>,
  versions: (channel: string) => VersionText[] = () => [],
  accountOf: (name: string) => string | undefined = () => undefined,
): ExportSource {
  const byName = new Map(plans.map((p) => [p.channel, p]));
  const definitions = new Map<string, ExportedDefinition>();
  return {
    channels: () => [...byName.keys()],
    summary(channel) {
      const plan = byName.get(channel);
      if (plan === undefined) return undefined;
      // The built-in token cell after the pipeline's cells, when the channel has a token.
      const names = plan.token !== undefined ? [...plan.order, "token"] : plan.order;
      const cells = names.map((c) => ({ cell: c, hosted: hosts(channel, c), height: hosts(channel, c) ? ledger.cell(channel, c).head().height : null }));
      const snap = ledger.snapshots.head(channel);
      const reg = ledger.snapshots.registration(channel, 1);
      return {
        channel,
        definitionHash: plan.hash,
        cells,
        snapshots: snap?.height ?? 0,
        groups: Object.fromEntries(Object.entries(plan.groups).map(([g, grp]) => [g, { validators: grp.validators.map((v) => ({ name: v, key: keysOf(plan, g)[v] })), threshold: grp.threshold.quorum }])),
        registration: reg === null ? null : { record: reg.record, signatures: reg.signatures, answer: reg.answer },
        l0Key: l0Key ?? null,
        // The token genesis' names the network file binds (keys:), so a channel without a registration replays too.
        ...(plan.token !== undefined ? { tokenAccounts: boundAccounts(Object.keys(plan.token.genesis), accountOf) } : {}),
      } as unknown as Json;
    },
    definition(channel) {
      const plan = byName.get(channel);
      if (plan === undefined) return undefined;
      const known = definitions.get(channel);
      if (known !== undefined) return known;
      // The text the node loaded the version from (the ledger's, for a version loaded from it).
      const kept = versions(channel).find((v) => v.plan.hash === plan.hash)?.text;
      if (kept !== undefined) {
        const d: ExportedDefinition = { type: "definition", channel, version: plan.version, hash: plan.hash, ...kept };
        definitions.set(channel, d);
        return d;
      }
      const source = readFileSync(plan.file, "utf8");
      const code: Record<string, string> = {};
      for (const c of Object.values(plan.cells)) if (c.code !== undefined) code[posix.normalize(c.code.path.replace(/\\/g, "/"))] = c.code.source;
      // The file on disk must still be the definition the node runs (it may have been edited since the node started).
      const again = loadChannel(source, { file: plan.file }, { readFile: (p) => readText(p), checkCode });
      if (again.plan?.hash !== plan.hash) return undefined;
      const d: ExportedDefinition = { type: "definition", channel, version: plan.version, hash: plan.hash, file: posix.basename(plan.file.replace(/\\/g, "/")), source, code };
      definitions.set(channel, d);
      return d;
    },
    upgrades(channel) {
      if (!byName.has(channel)) return undefined;
      return versions(channel)
        .filter((v) => v.from > 1 && v.text !== undefined)
        .map((v) => ({ type: "definition" as const, channel, version: v.plan.version, hash: v.plan.hash, ...v.text!, activation: v.from, ...(v.atSnapshot !== undefined ? { atSnapshot: v.atSnapshot } : {}) }));
    },
    blocks(channel, cell, from, limit) {
      if (!byName.has(channel) || !hosts(channel, cell)) return undefined;
      // A page holds at most MAX_PAGE_BYTES of blocks (at least one): blocks may each be a MiB.
      const out: Json[] = [];
      let bytes = 0;
      for (const b of ledger.cell(channel, cell).blocks(from, limit)) {
        bytes += jsonSizeEstimate(b, MAX_PAGE_BYTES + 1);
        if (out.length > 0 && bytes > MAX_PAGE_BYTES) break;
        out.push(b as unknown as Json);
      }
      return out;
    },
    snapshots(channel, from, limit) {
      if (!byName.has(channel)) return undefined;
      const out: Json[] = [];
      let bytes = 0;
      for (const s of ledger.snapshots.from(channel, from, limit)) {
        bytes += jsonSizeEstimate(s.block, MAX_PAGE_BYTES + 1);
        if (out.length > 0 && bytes > MAX_PAGE_BYTES) break;
        out.push({ height: s.height, hash: s.hash, decided: s.decided, block: s.block } as unknown as Json);
      }
      return out;
    },
    acks(channel, from, limit) {
      if (!byName.has(channel)) return undefined;
      return ledger.snapshots.acks(channel, from, limit).map((a) => ({ height: a.height, hash: a.hash, ack: a.ack, received: a.received })) as unknown as Json[];
    },
  };
}

/** The names among `names` that `accountOf` binds to keys. */
function boundAccounts(names: readonly string[], accountOf: (name: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const k = accountOf(n);
    if (k !== undefined) out[n] = k;
  }
  return out;
}

function readText(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}
