/**
 * A channel's share of the node's ledger, in bytes: the text of its cells'
 * committed blocks (value, certificate, verdicts) and of their records (key
 * and value), what grows with its chain and stays. Pending submissions are
 * bounded by the mempool, the signer record and WAL by one height, so they
 * are left out. SQLite's own page overhead is not counted: the figure is the
 * channel's data, comparable between channels, not the file's size.
 *
 * Counted incrementally: each cell remembers the last height and record seq
 * it summed, and a reading adds the rows after them (primary-key ranges, so a
 * reading costs the rows written since the last one; the first reading of a
 * cell after a restart reads its whole chain once). Blocks and records are
 * never rewritten or deleted, so the sum only grows.
 */
import type Database from "better-sqlite3";

interface CellCount {
  cellId: number;
  height: number;
  recordSeq: number;
  bytes: number;
}

export class LedgerUsage {
  private readonly counts = new Map<number, CellCount>();
  private readonly cellsOf: Database.Statement<[string], { cell_id: number }>;
  private readonly blocksAfter: Database.Statement<[number, number], { h: number | null; b: number | null }>;
  private readonly recordsAfter: Database.Statement<[number, number], { s: number | null; b: number | null }>;

  constructor(db: Database.Database) {
    this.cellsOf = db.prepare("SELECT cell_id FROM cells WHERE channel = ?");
    this.blocksAfter = db.prepare(
      "SELECT max(height) AS h, sum(length(CAST(value AS BLOB)) + length(CAST(certificate AS BLOB)) + coalesce(length(CAST(verdicts AS BLOB)), 0)) AS b FROM blocks WHERE cell_id = ? AND height > ?",
    );
    this.recordsAfter = db.prepare("SELECT max(seq) AS s, sum(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))) AS b FROM records WHERE cell_id = ? AND seq > ?");
  }

  /** Bytes of `channel`'s blocks and records now (0 for a channel the ledger does not hold). */
  bytes(channel: string): number {
    let total = 0;
    for (const { cell_id } of this.cellsOf.all(channel)) {
      let c = this.counts.get(cell_id);
      if (c === undefined) this.counts.set(cell_id, (c = { cellId: cell_id, height: 0, recordSeq: -1, bytes: 0 }));
      const b = this.blocksAfter.get(c.cellId, c.height)!;
      if (b.h !== null) {
        c.height = b.h;
        c.bytes += b.b ?? 0;
      }
      const r = this.recordsAfter.get(c.cellId, c.recordSeq)!;
      if (r.s !== null) {
        c.recordSeq = r.s;
        c.bytes += r.b ?? 0;
      }
      total += c.bytes;
    }
    return total;
  }
}
