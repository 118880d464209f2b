/**
 * Opening a node's ledger: one SQLite file per node, every channel and cell
 * it hosts in it. The connection runs in WAL journal mode with
 * synchronous=FULL (a transaction is on disk when it returns) and holds an
 * exclusive lock for as long as it is open: two processes writing one
 * ledger could both sign for the same validator, so a second opener gets
 * LEDGER_LOCKED instead (docs/ledger.md, "Opening").
 */
import Database from "better-sqlite3";
import { GENESIS_HASH } from "../consensus/index.js";
import { CellLedger, type ChainBase, type ChainCodec } from "./cell-ledger.js";
import { Durability } from "./durability.js";
import { clip, ledgerError } from "./errors.js";
import { Outbox } from "./outbox.js";
import { SnapshotChains } from "./snapshot-chain.js";
import { ChannelVersions } from "./channel-versions.js";
import { migrate, MIGRATIONS, type Migration } from "./schema.js";
import { prepareStatements, type Statements } from "./statements.js";
import { statusOf } from "./mempool.js";
import type { InputStatus, LedgerOptions } from "./types.js";
import { LedgerUsage } from "./usage.js";

const DEFAULTS = {
  snapshotMaxBytes: 65_536,
  snapshotEvery: 100,
  mempoolMaxInputs: 10_000,
  mempoolMaxBytes: 64 * 1024 * 1024,
  lockTimeoutMs: 1_000,
} satisfies Required<LedgerOptions>;

/** A node's open ledger. */
export interface Ledger {
  readonly path: string;
  /** The schema version of the open database. */
  readonly schemaVersion: number;
  /** The ledger of one (channel, cell), created empty on first use (same object on every call). */
  cell(channel: string, cell: string): CellLedger;
  /**
   * The ledger of a chain with its own state codec (the token cell): the same
   * object as `cell(channel, cell)`, storing its state through `codec`.
   */
  chain<S extends ChainBase>(channel: string, cell: string, codec: ChainCodec<S>): CellLedger<S>;
  /** Every (channel, cell) the ledger holds. */
  cells(): Array<{ channel: string; cell: string }>;
  /** The status of input `id` in every cell that saw it (usually one), for `GET /v1/inputs/{id}`. */
  inputStatus(id: string): InputStatus[];
  /** Rows to deliver, for every cell. */
  readonly outbox: Outbox;
  /** Channel snapshots, L0 registrations and acknowledgements (the channel side of L0). */
  readonly snapshots: SnapshotChains;
  /** The versions of each channel with their activation heights (upgrades at a height). */
  readonly versions: ChannelVersions;
  /** Bytes of the channel's blocks and records in this ledger (runtime/ledger/usage.ts; the node's ledger quota reads it). */
  channelBytes(channel: string): number;
  /** Closes the database (and releases its lock); the ledger cannot be used after. */
  close(): void;
}

function positive(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw ledgerError("LEDGER_BAD_OPTION", `the ledger option ${name} is ${String(v)}; it is a whole number of 1 or more`, `give ${name} a whole number of 1 or more, or leave it out for the default`, { option: name });
  }
  return v;
}

/**
 * Opens (creating if needed) the ledger at `path`, applies the migrations
 * it lacks and takes its lock. ":memory:" gives a ledger in memory (tests).
 * `migrations` is for tests of the upgrade path only.
 * @throws StatecellError LEDGER_OPEN_FAILED, LEDGER_LOCKED, LEDGER_TOO_NEW, LEDGER_BAD_OPTION
 */
export function openLedger(path: string, opts: LedgerOptions = {}, migrations: readonly Migration[] = MIGRATIONS): Ledger {
  const o = { ...DEFAULTS, ...opts };
  for (const k of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) positive(k, o[k]);
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: o.lockTimeoutMs });
  } catch (e) {
    throw ledgerError("LEDGER_OPEN_FAILED", `the ledger ${clip(path, 200)} cannot be opened: ${(e as Error).message}`, "give a path in a folder that exists and this process may write", { path }, e);
  }
  try {
    // Exclusive before WAL: the WAL index then lives in this process's memory, and the lock is held until close.
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.exec("BEGIN EXCLUSIVE; COMMIT");
    migrate(db, migrations, path);
  } catch (e) {
    db.close();
    const code = (e as { code?: unknown }).code;
    if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
      throw ledgerError("LEDGER_LOCKED", `the ledger ${clip(path, 200)} is open in another process (it stayed locked for ${o.lockTimeoutMs} ms)`, "stop the other node using this ledger; two processes signing with one ledger could sign twice", { path }, e);
    }
    if (typeof code === "string" && code.startsWith("SQLITE_")) {
      throw ledgerError("LEDGER_OPEN_FAILED", `the ledger ${clip(path, 200)} cannot be opened: ${code}`, "check that the path is a statecell ledger (an SQLite file) and not damaged; restore it from a backup if it is", { path, sqlite: code }, e);
    }
    throw e;
  }
  return new SqliteLedger(db, path, o);
}

class SqliteLedger implements Ledger {
  readonly outbox: Outbox;
  readonly snapshots: SnapshotChains;
  readonly versions: ChannelVersions;
  readonly schemaVersion: number;
  private readonly s: Statements;
  private readonly durability: Durability;
  private readonly open = new Map<string, CellLedger>();
  private usage: LedgerUsage | undefined;

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly o: Required<LedgerOptions>,
  ) {
    this.s = prepareStatements(db);
    this.durability = new Durability(db);
    this.outbox = new Outbox(db, this.s);
    this.snapshots = new SnapshotChains(db);
    this.versions = new ChannelVersions(db);
    this.schemaVersion = db.prepare("SELECT max(version) FROM ledger_schema").pluck().get() as number;
  }

  cell(channel: string, cell: string): CellLedger {
    const key = JSON.stringify([channel, cell]);
    let c = this.open.get(key);
    if (c !== undefined) return c;
    if (typeof channel !== "string" || typeof cell !== "string" || channel.length === 0 || cell.length === 0) {
      throw ledgerError("LEDGER_BAD_OPTION", "a cell of the ledger is named by a channel and a cell, both non-empty text", "pass the channel's and the cell's names from the channel plan");
    }
    let row = this.s.cellByName.get(channel, cell);
    if (row === undefined) {
      this.s.insertCell.run(channel, cell, GENESIS_HASH);
      row = this.s.cellByName.get(channel, cell)!;
    }
    c = new CellLedger(this.db, this.s, this.durability, row.cell_id, channel, cell, { maxInputs: this.o.mempoolMaxInputs, maxBytes: this.o.mempoolMaxBytes }, { maxBytes: this.o.snapshotMaxBytes, every: this.o.snapshotEvery });
    this.open.set(key, c);
    return c;
  }

  chain<S extends ChainBase>(channel: string, cell: string, codec: ChainCodec<S>): CellLedger<S> {
    const c = this.cell(channel, cell) as unknown as CellLedger<S>;
    c.codec = codec;
    return c;
  }

  cells(): Array<{ channel: string; cell: string }> {
    return this.db.prepare<[], { channel: string; cell: string }>("SELECT channel, cell FROM cells ORDER BY channel, cell").all();
  }

  inputStatus(id: string): InputStatus[] {
    const out = this.s.statusesById.all(id).map(statusOf);
    // Pending rows: the open cells' pools answer from memory; only when some cell is not open here is the
    // (small, bounded) pending table scanned for the rest.
    for (const c of this.open.values()) {
      const p = c.mempool.pendingStatus(id);
      if (p !== null) out.push(p);
    }
    if (this.open.size < this.s.cellCount.get()!) {
      for (const r of this.s.pendingById.all(id)) if (!this.open.has(JSON.stringify([r.channel, r.cell]))) out.push(statusOf(r));
    }
    return out;
  }

  channelBytes(channel: string): number {
    this.usage ??= new LedgerUsage(this.db);
    return this.usage.bytes(channel);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
