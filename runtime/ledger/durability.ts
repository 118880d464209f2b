/**
 * Writes that need no fsync of their own. The ledger runs in WAL journal
 * mode with synchronous=FULL: a transaction is fsynced when it commits. Some
 * writes promise nobody anything when they return (a consensus WAL entry, a
 * submission a peer gossiped, which its own node acknowledged), and on a
 * loaded disk an fsync per such write was most of a node's time
 * (docs/node.md, "Throughput"). Those run with synchronous=NORMAL:
 *
 * - a process crash (kill -9) loses nothing either way: the write is in the
 *   WAL file, in the OS page cache, when it returns;
 * - a power cut can lose only a suffix of such writes: SQLite's WAL is one
 *   file written in order, and the next FULL commit (a signer record, a
 *   block, an acknowledged submission) fsyncs it whole, with every deferred
 *   write before it. So what survives a power cut is always what a kill -9
 *   at some earlier moment would have left, and no FULL write is ever on
 *   disk without the deferred writes that came before it (the WAL entries a
 *   signed vote followed are durable before that vote leaves).
 */
import type Database from "better-sqlite3";

export class Durability {
  constructor(private readonly db: Database.Database) {}

  /**
   * Runs `write` (its own transactions) without an fsync of its own: it is
   * on disk with the next FULL commit's fsync. Inside an open transaction it
   * just runs: it commits (and syncs) with that transaction.
   */
  deferred<T>(write: () => T): T {
    if (this.db.inTransaction) return write();
    // exec, not a prepared statement: SQLite applies this pragma when it compiles it, so a statement
    // prepared once would set the mode at prepare time and do nothing when run.
    this.db.exec("PRAGMA synchronous = NORMAL");
    try {
      return write();
    } finally {
      this.db.exec("PRAGMA synchronous = FULL");
    }
  }
}
