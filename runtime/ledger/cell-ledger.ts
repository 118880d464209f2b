/**
 * The ledger of one (channel, cell): its chain of certified blocks, head,
 * records, state snapshots, and the stores consensus needs (signer, WAL,
 * evidence) and the mempool. A block's commit writes everything the block
 * changes in ONE transaction (docs/ledger.md, "One transaction per block"):
 * after a crash the ledger holds the block with all its rows, or none of it.
 */
import type Database from "better-sqlite3";
import type { Json } from "../core/canonical.js";
import { commitmentOf, recordsSince, stateRootOf, userStateText, type Verdict } from "../cells/index.js";
import { GENESIS_HASH, type Application, type CellBlockValue, type CellChainState, type CertifiedBlock, type CommitCertificate } from "../consensus/index.js";
import { EvidenceStore, SqliteSignerStore, SqliteWal } from "./consensus-stores.js";
import type { Durability } from "./durability.js";
import { clip, ledgerError, rowLimit } from "./errors.js";
import { inputId } from "./input-id.js";
import { Mempool, type PoolLimits } from "./mempool.js";
import { outboxRow } from "./outbox.js";
import { restoreChainState, startPointAfter, type CellRestart } from "./restore.js";
import type { BlockRow, CellRow, Statements } from "./statements.js";
import type { AccountEvent, BlockCommit, CommitResult, LedgerHead, RestorePoint, StoredBlock } from "./types.js";

const HEX64 = /^[0-9a-f]{64}$/;

/** When a state snapshot is stored (docs/ledger.md, "Snapshots"). */
export interface SnapshotPolicy {
  maxBytes: number;
  every: number;
}

/** What every chain state the ledger stores has: its height, time and root (a block's `stateRoot`). */
export interface ChainBase {
  height: number;
  time: number;
  stateRoot: string;
}

/**
 * How one cell's chain state is stored and rebuilt: the explicit codec of its
 * state snapshots (docs/ledger.md, "State codecs"). A commit checks that the
 * root recomputed from the state is the block's; a restart decodes the latest
 * snapshot, checks it recomputes to the stored root, and replays the blocks
 * after it. The cells' codec is the default; the token cell has its own
 * (runtime/node/token-host.ts), so the ledger needs nothing of the token.
 */
export interface ChainCodec<S extends ChainBase> {
  /** The root recomputed from the state's content (never a stored copy). */
  root(state: S): string;
  /** Records the state holds, and those after the first `from` (write-once records; a state without any: 0 and []). */
  recordCount(state: S): number;
  recordsSince(state: S, from: number): Array<[string, Json]>;
  /** The snapshot's text of the state, records excluded. */
  encode(state: S): string;
  /** The chain state at the head of `point`: the snapshot decoded and checked, then its blocks applied with `app`. */
  restore(point: RestorePoint, app: Pick<Application<S>, "applyValue">): S;
}

/** The codec of ordinary cells: the cells module's state, its records and its state root. */
export const CELL_CODEC: ChainCodec<CellChainState> = {
  root: (state) => stateRootOf(state.cell),
  recordCount: (state) => commitmentOf(state.cell).recordCount,
  recordsSince: (state, from) => recordsSince(state.cell, from),
  encode: (state) => userStateText(state.cell),
  restore: (point, app) => restoreChainState(point, app),
};

function headOf(row: CellRow): LedgerHead {
  return { height: row.head_height, hash: row.head_hash, stateRoot: row.head_state_root, time: row.head_time, recordCount: row.record_count };
}

function blockOf(row: BlockRow): CertifiedBlock {
  return { height: row.height, value: JSON.parse(row.value) as Json, certificate: JSON.parse(row.certificate) as CommitCertificate };
}

/** A settled input of a block, as the status index stores it. */
interface Settled {
  id: string;
  status: "committed" | "rejected";
  code: string | null;
  rule: string | null;
  message: string | null;
}

/**
 * The ledger of one (channel, cell). Get it with `ledger.cell(channel, cell)`
 * (a cell of the channel's pipeline) or `ledger.chain(channel, cell, codec)`
 * (a chain with its own state codec: the token cell).
 */
export class CellLedger<S extends ChainBase = CellChainState> {
  /** The signer guard's durable record (consensus `SignerStore`). */
  readonly signer: SqliteSignerStore;
  /** This height's consensus events (consensus `Wal`). */
  readonly wal: SqliteWal;
  /** Evidence of equivocation by the group's validators. */
  readonly evidence: EvidenceStore;
  /** Admitted inputs waiting for a block. */
  readonly mempool: Mempool;
  private readonly where: string;
  private readonly commitTx: Database.Transaction<(prepared: Prepared<S>) => CommitResult>;
  /** How this chain's state is stored (set by the first `ledger.chain` for it; the cells' otherwise). */
  codec: ChainCodec<S>;

  constructor(
    private readonly db: Database.Database,
    private readonly s: Statements,
    durability: Durability,
    private readonly cellId: number,
    readonly channel: string,
    readonly cell: string,
    pool: PoolLimits,
    private readonly snapshots: SnapshotPolicy,
    codec?: ChainCodec<S>,
  ) {
    this.codec = codec ?? (CELL_CODEC as unknown as ChainCodec<S>);
    this.where = `${channel}/${cell}`;
    this.signer = new SqliteSignerStore(db, s, cellId, this.where);
    this.wal = new SqliteWal(s, durability, cellId);
    this.evidence = new EvidenceStore(s, cellId);
    this.mempool = new Mempool(db, s, durability, cellId, pool, { channel, cell });
    this.commitTx = db.transaction((p: Prepared<S>) => this.write(p));
  }

  /** The head: the newest committed block (height 0 before the first). */
  head(): LedgerHead {
    return headOf(this.s.cellById.get(this.cellId)!);
  }

  /**
   * Stores a decided block and everything it changes in one transaction:
   * the block with its certificate and full verdicts, the records it added,
   * the head, a state snapshot when due, the status of each of its inputs
   * (pending ones leave the mempool), its outbox rows, and the WAL below the
   * next height. Committing the block already stored at its height is a
   * no-op (`already: true`).
   * @throws StatecellError LEDGER_BAD_BLOCK, LEDGER_BAD_OUTBOX, LEDGER_STATE_MISMATCH, LEDGER_NOT_NEXT, LEDGER_FORK (nothing is written)
   */
  commit(c: BlockCommit<S>): CommitResult {
    const p = this.prepare(c);
    const result = this.commitTx.immediate(p);
    if (!result.already) this.mempool.settled(p.settled.map((x) => x.id));
    return result;
  }

  /** The block at `height` with its verdicts, or null. */
  block(height: number): StoredBlock | null {
    const row = this.s.blockAt.get(this.cellId, height);
    if (row === undefined) return null;
    return { block: blockOf(row), verdicts: row.verdicts === null ? null : (JSON.parse(row.verdicts) as Verdict[]) };
  }

  /**
   * Certified blocks from `fromHeight` on, in order, at most `max` (catch-up
   * responses; the caller bounds `max`, e.g. by the catch-up message's limit).
   */
  blocks(fromHeight: number, max: number): CertifiedBlock[] {
    const n = rowLimit(max, Number.MAX_SAFE_INTEGER);
    if (n === 0 || !Number.isSafeInteger(fromHeight)) return [];
    return this.s.blocksFrom.all(this.cellId, fromHeight, n).map(blockOf);
  }

  /**
   * What a restarted node needs to rebuild the cell's state: the latest
   * snapshot's user fields with the records it had, and the blocks after it
   * (re-execute them with `restoreChainState`). Read in one transaction.
   */
  restorePoint(): RestorePoint {
    return this.db.transaction((): RestorePoint => {
      const head = this.head();
      const snap = this.s.snapshotOf.get(this.cellId);
      const snapshot = snap === undefined ? { height: 0, time: 0, stateRoot: "", recordCount: 0 } : { height: snap.height, time: snap.time, stateRoot: snap.state_root, recordCount: snap.record_count };
      const records = this.s.recordsBelow.all(this.cellId, snapshot.recordCount).map((r): [string, Json] => [r.key, JSON.parse(r.value) as Json]);
      const text = snap === undefined ? null : snap.user;
      const user = text === null ? {} : (JSON.parse(text) as Record<string, Json>);
      const blocks = this.blocks(snapshot.height + 1, Math.max(0, head.height - snapshot.height));
      // The chain's outputs counts at the snapshot are in that block's value.
      const at = snapshot.height > 0 ? (this.blocks(snapshot.height, 1)[0]?.value as Partial<CellBlockValue> | undefined) : undefined;
      const counts: RestorePoint["counts"] = { sent: { ...(at?.sent ?? {}) }, received: { ...(at?.received ?? {}) } };
      // A cell that reads the token: the next block may not read an older token head than this one did.
      if (at?.token !== undefined) counts.token = { height: at.token.height, root: at.token.root };
      return { head, snapshot, encoded: { user, records }, text, counts, blocks };
    })();
  }

  /**
   * Everything a restarted node needs for this cell: the chain state at the
   * head (restorePoint + restoreChainState with `app`), the consensus start
   * point after it (with the signer's record) and the WAL of that height.
   */
  restart(app: Pick<Application<S>, "applyValue">): CellRestart<S> {
    const point = this.restorePoint();
    const chain = this.codec.restore(point, app);
    const start = startPointAfter(point, chain, this.signer.load());
    return { chain, start, wal: this.wal.entries(start.height) };
  }

  /**
   * An account's history, newest first: at most `limit` events before the
   * position (`before.height`, `before.seq`), e.g. the token's Transfer and
   * Approval events of one account. `limit` is bounded by the caller.
   */
  accountEvents(account: string, limit: number, before?: { height: number; seq: number }): AccountEvent[] {
    const n = rowLimit(limit, 10_000);
    if (n === 0) return [];
    const h = before?.height ?? Number.MAX_SAFE_INTEGER;
    const q = before?.seq ?? Number.MAX_SAFE_INTEGER;
    return this.s.accountEvents.all(this.cellId, account, h, h, q, n).map((r) => ({ height: r.height, seq: r.seq, event: JSON.parse(r.event) as Json }));
  }

  /** Checks and serializes a commit before the transaction (no I/O). */
  private prepare(c: BlockCommit<S>): Prepared<S> {
    const { block, state } = c;
    const bad = (why: string): never => {
      throw ledgerError("LEDGER_BAD_BLOCK", `${this.where}: the block to commit ${why}`, "commit the block of a decide effect unchanged, with the chain state applyValue returned for it", {
        channel: this.channel,
        cell: this.cell,
      });
    };
    if (typeof block !== "object" || block === null || !Number.isSafeInteger(block.height) || block.height < 1) bad("has no height of 1 or more");
    const v = block.value as unknown as Partial<CellBlockValue> | null;
    if (typeof v !== "object" || v === null || Array.isArray(v)) bad("has a value that is not a cell block object");
    if (v!.height !== block.height) bad(`has the value of height ${String(v!.height)} at height ${block.height}`);
    if (typeof v!.prevHash !== "string" || !Number.isSafeInteger(v!.time) || typeof v!.stateRoot !== "string") bad("has a value without prevHash, time or stateRoot");
    if (!Array.isArray(v!.inputs) || !Array.isArray(v!.verdicts) || v!.inputs.length !== v!.verdicts.length) bad("has a value whose inputs and verdicts are not two lists of one length");
    const cert = block.certificate as Partial<CommitCertificate> | null;
    if (typeof cert !== "object" || cert === null || cert.channel !== this.channel || cert.cell !== this.cell || cert.height !== block.height) {
      bad(`has a certificate that is not for ${this.where} at height ${block.height}`);
    }
    if (typeof cert!.valueId !== "string" || !HEX64.test(cert!.valueId)) bad("has a certificate whose valueId is not 64 lowercase hex characters");
    if (c.verdicts !== undefined && c.verdicts.length !== v!.inputs!.length) bad(`comes with ${c.verdicts.length} verdicts for ${v!.inputs!.length} inputs`);
    const value = v as CellBlockValue;

    const mismatch = (why: string, payload: Record<string, unknown>): never => {
      throw ledgerError("LEDGER_STATE_MISMATCH", `${this.where}, height ${block.height}: the chain state given with the block ${why}`, "pass the state app.applyValue returned for this very block", payload);
    };
    if (typeof state !== "object" || state === null || state.height !== block.height) mismatch(`is at height ${String(state?.height)}`, { height: state?.height });
    if (state.stateRoot !== value.stateRoot) mismatch(`has the state root ${clip(state.stateRoot, 16)}, not the block's ${clip(value.stateRoot, 16)}`, { expected: value.stateRoot, actual: state.stateRoot });
    const root = this.codec.root(state);
    if (root !== value.stateRoot) mismatch(`holds a cell state whose root is ${clip(root, 16)}, not the block's ${clip(value.stateRoot, 16)}`, { expected: value.stateRoot, actual: root });

    const settled = value.inputs.map((input, i): Settled => {
      const full = c.verdicts?.[i];
      const verdict = (full ?? value.verdicts[i]) as Verdict | { accepted: false; code: string; rule?: string };
      const id = inputId(input);
      if (verdict.accepted) return { id, status: "committed", code: null, rule: null, message: null };
      const message = full !== undefined && !full.accepted ? full.message : null;
      return { id, status: "rejected", code: String(verdict.code), rule: verdict.rule ?? null, message };
    });
    const outbox = (c.outbox ?? []).map(outboxRow);
    const accounts = (c.accounts ?? []).map((a): readonly [string, number, string] => {
      if (typeof a.account !== "string" || a.account.length === 0 || a.account.length > 256 || !Number.isSafeInteger(a.seq) || a.seq < 0) bad("comes with an account event without an account or a position");
      return [a.account, a.seq, JSON.stringify(a.event)];
    });
    return {
      block,
      value,
      state,
      recordCount: this.codec.recordCount(state),
      valueId: cert!.valueId!,
      valueText: JSON.stringify(block.value),
      certText: JSON.stringify(block.certificate),
      verdictsText: c.verdicts === undefined ? null : JSON.stringify(c.verdicts),
      settled,
      outbox,
      accounts,
    };
  }

  /** The transaction of a commit. */
  private write(p: Prepared<S>): CommitResult {
    const { s, cellId } = this;
    const height = p.block.height;
    const row = s.cellById.get(cellId)!;
    if (height <= row.head_height) {
      const stored = s.blockIdAt.get(cellId, height);
      if (stored === p.valueId) return { height, hash: p.valueId, already: true, records: 0, snapshot: false };
      throw ledgerError("LEDGER_FORK", `${this.where}: height ${height} already holds the block ${clip(String(stored), 16)}, and this is another, ${clip(p.valueId, 16)}`, "stop this node: two blocks of one height were certified for it, or it is fed blocks of another chain. Keep both certificates as evidence; check the group's validator keys and channel definition", {
        height,
        stored,
        given: p.valueId,
      });
    }
    if (height !== row.head_height + 1 || p.value.prevHash !== row.head_hash) {
      throw ledgerError(
        "LEDGER_NOT_NEXT",
        height !== row.head_height + 1
          ? `${this.where}: the block is at height ${height}, but the head is at ${row.head_height}; blocks are committed one height after the other`
          : `${this.where}: the block at height ${height} follows ${clip(p.value.prevHash, 16)}, but the head is ${clip(row.head_hash, 16)}`,
        `commit height ${row.head_height + 1}, the block that follows the head (catch up the blocks in between first)`,
        { height, head: row.head_height, prevHash: p.value.prevHash, headHash: row.head_hash },
      );
    }
    s.insertBlock.run(cellId, height, p.valueId, p.value.prevHash, p.value.time, p.value.stateRoot, p.valueText, p.certText, p.verdictsText);

    // Records: what the block appended, at the positions after the head's.
    const added = this.codec.recordsSince(p.state, row.record_count);
    if (row.record_count + added.length !== p.recordCount) {
      throw ledgerError("LEDGER_STATE_MISMATCH", `${this.where}, height ${height}: the state holds ${p.recordCount} records, but the ledger has ${row.record_count} and the block adds ${added.length}`, "pass the state app.applyValue returned for this block, applied to the ledger's head state", { stored: row.record_count, state: p.recordCount });
    }
    for (let i = 0; i < added.length; i++) s.insertRecord.run(cellId, row.record_count + i, added[i][0], JSON.stringify(added[i][1]), height);

    // Inputs: pending ones leave the pool (their rows now, the pool's counts once the transaction committed);
    // every input of the block gets its status row. An input twice in one block keeps its first place (the
    // second insert finds the row).
    for (let i = 0; i < p.settled.length; i++) {
      const x = p.settled[i];
      const pending = this.mempool.pendingEntry(x.id);
      if (pending !== undefined) {
        s.deletePending.run(pending.seq);
        s.settlePending.run(x.id, cellId, x.status, pending.bytes, pending.received, height, i, x.code, x.rule, x.message);
      } else s.settleFromBlock.run(x.id, cellId, x.status, null, height, i, x.code, x.rule, x.message);
    }
    s.setHead.run(height, p.valueId, p.value.stateRoot, p.value.time, p.recordCount, cellId);

    // A snapshot at every commit while the state is small, else every `every` blocks.
    const last = s.snapshotSize.get(cellId);
    const due = last === undefined || last.bytes <= this.snapshots.maxBytes || height - last.height >= this.snapshots.every;
    if (due) {
      const user = this.codec.encode(p.state);
      s.putSnapshot.run(cellId, height, p.value.time, p.value.stateRoot, p.recordCount, Buffer.byteLength(user, "utf8"), user);
    }
    for (const [key, target, kind, payload] of p.outbox) s.enqueue.run(key, target, kind, payload, cellId, height);
    for (const [account, seq, event] of p.accounts) s.insertAccountEvent.run(cellId, account, height, seq, event);
    s.walTruncate.run(cellId, height + 1);
    return { height, hash: p.valueId, already: false, records: added.length, snapshot: due };
  }
}

/** A commit checked and serialized, ready for its transaction. */
interface Prepared<S> {
  block: CertifiedBlock;
  value: CellBlockValue;
  state: S;
  recordCount: number;
  valueId: string;
  valueText: string;
  certText: string;
  verdictsText: string | null;
  settled: Settled[];
  outbox: ReadonlyArray<readonly [string, string, string, string]>;
  accounts: ReadonlyArray<readonly [string, number, string]>;
}

/** The head of a cell that has no block yet. */
export const GENESIS_HEAD: LedgerHead = Object.freeze({ height: 0, hash: GENESIS_HASH, stateRoot: "", time: 0, recordCount: 0 });
