/**
 * The auditor's offline check of an export (`statecell verify`): replays a
 * channel from genesis with only its definition (the YAML files given, or the
 * one the export carries) and the export's records. It re-executes every
 * block of every cell (the cell application's `applyValue`, which insists on
 * each block's verdicts, outputs and state root), checks every commit
 * certificate against the registered groups' keys, every output a downstream
 * block consumes against the upstream block that sent it, every snapshot's
 * hash, link, certificate and cell heads against the replayed chains, and
 * every L0 acknowledgement's signature. It stops at the first divergence and
 * names its record line, cell, height and what differs.
 *
 * An export that spans upgrades at a height carries a definition record per
 * later version with its activation height; each block is re-executed with
 * the version in force at its height. With channel files given, every version
 * needs its file: the first block under a version no file gives is named as
 * the first that cannot be checked.
 */
import { canonicalString, type Json } from "../core/canonical.js";
import type { ChannelPlan } from "../definition/plan.js";
import { cellApplication, genesisCellChain, outputEntry, validatorSet, verifyCertificate, type CellChainState, type CommitCertificate, type DeliveredOutput, type HeldTokenView, type ValidatorSet } from "../consensus/index.js";
import type { CodeRunner } from "../sandbox/index.js";
import { GENESIS_HASH, verifyAck, type RegisteredGroup, type SignedAck } from "../l0/index.js";
import { encodingSuite } from "../l0/encoding.js";
import { EMPTY_STATE_ROOT, snapshotHash, type SnapshotValue } from "../node/l0/index.js";
import { genesisTokenChain, tokenApplication, type TokenChainState } from "../node/token-application.js";
import { tokenConfig, tokenView, TOKEN_CELL, type TokenConfig } from "../token/index.js";

export const VERIFY_FORMAT = "statecell-export/1";

export interface Divergence {
  /** 1-based line of the export. */
  line: number;
  record: string;
  cell?: string;
  height?: number;
  what: string;
  /** What to do, when it is not "get the ledger again" (a version whose file was not given). */
  remedy?: string;
}

export interface VerifySummary {
  channel: string;
  definitionHash: string;
  /** The versions replayed: the first from block 1, each later one from its activation height. */
  versions: Array<{ version: number; hash: string; from: number }>;
  records: number;
  cells: Record<string, { blocks: number; height: number; hash: string; stateRoot: string }>;
  snapshots: { count: number; height: number; hash: string };
  acks: number;
  l0Key: string | null;
}

export type VerifyResult = { ok: true; summary: VerifySummary } | { ok: false; divergence: Divergence; summary: VerifySummary };

export interface VerifyOptions {
  /** Plans of the channel files the auditor gives, by channel (several for a channel that was upgraded). */
  plans: ReadonlyMap<string, ChannelPlan | readonly ChannelPlan[]>;
  /** Loads the definition the export carries (when no file is given for its channel); a string says why it does not load. */
  loadEmbedded(definition: { file: string; source: string; code: Record<string, string> }): ChannelPlan | string;
  /** A sandbox runner for a cell with code. */
  runner(plan: ChannelPlan, cell: string): CodeRunner | undefined;
  /** L0's key, when the auditor gives it: acknowledgements must be signed by it (else by the one the export names). */
  l0Key?: string;
  progress?(line: number, total: number): void;
}

class Diverged extends Error {
  constructor(readonly d: Divergence) {
    super(d.what);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const short = (h: unknown): string => (typeof h === "string" ? `${h.slice(0, 12)}…` : String(h));

/** Verifies the export's `lines` (JSON texts, one record each). Never throws for what the file holds. */
export function verifyExport(lines: readonly string[], opts: VerifyOptions): VerifyResult {
  const summary: VerifySummary = { channel: "", definitionHash: "", versions: [], records: lines.length, cells: {}, snapshots: { count: 0, height: 0, hash: GENESIS_HASH }, acks: 0, l0Key: null };
  const runners: CodeRunner[] = [];
  try {
    run(lines, opts, summary, runners);
    return { ok: true, summary };
  } catch (e) {
    if (e instanceof Diverged) return { ok: false, divergence: e.d, summary };
    return { ok: false, divergence: { line: 0, record: "file", what: `the check stopped: ${e instanceof Error ? e.message : String(e)}` }, summary };
  } finally {
    for (const r of runners) r.dispose();
  }
}

function run(lines: readonly string[], opts: VerifyOptions, summary: VerifySummary, runners: CodeRunner[]): void {
  let n = 0;
  const fail = (record: string, what: string, where: { cell?: string; height?: number } = {}): never => {
    throw new Diverged({ line: n, record, ...where, what });
  };
  const next = (): Record<string, unknown> | undefined => {
    if (n >= lines.length) return undefined;
    const text = lines[n++];
    opts.progress?.(n, lines.length);
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return fail("line", "the line is not JSON text");
    }
    if (!isObj(v) || typeof v.type !== "string") return fail("line", "the line is not a record { type, ... }");
    return v;
  };
  const peekType = (): string | undefined => {
    if (n >= lines.length) return undefined;
    try {
      const v: unknown = JSON.parse(lines[n]);
      return isObj(v) && typeof v.type === "string" ? v.type : undefined;
    } catch {
      return undefined;
    }
  };
  /** A block record's certified block at `where`: its value, the value's id, and a certificate of `set` over it (or the first divergence). */
  const certified = (b: unknown, app: { valueId(v: Json): string }, set: ValidatorSet, group: string, where: { cell: string; height: number }): { value: Json; id: string; cert: CommitCertificate } => {
    if (!isObj(b) || b.height !== where.height || !isObj(b.value) || !isObj(b.certificate)) fail("block", "the record holds no certified block { height, value, certificate }", where);
    const value = (b as { value: Json }).value;
    let id: string;
    try {
      id = app.valueId(value);
    } catch {
      return fail("block", "the block's value cannot be hashed", where);
    }
    const cert = (b as { certificate: CommitCertificate }).certificate;
    if (cert.valueId !== id) fail("block", `the block's content hashes to ${short(id)}, its certificate certifies ${short(cert.valueId)}: the block differs from what group ${group} certified`, where);
    const check = verifyCertificate(set, null, { channel, cell: where.cell, height: where.height, valueId: id }, cert);
    if (!check.ok) fail("block", `the certificate does not hold: ${check.message}`, where);
    return { value, id, cert };
  };
  const expect = (type: string): Record<string, unknown> => {
    const r = next();
    if (r === undefined) return fail(type, `the file ends before its ${type} record`);
    if (r.type !== type) return fail(String(r.type), `a ${String(r.type)} record where the ${type} record belongs`);
    return r;
  };

  // Header, definition, registration.
  const header = expect("export");
  if (header.format !== VERIFY_FORMAT) fail("export", `format ${JSON.stringify(header.format)}; this verifier reads ${VERIFY_FORMAT}`);
  const channel = String(header.channel);
  summary.channel = channel;
  const def = expect("definition");
  if (def.channel !== channel) fail("definition", `the definition is of channel ${JSON.stringify(def.channel)}, the export of ${JSON.stringify(channel)}`);
  const givenRaw = opts.plans.get(channel);
  const given: readonly ChannelPlan[] = givenRaw === undefined ? [] : Array.isArray(givenRaw) ? givenRaw : [givenRaw as ChannelPlan];
  const embedded = (d: Record<string, unknown>, record: string): ChannelPlan => {
    if (typeof d.source !== "string" || !isObj(d.code)) fail(record, "the definition carries no source { file, source, code }");
    const loaded = opts.loadEmbedded({ file: String(d.file), source: d.source as string, code: d.code as Record<string, string> });
    if (typeof loaded === "string") return fail(record, `the definition in the export does not load: ${loaded}`);
    if (loaded.hash !== d.hash) fail(record, `the definition's text hashes to ${short(loaded.hash)}, the record says ${short(d.hash)}`);
    return loaded;
  };
  let plan: ChannelPlan;
  if (given.length > 0) {
    const mine = given.find((p) => p.hash === def.hash);
    if (mine === undefined) return fail("definition", `the channel file ${given[0].file} hashes to ${short(given[0].hash)}, the export's definition is ${short(def.hash)}: another definition than the one the channel ran`);
    plan = mine;
  } else {
    plan = embedded(def, "definition");
  }
  summary.definitionHash = plan.hash;
  if (header.definitionHash !== plan.hash) fail("export", `the header names definition ${short(header.definitionHash)}, the definition record is ${short(plan.hash)}`);
  // Later versions: each in force from its activation height; a version no file given is (plan undefined) stops the replay where it begins.
  const versions: Array<{ from: number; version: number; hash: string; plan: ChannelPlan | undefined; atSnapshot?: number }> = [{ from: 1, version: plan.version, hash: plan.hash, plan }];
  while (peekType() === "definition") {
    const d = expect("definition");
    const last = versions[versions.length - 1];
    const from = d.activation;
    if (d.channel !== channel) fail("definition", `the definition is of channel ${JSON.stringify(d.channel)}, the export of ${JSON.stringify(channel)}`);
    if (typeof from !== "number" || !Number.isSafeInteger(from) || from <= last.from) fail("definition", `a later version needs an activation height above ${last.from}, not ${JSON.stringify(from)}`);
    if (typeof d.version !== "number" || d.version <= last.version || typeof d.hash !== "string") fail("definition", `version ${JSON.stringify(d.version)} does not follow version ${last.version}`);
    let p: ChannelPlan | undefined;
    if (given.length > 0) p = given.find((g) => g.hash === d.hash);
    else p = embedded(d, "definition");
    if (p !== undefined && p.activation !== from) fail("definition", `version ${p.version} declares \`activation: ${String(p.activation)}\`, the export says it was in force from block ${String(from)}`);
    const at = d.atSnapshot;
    if (at !== undefined && (typeof at !== "number" || !Number.isSafeInteger(at) || at < 1)) fail("definition", `atSnapshot is a snapshot height of 1 or more, not ${JSON.stringify(at)}`);
    versions.push({ from: from as number, version: d.version as number, hash: d.hash as string, plan: p, ...(typeof at === "number" ? { atSnapshot: at } : {}) });
  }
  summary.versions = versions.map((v) => ({ version: v.version, hash: v.hash, from: v.from }));
  const reg = expect("registration");
  const groups = groupsOf(plan, reg, header, fail);
  const sets: Record<string, ValidatorSet> = {};
  for (const [name, c] of Object.entries(plan.cells)) sets[name] = validatorSet(plan.groups[c.group], keyMap(groups[c.group]));

  // Blocks: cells in pipeline order, heights 1, 2, ... as the header counts them.
  const counts = new Map<string, number>();
  if (!Array.isArray(header.cells)) fail("export", "the header lists no cells");
  for (const c of header.cells as unknown[]) if (isObj(c) && typeof c.cell === "string" && Number.isSafeInteger(c.blocks)) counts.set(c.cell, c.blocks as number);
  for (const name of plan.order) if (!counts.has(name)) fail("export", `the cell ${name} of the channel is not in the export`, { cell: name });
  // The token cell: its blocks come after the pipeline's in the file, but are replayed first (from the genesis the
  // registration binds), so that each block of a cell that reads the token reads the replayed view at the height it names.
  const tokenHeads = new Map<number, { hash: string; stateRoot: string }>();
  /** The replayed token state at each height a block of a reading cell names (only those: a state is a full copy). */
  const tokenStates = new Map<number, TokenChainState>();
  let tokenGenesisRoot = "";
  const pipelineAt = n;
  const pipelineLines = plan.order.reduce((a, c) => a + (counts.get(c) ?? 0), 0);
  let tokenEnd = n;
  if (plan.token !== undefined) {
    const wanted = tokenHeightsRead(lines, pipelineAt, pipelineAt + pipelineLines);
    n = Math.min(lines.length, pipelineAt + pipelineLines);
    const t = plan.token;
    const total = counts.get(TOKEN_CELL);
    if (total === undefined) fail("export", `the token cell of the channel is not in the export`, { cell: TOKEN_CELL });
    const keyOf = new Map<string, string>();
    for (const g of Object.values(groups)) for (const v of g.validators) keyOf.set(v.name, v.key);
    const regToken = isObj(reg.record) && isObj((reg.record as { token?: unknown }).token) ? ((reg.record as { token: Record<string, unknown> }).token) : undefined;
    // Names the genesis uses: bound in the signed registration, else (a channel without snapshots) in the header.
    const accounts = isObj(regToken?.accounts) ? (regToken!.accounts as Record<string, unknown>) : isObj(header.tokenAccounts) ? (header.tokenAccounts as Record<string, unknown>) : {};
    let config: TokenConfig;
    try {
      config = tokenConfig(plan, (name) => keyOf.get(name) ?? (typeof accounts[name] === "string" ? (accounts[name] as string) : undefined));
    } catch (e) {
      return fail("registration", `the token's genesis cannot be bound to keys: ${e instanceof Error ? e.message : String(e)}`, { cell: TOKEN_CELL });
    }
    const app = tokenApplication(plan, config);
    const tokenSet = validatorSet(plan.groups[t.group], keyMap(groups[t.group]));
    let state: TokenChainState = genesisTokenChain(config);
    tokenGenesisRoot = state.stateRoot;
    tokenStates.set(0, state);
    let prev = GENESIS_HASH;
    for (let h = 1; h <= total!; h++) {
      const r = expect("block");
      if (r.cell !== TOKEN_CELL || r.height !== h) fail("block", `block ${String(r.height)} of cell ${String(r.cell)} where block ${h} of cell ${TOKEN_CELL} belongs (a block is missing, or the lines are out of order)`, { cell: String(r.cell), height: Number(r.height) });
      const where = { cell: TOKEN_CELL, height: h };
      const { value, id } = certified(r.block, app, tokenSet, t.group, where);
      const v = value as unknown as { prevHash?: unknown; stateRoot?: unknown };
      if (v.prevHash !== prev) fail("block", `prevHash ${short(v.prevHash)} is not the hash of block ${h - 1}, ${short(prev)}`, where);
      try {
        state = app.applyValue(state, value);
      } catch (e) {
        fail("block", `re-executing it does not give the block: ${e instanceof Error ? e.message : String(e)}`, where);
      }
      tokenHeads.set(h, { hash: id, stateRoot: state.stateRoot });
      if (wanted.has(h)) tokenStates.set(h, state);
      prev = id;
    }
    summary.cells[TOKEN_CELL] = { blocks: total!, height: total!, hash: prev, stateRoot: state.stateRoot };
    tokenEnd = n;
    n = pipelineAt;
  }
  /** A block of a cell that reads the token names a token height the export replays, with the replayed root there. */
  const tokenReadCheck = (b: unknown, where: { cell: string; height: number }): void => {
    const t = isObj(b) && isObj(b.value) ? (b.value as { token?: unknown }).token : undefined;
    if (plan.token === undefined || !isObj(t) || typeof t.height !== "number") return;
    const mine = t.height === 0 ? tokenGenesisRoot : tokenHeads.get(t.height)?.stateRoot;
    if (mine === undefined) fail("block", `it reads the token at height ${t.height}; the export has the token's blocks up to ${summary.cells[TOKEN_CELL]?.height ?? 0}`, where);
    if (mine !== t.root) fail("block", `it reads the token at height ${t.height} with the root ${short(t.root)}; the replayed token has the root ${short(mine)} there`, where);
  };
  const tokenView_ = (h: number): HeldTokenView | undefined => {
    const st = tokenStates.get(h);
    return st === undefined ? undefined : { root: st.stateRoot, view: tokenView(plan.token!, st.token, h, st.stateRoot) };
  };


  const chains = new Map<string, Map<number, { hash: string; stateRoot: string }>>();
  const delivered = new Map<string, DeliveredOutput>();
  for (const cell of plan.order) {
    const total = counts.get(cell)!;
    const heads = new Map<number, { hash: string; stateRoot: string }>();
    chains.set(cell, heads);
    const cp = plan.cells[cell];
    // One application per version, built when the replay reaches it.
    const apps = new Map<number, ReturnType<typeof cellApplication>>();
    const appAt = (h: number): ReturnType<typeof cellApplication> => {
      let i = versions.length - 1;
      while (i > 0 && h < versions[i].from) i--;
      const v = versions[i];
      if (v.plan === undefined) {
        throw new Diverged({
          line: n,
          record: "block",
          cell,
          height: h,
          what: `block ${h} of cell ${cell} is under version ${v.version} (definition ${short(v.hash)}, in force from block ${v.from}); no channel file given is that definition, so this block and those after it cannot be checked`,
          remedy: `give the channel file of version ${v.version} too (statecell verify FILE V1.yaml V${v.version}.yaml), or no file to use the definitions the export carries`,
        });
      }
      let app = apps.get(i);
      if (app === undefined) {
        const vp = v.plan;
        const vc = vp.cells[cell];
        let runner: CodeRunner | undefined;
        if (vc !== undefined && vc.code !== undefined && vc.code.hooks.length > 0) {
          runner = opts.runner(vp, cell);
          if (runner !== undefined) runners.push(runner);
        }
        app = cellApplication(vp, cell, runner === undefined ? {} : { code: () => runner }, vp.token !== undefined ? { token: tokenView_ } : {});
        apps.set(i, app);
      }
      return app;
    };
    let state: CellChainState = genesisCellChain();
    let prev = GENESIS_HASH;
    for (let h = 1; h <= total; h++) {
      const r = expect("block");
      if (r.cell !== cell || r.height !== h) fail("block", `block ${String(r.height)} of cell ${String(r.cell)} where block ${h} of cell ${cell} belongs (a block is missing, or the lines are out of order)`, { cell: String(r.cell), height: Number(r.height) });
      const where = { cell, height: h };
      const app = appAt(h);
      tokenReadCheck(r.block, where);
      const { value, id } = certified(r.block, app, sets[cell], cp.group, where);
      const v = value as unknown as { prevHash?: unknown; inputs?: unknown; stateRoot?: unknown };
      if (v.prevHash !== prev) fail("block", `prevHash ${short(v.prevHash)} is not the hash of block ${h - 1}, ${short(prev)}`, where);
      if (Array.isArray(v.inputs)) {
        v.inputs.forEach((input, i) => {
          if (!isObj(input) || !isObj(input.output)) return;
          const o = input.output;
          const sent = delivered.get(`${cell}/${String(o.from)}/${String(o.seq)}`);
          if (sent === undefined) fail("block", `input ${i} is output ${String(o.seq)} of cell ${String(o.from)}, which no certified block of ${String(o.from)} in the export sent to ${cell}`, where);
          if (canonicalString(outputEntry(sent!)) !== canonicalString(input as Json)) fail("block", `input ${i} differs from output ${String(o.seq)} that cell ${String(o.from)} sent`, where);
        });
      }
      try {
        state = app.applyValue(state, value);
      } catch (e) {
        fail("block", `re-executing it does not give the block: ${e instanceof Error ? e.message : String(e)}`, where);
      }
      for (const o of app.outputsOf(value) ?? []) {
        const d: DeliveredOutput = { from: cell, seq: o.seq, data: o.data, signer: o.signer };
        if (o.op !== undefined) d.op = o.op;
        delivered.set(`${o.to}/${cell}/${o.seq}`, d);
      }
      heads.set(h, { hash: id, stateRoot: String(v.stateRoot) });
      prev = id;
    }
    summary.cells[cell] = { blocks: total, height: total, hash: prev, stateRoot: total === 0 ? EMPTY_STATE_ROOT : heads.get(total)!.stateRoot };
  }

  // The token's lines were checked before the pipeline's.
  if (plan.token !== undefined) n = tokenEnd;

  // Snapshots: the chain from height 1, each certified by the snapshot group, naming replayed heads.
  let r = next();
  const snaps = new Map<number, string>();
  if (plan.snapshots !== undefined) {
    const snapSet = validatorSet(plan.groups[plan.snapshots.group], keyMap(groups[plan.snapshots.group]));
    let prevHash = GENESIS_HASH;
    let h = 0;
    let lastVersion = 0;
    while (r !== undefined && r.type === "snapshot") {
      h++;
      const where = { height: h };
      if (r.height !== h) fail("snapshot", `snapshot ${String(r.height)} where snapshot ${h} belongs (a snapshot is missing, or the lines are out of order)`, { height: Number(r.height) });
      const b = r.block as { value?: SnapshotValue; certificate?: CommitCertificate } | undefined;
      if (!isObj(b) || !isObj(b.value) || !isObj(b.value.snapshot) || !isObj(b.certificate)) return fail("snapshot", "the record holds no certified snapshot", where);
      const s = b.value.snapshot;
      let hash: string;
      try {
        hash = snapshotHash(s);
      } catch {
        return fail("snapshot", "the snapshot cannot be hashed", where);
      }
      if (hash !== r.hash) fail("snapshot", `the snapshot hashes to ${short(hash)}, the record says ${short(r.hash)}`, where);
      if (b.certificate.valueId !== hash) fail("snapshot", `the snapshot hashes to ${short(hash)}, its certificate certifies ${short(b.certificate.valueId)}`, where);
      const check = verifyCertificate(snapSet, null, { channel, cell: "snapshots", height: h, valueId: hash }, b.certificate);
      if (!check.ok) fail("snapshot", `the certificate does not hold: ${check.message}`, where);
      if (s.channel !== channel || s.height !== h) fail("snapshot", `the snapshot is of ${String(s.channel)} height ${String(s.height)}`, where);
      if (s.prevHash !== prevHash) fail("snapshot", `prevHash ${short(s.prevHash)} is not the hash of snapshot ${h - 1}, ${short(prevHash)}`, where);
      // A snapshot names a version of the export, never one older than the snapshot before it named.
      const vi = versions.findIndex((v) => v.hash === s.definitionHash);
      if (vi < lastVersion) fail("snapshot", `it names definition ${short(s.definitionHash)}, which is not ${lastVersion === 0 ? "" : "at or after "}the channel's ${short(versions[lastVersion].hash)}${versions.length > 1 ? " (or a later version of the export)" : ""}`, where);
      lastVersion = vi;
      if (!isObj(s.cells)) fail("snapshot", "the snapshot has no cells", where);
      // A version L0 scheduled is named from its snapshot height on, and no snapshot before names a block it decided.
      for (const [i, v] of versions.entries()) {
        if (v.atSnapshot === undefined) continue;
        if (h >= v.atSnapshot && vi < i) fail("snapshot", `it names definition ${short(s.definitionHash)}; from snapshot ${v.atSnapshot} on, L0 holds version ${v.version} (${short(v.hash)}) in force`, where);
        if (h < v.atSnapshot && vi >= i) fail("snapshot", `it names version ${versions[vi].version}, which L0 holds in force only from snapshot ${v.atSnapshot}`, where);
        if (h < v.atSnapshot) {
          for (const cell of plan.order) {
            const c = (s.cells as Record<string, { height?: unknown }>)[cell];
            if (isObj(c) && typeof c.height === "number" && c.height >= v.from) fail("snapshot", `cell ${cell}: it names block ${c.height}, decided by version ${v.version} (in force from block ${v.from}), under the definition before it (L0 holds version ${v.version} in force from snapshot ${v.atSnapshot})`, { cell, height: h });
          }
        }
      }
      for (const cell of plan.order) {
        const c = (s.cells as Record<string, { height: number; hash: string; stateRoot: string }>)[cell];
        if (!isObj(c)) fail("snapshot", `the snapshot does not name cell ${cell}`, { cell, height: h });
        const mine = c.height === 0 ? { hash: GENESIS_HASH, stateRoot: EMPTY_STATE_ROOT } : chains.get(cell)!.get(c.height);
        if (mine === undefined) fail("snapshot", `it names block ${c.height} of cell ${cell}; the export has its blocks up to ${summary.cells[cell].height}`, { cell, height: h });
        if (mine!.hash !== c.hash) fail("snapshot", `cell ${cell}: it names block ${c.height} with hash ${short(c.hash)}; the replayed block ${c.height} has ${short(mine!.hash)}`, { cell, height: h });
        if (mine!.stateRoot !== c.stateRoot) fail("snapshot", `cell ${cell}: its state root ${short(c.stateRoot)} does not match the replayed block ${c.height}, ${short(mine!.stateRoot)}`, { cell, height: h });
      }
      if (plan.token !== undefined) {
        // The token root the snapshot carries is the replayed root at the token head its value names.
        const th = b.value.token;
        if (!isObj(th) || !Number.isSafeInteger(th.height) || !isObj(s.token)) fail("snapshot", "the snapshot of a channel with a token names no token head and state root", { cell: TOKEN_CELL, height: h });
        const mine = th!.height === 0 ? { hash: GENESIS_HASH, stateRoot: tokenGenesisRoot } : tokenHeads.get(th!.height);
        if (mine === undefined) fail("snapshot", `it names block ${th!.height} of the token; the export has its blocks up to ${summary.cells[TOKEN_CELL].height}`, { cell: TOKEN_CELL, height: h });
        if (mine!.hash !== th!.hash) fail("snapshot", `the token: it names block ${th!.height} with hash ${short(th!.hash)}; the replayed block ${th!.height} has ${short(mine!.hash)}`, { cell: TOKEN_CELL, height: h });
        if (mine!.stateRoot !== s.token!.stateRoot) fail("snapshot", `the token: its state root ${short(s.token!.stateRoot)} is not the replayed root at token block ${th!.height}, ${short(mine!.stateRoot)}`, { cell: TOKEN_CELL, height: h });
      } else if (s.token !== null) fail("snapshot", "a channel without a token: the snapshot carries a token state", where);
      snaps.set(h, hash);
      prevHash = hash;
      summary.snapshots = { count: h, height: h, hash };
      r = next();
    }
  }

  // Acknowledgements: each signed by L0, about a snapshot of the export.
  const l0Key = opts.l0Key ?? (typeof header.l0Key === "string" ? header.l0Key : undefined);
  summary.l0Key = l0Key ?? null;
  while (r !== undefined && r.type === "ack") {
    const h = Number(r.height);
    const where = { height: h };
    const hash = snaps.get(h);
    if (hash === undefined) fail("ack", `an acknowledgement of snapshot ${h}, which is not in the export`, where);
    if (r.hash !== hash) fail("ack", `an acknowledgement of hash ${short(r.hash)}; snapshot ${h} is ${short(hash)}`, where);
    if (l0Key === undefined) fail("ack", "no L0 key to check acknowledgements against", where);
    const ack = verifyAck(r.ack as SignedAck, [l0Key!], { channel, height: h, hash: hash! });
    if (!ack.ok) fail("ack", `the acknowledgement does not verify against L0's key ${short(l0Key)}: ${ack.refusal.message}`, where);
    summary.acks++;
    r = next();
  }
  if (r === undefined) fail("end", "the file ends without its end record (it was cut off)");
  if (r!.type !== "end") fail(String(r!.type), `a ${String(r!.type)} record where ${plan.snapshots !== undefined ? "a snapshot, an acknowledgement or " : ""}the end record belongs`);
  if (r!.records !== lines.length || n !== lines.length) fail("end", `the end record counts ${String(r!.records)} records; the file has ${lines.length}`);
}

type Fail = (record: string, what: string, where?: { cell?: string; height?: number }) => never;

/** The groups' keys: the registration's when it has one (checked against the plan and its signatures), else the header's. */
function groupsOf(plan: ChannelPlan, reg: Record<string, unknown>, header: Record<string, unknown>, fail: Fail): Record<string, RegisteredGroup> {
  const fromHeader = isObj(header.groups) ? (header.groups as Record<string, RegisteredGroup>) : undefined;
  let groups: Record<string, RegisteredGroup>;
  if (isObj(reg.record)) {
    const rec = reg.record as { definitionHash?: unknown; groups?: unknown; snapshotGroup?: unknown; channel?: unknown; encoding?: unknown };
    if (rec.channel !== plan.channel || rec.definitionHash !== plan.hash) fail("registration", `the registration is of ${String(rec.channel)} definition ${short(rec.definitionHash)}`);
    if (!isObj(rec.groups)) return fail("registration", "the registration has no groups");
    groups = rec.groups as Record<string, RegisteredGroup>;
    const sg = groups[String(rec.snapshotGroup)];
    const suite = encodingSuite(rec.encoding);
    if (sg === undefined || suite === undefined || !Array.isArray(reg.signatures)) return fail("registration", "the registration names no snapshot group, or an unknown encoding, or has no signatures");
    const members = new Set(sg.validators.map((v) => v.key));
    const bytes = suite.recordBytes("registration", rec);
    const signed = new Set<string>();
    for (const s of reg.signatures as Array<{ key: string; signature: string }>) {
      if (!members.has(s.key) || signed.has(s.key) || !suite.verify(s.key, bytes, s.signature)) fail("registration", `a signature by ${short(s.key)} is not a valid signature of a distinct member of group ${String(rec.snapshotGroup)}`);
      signed.add(s.key);
    }
    if (signed.size < sg.threshold) fail("registration", `${signed.size} signatures; group ${String(rec.snapshotGroup)} needs ${sg.threshold}`);
  } else if (fromHeader !== undefined) {
    groups = fromHeader;
  } else {
    return fail("registration", "neither a registration nor the header gives the groups' keys");
  }
  for (const [name, g] of Object.entries(plan.groups)) {
    const rg = groups[name];
    if (!isObj(rg) || !Array.isArray(rg.validators) || rg.validators.length !== g.validators.length || rg.validators.some((v, i) => v.name !== g.validators[i]) || rg.threshold !== g.threshold.quorum) {
      fail("registration", `group ${name} is not the channel's (${g.validators.join(", ")}, threshold ${g.threshold.quorum})`);
    }
    if (fromHeader !== undefined && canonicalString(fromHeader[name] as unknown as Json) !== canonicalString(rg as unknown as Json)) fail("export", `the header's keys of group ${name} are not the registration's`);
  }
  return groups;
}

function keyMap(g: RegisteredGroup): Record<string, string> {
  return Object.fromEntries(g.validators.map((v) => [v.name, v.key]));
}

/**
 * The token heights the block records in `lines[from..to)` name (`value.token.height`): the replayed token
 * states worth keeping. A hint only, read before anything is checked; what a block names is checked with it.
 */
function tokenHeightsRead(lines: readonly string[], from: number, to: number): Set<number> {
  const out = new Set<number>();
  for (let i = from; i < Math.min(to, lines.length); i++) {
    // Only blocks of reading cells carry a token head; a quick test spares parsing the others.
    if (!lines[i].includes('"token":{')) continue;
    try {
      const h = (JSON.parse(lines[i]) as { block?: { value?: { token?: { height?: unknown } } } }).block?.value?.token?.height;
      if (typeof h === "number" && Number.isSafeInteger(h)) out.add(h);
    } catch {
      // the main pass names it
    }
  }
  return out;
}
