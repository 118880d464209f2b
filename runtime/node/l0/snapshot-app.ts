/**
 * The snapshot group's replicated application: consensus on the pseudo-cell
 * "snapshots" of a channel decides one L0 snapshot per height (docs/l0.md,
 * "Snapshot"). The value is `{ snapshot, certificates }`: the snapshot record
 * L0 receives, and for every cell the commit certificate of the head block it
 * names, so a validator that does not host a cell still checks that its
 * group certified that block. The value id is the snapshot's L0 hash, so the
 * decision's commit certificate is exactly the one L0 checks; the
 * certificates are proofs beside it (any valid set proves the same
 * snapshot). A channel with a token adds `token`: the certified head of the
 * token cell the snapshot's `token.stateRoot` is taken at (its height, hash,
 * state root, and its commit certificate when it moved since the last
 * snapshot), checked like a cell's head against the token's group, so every
 * validator of the snapshot group agrees on the token root at a certified
 * height, whichever token height it has reached itself. Pure except for what
 * the host's ports report.
 */
import type { Json } from "../../core/canonical.js";
import type { ChannelPlan } from "../../definition/plan.js";
import { genesisCellChain, verifyCertificate, type Application, type CommitCertificate, type SignatureVerifier, type ValidatorSet } from "../../consensus/index.js";
import { stateRootOf } from "../../cells/index.js";
import { ENCODING_V1, GENESIS_HASH, recordHash, SNAPSHOT_CELL, type Snapshot, type SnapshotCell } from "../../l0/index.js";
import { checkSubmissionShape } from "../../l0/shapes.js";

/** The chain state of the pseudo-cell: the last decided snapshot. */
export interface SnapshotChainState {
  height: number;
  /** The last snapshot's hash (GENESIS_HASH before the first). */
  hash: string;
  /** Its cells (null before the first). */
  cells: Record<string, SnapshotCell> | null;
  /** The token head it names (null before the first, or for a channel without a token). */
  token?: SnapshotCell | null;
}

/** The token head a snapshot value names, with its certificate when it moved since the last snapshot. */
export interface SnapshotTokenHead extends SnapshotCell {
  certificate: CommitCertificate | null;
}

/** The value the snapshot group decides. */
export interface SnapshotValue {
  snapshot: Snapshot;
  /** The head block's commit certificate of every cell above height 0 (null at height 0). */
  certificates: Record<string, CommitCertificate | null>;
  /** For a channel with a token: the token head whose state root `snapshot.token` carries. */
  token?: SnapshotTokenHead;
}

/** A certified head of a cell, as this node knows it. */
export interface CertifiedHead {
  height: number;
  hash: string;
  stateRoot: string;
  certificate: CommitCertificate | null;
}

/** What the host tells the application. */
export interface SnapshotPorts {
  /** The freshest certified head this node knows of each cell (its ledger's, or one gossiped by the cell's validators). */
  heads(): Readonly<Record<string, CertifiedHead | undefined>>;
  /** The hash and state root of block `height` of `cell` when this node's ledger holds it. */
  local(cell: string, height: number): { hash: string; stateRoot: string } | undefined;
  /** The definition in force at snapshot `height` (the plan's hash; an upgrade's from the snapshot height L0 scheduled it at). */
  definitionHash(height: number): string;
  /**
   * The highest cell head snapshot `height` may name: the block before the
   * activation of a version L0 scheduled from a later snapshot (snapshot-versions.ts);
   * undefined when none is ahead.
   */
  headCap?(height: number): number | undefined;
  /** The certified head of `cell` at exactly `height`, when this node holds it (its ledger's block, or a boundary head announced). */
  headAt?(cell: string, height: number): CertifiedHead | undefined;
  /** Whether `hash` is one of the channel's versions (a certified snapshot caught up later may name one this node has not seen scheduled). */
  isDefinition?(hash: string): boolean;
  /** The token's state root at genesis, or null for a channel without a token. */
  tokenGenesisRoot(): string | null;
}

/** The cell name of the token's head among the heads (the built-in cell). */
export const TOKEN_HEAD = "token";

/** The state root of a cell before its first block (64 hex). */
export const EMPTY_STATE_ROOT = stateRootOf(genesisCellChain().cell);

export const GENESIS_SNAPSHOT_STATE: SnapshotChainState = Object.freeze({ height: 0, hash: GENESIS_HASH, cells: null });

/** The head every cell has before its first block. */
export function genesisHead(): SnapshotCell {
  return { height: 0, hash: GENESIS_HASH, stateRoot: EMPTY_STATE_ROOT };
}

/** The L0 hash of a snapshot record (throws on a record it cannot hash). */
export function snapshotHash(snapshot: Snapshot): string {
  return recordHash("snapshot", snapshot);
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Why `value` is not a valid snapshot after `state` at consensus `height`
 * (or undefined when it is). Checks the record's shape (as L0 does), its
 * channel, height, link, definition and token, that no cell goes back, and
 * each changed head's certificate against the cell's group; where this node
 * holds the block, its hash and state root too.
 */
export function snapshotProblem(
  plan: ChannelPlan,
  sets: Readonly<Record<string, ValidatorSet>>,
  verifier: SignatureVerifier,
  ports: Pick<SnapshotPorts, "local" | "definitionHash" | "tokenGenesisRoot" | "headCap" | "isDefinition">,
  state: SnapshotChainState,
  height: number,
  prevHash: string,
  value: unknown,
  // A certified snapshot caught up later is judged the same way: its token head is checked against the token
  // group's certificate and the previous snapshot, never against the token height this node has reached. Its
  // definition and head cap come from the schedule its quorum knew, which this node may not have learnt yet:
  // any of the channel's versions is taken on the quorum's word.
  certified = false,
): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "the value is not an object";
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v).sort();
  const withToken = plan.token !== undefined;
  if (withToken ? keys.length !== 3 || keys[0] !== "certificates" || keys[1] !== "snapshot" || keys[2] !== "token" : keys.length !== 2 || keys[0] !== "certificates" || keys[1] !== "snapshot") {
    return withToken ? "the value is { snapshot, certificates, token }" : "the value is { snapshot, certificates }";
  }
  const shape = checkSubmissionShape({ snapshot: v.snapshot, hash: GENESIS_HASH, certificate: null });
  if (!shape.ok) return `the snapshot: ${shape.refusal.message}`;
  const s = v.snapshot as Snapshot;
  if (s.encoding !== ENCODING_V1) return `encoding ${s.encoding} is not ${ENCODING_V1}`;
  if (s.channel !== plan.channel) return `channel ${s.channel} is not ${plan.channel}`;
  if (s.height !== height) return `height ${s.height} is not ${height}`;
  if (s.prevHash !== prevHash) return `prevHash ${s.prevHash.slice(0, 12)} is not ${prevHash.slice(0, 12)}`;
  const def = ports.definitionHash(height);
  if (s.definitionHash !== def && !(certified && ports.isDefinition?.(s.definitionHash) === true)) return `definitionHash ${s.definitionHash.slice(0, 12)} is not the definition in force, ${def.slice(0, 12)}`;
  const cap = certified ? undefined : ports.headCap?.(height);
  const tokenProblem = withToken ? tokenHeadProblem(plan, sets, verifier, ports, state, s, v.token) : s.token === null ? undefined : "a channel without a token carries no token state";
  if (tokenProblem !== undefined) return tokenProblem;
  const certs = v.certificates;
  if (typeof certs !== "object" || certs === null || Array.isArray(certs)) return "certificates is an object";
  const names = Object.keys(plan.cells).sort();
  const given = Object.keys(s.cells).sort();
  if (given.length !== names.length || given.some((n, i) => n !== names[i])) return `the cells are not the channel's (${names.join(", ")})`;
  if (Object.keys(certs).length !== names.length || names.some((n) => !hasOwn.call(certs, n))) return "certificates name another set of cells";
  for (const name of names) {
    const c = s.cells[name];
    const before = state.cells?.[name] ?? genesisHead();
    if (c.height < before.height) return `cell ${name} goes back from height ${before.height} to ${c.height}`;
    if (cap !== undefined && c.height > cap && c.height > before.height) return `cell ${name} head ${c.height} is past block ${cap}, the last before the next version's activation, which L0 holds in force only from a later snapshot`;
    if (c.height === before.height) {
      if (c.hash !== before.hash || c.stateRoot !== before.stateRoot) return `cell ${name} at height ${c.height} differs from the previous snapshot`;
      continue;
    }
    const cert = (certs as Record<string, unknown>)[name];
    const check = verifyCertificate(sets[name], null, { channel: plan.channel, cell: name, height: c.height, valueId: c.hash }, cert, verifier);
    if (!check.ok) return `cell ${name} height ${c.height}: ${check.message}`;
    const mine = ports.local(name, c.height);
    if (mine !== undefined && (mine.hash !== c.hash || mine.stateRoot !== c.stateRoot)) return `cell ${name} height ${c.height}: this node holds hash ${mine.hash.slice(0, 12)} state root ${mine.stateRoot.slice(0, 12)}`;
  }
  return undefined;
}

/** The token head of the last snapshot (the genesis head before the first). */
function tokenBefore(state: SnapshotChainState, genesisRoot: string): SnapshotCell {
  return state.token ?? { height: 0, hash: GENESIS_HASH, stateRoot: genesisRoot };
}

/** Why the token head of a value is not one to sign (see snapshotProblem). */
function tokenHeadProblem(plan: ChannelPlan, sets: Readonly<Record<string, ValidatorSet>>, verifier: SignatureVerifier, ports: Pick<SnapshotPorts, "local" | "tokenGenesisRoot">, state: SnapshotChainState, s: Snapshot, raw: unknown): string | undefined {
  const genesisRoot = ports.tokenGenesisRoot();
  if (genesisRoot === null) return "this node knows no token genesis for the channel";
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "the token head is { height, hash, stateRoot, certificate }";
  const t = raw as Record<string, unknown>;
  const tk = Object.keys(t).sort();
  if (tk.length !== 4 || tk[0] !== "certificate" || tk[1] !== "hash" || tk[2] !== "height" || tk[3] !== "stateRoot") return "the token head is { height, hash, stateRoot, certificate }";
  if (!Number.isSafeInteger(t.height) || typeof t.hash !== "string" || typeof t.stateRoot !== "string") return "the token head's height, hash or state root is of the wrong form";
  if (s.token === null || s.token.stateRoot !== t.stateRoot) return "the snapshot's token state root is not the token head's";
  const before = tokenBefore(state, genesisRoot);
  const h = t.height as number;
  if (h < before.height) return `the token goes back from height ${before.height} to ${h}`;
  if (h === before.height) {
    if (t.hash !== before.hash || t.stateRoot !== before.stateRoot) return `the token at height ${h} differs from the previous snapshot's`;
    return t.certificate === null ? undefined : "an unchanged token head carries no certificate";
  }
  const set = sets[TOKEN_HEAD];
  if (set === undefined) return "this node knows no validator set of the token's group";
  const check = verifyCertificate(set, null, { channel: plan.channel, cell: TOKEN_HEAD, height: h, valueId: t.hash }, t.certificate, verifier);
  if (!check.ok) return `the token head at height ${h}: ${check.message}`;
  const mine = ports.local(TOKEN_HEAD, h);
  if (mine !== undefined && (mine.hash !== t.hash || mine.stateRoot !== t.stateRoot)) return `the token at height ${h}: this node holds hash ${mine.hash.slice(0, 12)} state root ${mine.stateRoot.slice(0, 12)}`;
  return undefined;
}

/**
 * The Application of the pseudo-cell "snapshots" of `plan`. `sets` are the
 * validator sets of every cell (by cell name).
 */
export function snapshotApplication(plan: ChannelPlan, sets: Readonly<Record<string, ValidatorSet>>, verifier: SignatureVerifier, ports: SnapshotPorts): Application<SnapshotChainState> {
  const ids = new WeakMap<object, string>();
  return {
    buildValue({ height, prevHash, state }) {
      const heads = ports.heads();
      const cells: Record<string, SnapshotCell> = {};
      const certificates: Record<string, CommitCertificate | null> = {};
      const cap = ports.headCap?.(height);
      for (const name of Object.keys(plan.cells).sort()) {
        const before = state.cells?.[name] ?? genesisHead();
        // Below the snapshot that names the next version, a cell further on is named at the block before its activation.
        const fresh = heads[name];
        const h = cap !== undefined && fresh !== undefined && fresh.height > cap ? ports.headAt?.(name, cap) : fresh;
        if (h !== undefined && h.height > before.height && h.certificate !== null) {
          cells[name] = { height: h.height, hash: h.hash, stateRoot: h.stateRoot };
          certificates[name] = h.certificate;
        } else {
          cells[name] = before;
          // The previous snapshot's head is not re-proved (it cannot change), except at height 0 where there is nothing to prove.
          certificates[name] = null;
        }
      }
      const genesisRoot = ports.tokenGenesisRoot();
      if (plan.token === undefined || genesisRoot === null) {
        const snapshot: Snapshot = { type: "snapshot", encoding: ENCODING_V1, channel: plan.channel, definitionHash: ports.definitionHash(height), height, prevHash, cells, token: null };
        return { snapshot, certificates } as unknown as Json;
      }
      const before = tokenBefore(state, genesisRoot);
      const th = heads[TOKEN_HEAD];
      const token: SnapshotTokenHead = th !== undefined && th.height > before.height && th.certificate !== null ? { height: th.height, hash: th.hash, stateRoot: th.stateRoot, certificate: th.certificate } : { ...before, certificate: null };
      const snapshot: Snapshot = { type: "snapshot", encoding: ENCODING_V1, channel: plan.channel, definitionHash: ports.definitionHash(height), height, prevHash, cells, token: { stateRoot: token.stateRoot } };
      return { snapshot, certificates, token } as unknown as Json;
    },
    validateValue(ctx, value) {
      try {
        return snapshotProblem(plan, sets, verifier, ports, ctx.state, ctx.height, ctx.prevHash, value, ctx.certified === true) === undefined;
      } catch {
        return false;
      }
    },
    valueId(value) {
      const key = typeof value === "object" && value !== null ? value : undefined;
      const known = key && ids.get(key);
      if (known) return known;
      const id = snapshotHash((value as unknown as SnapshotValue).snapshot);
      if (key) ids.set(key, id);
      return id;
    },
    applyValue(_state, value) {
      return snapshotStateOf(value as unknown as SnapshotValue);
    },
  };
}

/** The chain state after a decided snapshot value (also what a restarted host reads back from its store). */
export function snapshotStateOf(v: SnapshotValue): SnapshotChainState {
  const s = v.snapshot;
  const t = v.token;
  return { height: s.height, hash: snapshotHash(s), cells: s.cells, token: t === undefined ? null : { height: t.height, hash: t.hash, stateRoot: t.stateRoot } };
}

/** The consensus cell name of snapshots (the certificate L0 checks names it). */
export { SNAPSHOT_CELL };
