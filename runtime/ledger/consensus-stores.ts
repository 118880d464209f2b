/**
 * The consensus module's `SignerStore` and `Wal` (runtime/consensus/storage.ts)
 * on SQLite, one of each per (channel, cell). The ledger runs with
 * synchronous=FULL, so a transaction is on disk when it returns: `save`
 * returns only once the record is durable, which is what lets the host send
 * the signed message right after it. SQLite's transactions make a torn
 * record impossible, so there is one row per cell, replaced in place.
 *
 * WAL entries are written without an fsync of their own (durability.ts):
 * the next signer record's fsync makes every entry before it durable, so
 * the messages a signed vote followed are on disk before that vote leaves,
 * and a kill -9 loses none of them.
 */
import type Database from "better-sqlite3";
import type { Evidence, SignedRecord, SignerStore, Wal, WalEntry } from "../consensus/index.js";
import { clip, ledgerError } from "./errors.js";
import type { Durability } from "./durability.js";
import type { Statements } from "./statements.js";

/** Position of a record in signing order. */
function compare(a: { height: number; round: number; step: number }, b: { height: number; round: number; step: number }): number {
  return a.height !== b.height ? a.height - b.height : a.round !== b.round ? a.round - b.round : a.step - b.step;
}

/** The signer guard's store of one cell: never goes back, never signs two values at one step. */
export class SqliteSignerStore implements SignerStore {
  private readonly write: Database.Transaction<(record: SignedRecord, text: string) => void>;

  constructor(
    db: Database.Database,
    private readonly s: Statements,
    private readonly cellId: number,
    private readonly where: string,
  ) {
    // Read, compare and write in one IMMEDIATE transaction: nothing can slip in between the check and the write.
    this.write = db.transaction((record: SignedRecord, text: string) => {
      const cur = s.signerOf.get(cellId);
      if (cur !== undefined) {
        const order = compare(record, cur);
        const what = `(height ${record.height}, round ${record.round}, step ${record.step})`;
        const stored = `(height ${cur.height}, round ${cur.round}, step ${cur.step})`;
        if (order < 0) {
          throw ledgerError("LEDGER_SIGNER_REGRESSION", `${where}: the signer record ${what} is before the stored ${stored}; the signer store never goes back`, "a node signs only above what it last signed: restart it from its ledger (signer.load()), never from an older copy", {
            record: { height: record.height, round: record.round, step: record.step },
            stored: { height: cur.height, round: cur.round, step: cur.step },
          });
        }
        if (order === 0) {
          if (cur.value_id === record.valueId) return; // the same signature again: nothing to write
          throw ledgerError(
            "LEDGER_SIGNER_CONFLICT",
            `${where}: a signer record for ${what} with value ${clip(String(record.valueId), 16)} would replace one for ${clip(String(cur.value_id), 16)}: two different signatures at one step`,
            "re-send the stored message (signer.load().message) instead of signing again at a step already signed",
            { height: record.height, round: record.round, step: record.step },
          );
        }
      }
      s.putSigner.run(cellId, record.height, record.round, record.step, record.valueId, text);
    });
  }

  /** The stored record, or null on a fresh node. */
  load(): SignedRecord | null {
    const row = this.s.signerOf.get(this.cellId);
    return row === undefined ? null : (JSON.parse(row.record) as SignedRecord);
  }

  /**
   * Durable when it returns (one transaction, synchronous=FULL).
   * @throws StatecellError LEDGER_BAD_RECORD, LEDGER_SIGNER_REGRESSION, LEDGER_SIGNER_CONFLICT
   */
  save(record: SignedRecord): void {
    const r = record as Partial<SignedRecord> | null;
    if (
      typeof r !== "object" ||
      r === null ||
      !Number.isSafeInteger(r.height) ||
      !Number.isSafeInteger(r.round) ||
      (r.step !== 0 && r.step !== 1 && r.step !== 2) ||
      (r.valueId !== null && typeof r.valueId !== "string") ||
      typeof r.message !== "object" ||
      r.message === null
    ) {
      throw ledgerError("LEDGER_BAD_RECORD", `${this.where}: a signer record is { height, round, step: 0|1|2, valueId, message }`, "save the record of a persist effect unchanged");
    }
    this.write.immediate(record, JSON.stringify(record));
  }
}

/** The consensus WAL of one cell: rows in write order, truncated when a block is committed. */
export class SqliteWal implements Wal {
  constructor(
    private readonly s: Statements,
    private readonly durability: Durability,
    private readonly cellId: number,
  ) {}

  /**
   * Stored when it returns (a kill -9 keeps it); on disk through a power cut
   * with the next fsynced write, a signer record or a block (durability.ts).
   */
  append(entry: WalEntry): void {
    const text = JSON.stringify(entry);
    this.durability.deferred(() => this.s.walAppend.run(this.cellId, entry.height, text));
  }

  entries(height: number): WalEntry[] {
    return this.s.walEntries.all(this.cellId, height).map((t) => JSON.parse(t) as WalEntry);
  }

  /** Drops entries below `height`; a block commit does the same in its own transaction. */
  truncateBelow(height: number): void {
    this.s.walTruncate.run(this.cellId, height);
  }
}

/** Evidence of one cell: both signed messages, kept once per (validator, height, round, type). */
export class EvidenceStore {
  constructor(
    private readonly s: Statements,
    private readonly cellId: number,
  ) {}

  /** Keeps `ev`; false when evidence for that (validator, height, round, type) was already kept. */
  add(ev: Evidence): boolean {
    return this.s.addEvidence.run(this.cellId, ev.validator, ev.height, ev.round, ev.type, ev.kind, JSON.stringify(ev.first), JSON.stringify(ev.second)).changes === 1;
  }

  /** Kept evidence in (height, round, validator, type) order. */
  list(limit = 1000): Evidence[] {
    return this.s.evidenceOf.all(this.cellId, limit).map((r) => ({
      kind: r.kind as Evidence["kind"],
      validator: r.validator,
      height: r.height,
      round: r.round,
      type: r.type as Evidence["type"],
      first: JSON.parse(r.first) as Evidence["first"],
      second: JSON.parse(r.second) as Evidence["second"],
    }));
  }
}
