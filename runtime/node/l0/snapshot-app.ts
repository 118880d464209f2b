/**
 * The snapshot group's replicated application: consensus on the pseudo-cell
 * "snapshots" of a channel decides one L0 snapshot per height (docs/l0.md,
 * "Snapshot"). The value is `{ snapshot, certificates }`: the snapshot record
 * L0 receives, and for every cell the commit certificate of the head block it
 * names, so a validator that does not host a cell still checks that its
 * group certified that block. The value id is the snapshot's L0 hash, so the
 * decision's commit certificate is exactly the one L0 checks; the
 * certificates are proofs beside it (any valid set proves the same
 * snapshot). Pure except for what the host's ports report.
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
}

/** The value the snapshot group decides. */
export interface SnapshotValue {
  snapshot: Snapshot;
  /** The head block's commit certificate of every cell above height 0 (null at height 0). */
  certificates: Record<string, CommitCertificate | null>;
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
  /** The definition in force at snapshot `height` (the plan's hash; an upgrade's from its height). */
  definitionHash(height: number): string;
  /** The token slot: the token state root once the channel has a token engine (null until then). */
  token(): { stateRoot: string } | null;
}

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
  ports: Pick<SnapshotPorts, "local" | "definitionHash" | "token">,
  state: SnapshotChainState,
  height: number,
  prevHash: string,
  value: unknown,
  certified = false,
): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "the value is not an object";
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v).sort();
  if (keys.length !== 2 || keys[0] !== "certificates" || keys[1] !== "snapshot") return "the value is { snapshot, certificates }";
  const shape = checkSubmissionShape({ snapshot: v.snapshot, hash: GENESIS_HASH, certificate: null });
  if (!shape.ok) return `the snapshot: ${shape.refusal.message}`;
  const s = v.snapshot as Snapshot;
  if (s.encoding !== ENCODING_V1) return `encoding ${s.encoding} is not ${ENCODING_V1}`;
  if (s.channel !== plan.channel) return `channel ${s.channel} is not ${plan.channel}`;
  if (s.height !== height) return `height ${s.height} is not ${height}`;
  if (s.prevHash !== prevHash) return `prevHash ${s.prevHash.slice(0, 12)} is not ${prevHash.slice(0, 12)}`;
  const def = ports.definitionHash(height);
  if (s.definitionHash !== def) return `definitionHash ${s.definitionHash.slice(0, 12)} is not the definition in force, ${def.slice(0, 12)}`;
  // The token root this node holds now: a certified snapshot caught up later may name an older one, on the quorum's word.
  const token = ports.token();
  if (!certified && ((token === null) !== (s.token === null) || (token !== null && s.token!.stateRoot !== token.stateRoot))) return "the token state is not this node's";
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
      for (const name of Object.keys(plan.cells).sort()) {
        const before = state.cells?.[name] ?? genesisHead();
        const h = heads[name];
        if (h !== undefined && h.height > before.height && h.certificate !== null) {
          cells[name] = { height: h.height, hash: h.hash, stateRoot: h.stateRoot };
          certificates[name] = h.certificate;
        } else {
          cells[name] = before;
          // The previous snapshot's head is not re-proved (it cannot change), except at height 0 where there is nothing to prove.
          certificates[name] = null;
        }
      }
      const snapshot: Snapshot = { type: "snapshot", encoding: ENCODING_V1, channel: plan.channel, definitionHash: ports.definitionHash(height), height, prevHash, cells, token: ports.token() };
      return { snapshot, certificates } as unknown as Json;
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
      const s = (value as unknown as SnapshotValue).snapshot;
      return { height: s.height, hash: snapshotHash(s), cells: s.cells };
    },
  };
}

/** The consensus cell name of snapshots (the certificate L0 checks names it). */
export { SNAPSHOT_CELL };
