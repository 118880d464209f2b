/**
 * Every SQL statement of the ledger, prepared once per open database (a
 * prepare costs far more than a run). Rows come back as the shapes below.
 */
import type Database from "better-sqlite3";

/** A `cells` row. */
export interface CellRow {
  cell_id: number;
  channel: string;
  cell: string;
  head_height: number;
  head_hash: string;
  head_state_root: string;
  head_time: number;
  record_count: number;
}

export interface BlockRow {
  height: number;
  value: string;
  certificate: string;
  verdicts: string | null;
}

export interface SnapshotRow {
  height: number;
  time: number;
  state_root: string;
  record_count: number;
  bytes: number;
  user: string;
}

export interface InputRow {
  id: string;
  channel: string;
  cell: string;
  status: "pending" | "committed" | "rejected";
  height: number | null;
  idx: number | null;
  code: string | null;
  rule: string | null;
  message: string | null;
  received: number | null;
}

export interface OutboxDbRow {
  seq: number;
  key: string;
  target: string;
  kind: string;
  payload: string;
  channel: string | null;
  cell: string | null;
  source_height: number | null;
  delivered: number | null;
}

const STATUS_COLUMNS = "i.id, c.channel, c.cell, i.status, i.height, i.idx, i.code, i.rule, i.message, i.received";
const PENDING_COLUMNS = "i.id, c.channel, c.cell, 'pending' AS status, NULL AS height, NULL AS idx, NULL AS code, NULL AS rule, NULL AS message, i.received";
const OUTBOX_COLUMNS = "o.seq, o.key, o.target, o.kind, o.payload, c.channel, c.cell, o.source_height, o.delivered";

/** Prepares the ledger's statements on `db`. */
export function prepareStatements(db: Database.Database) {
  const p = <P extends unknown[] = unknown[], R = unknown>(sql: string) => db.prepare<P, R>(sql);
  /** A statement that returns the first column of each row. */
  const col = <P extends unknown[], R>(sql: string) => db.prepare<P, R>(sql).pluck() as Database.Statement<P, R>;
  return {
    // cells and heads
    cellByName: p<[string, string], CellRow>("SELECT * FROM cells WHERE channel = ? AND cell = ?"),
    cellById: p<[number], CellRow>("SELECT * FROM cells WHERE cell_id = ?"),
    insertCell: p<[string, string, string]>("INSERT OR IGNORE INTO cells (channel, cell, head_hash) VALUES (?, ?, ?)"),
    setHead: p<[number, string, string, number, number, number]>(
      "UPDATE cells SET head_height = ?, head_hash = ?, head_state_root = ?, head_time = ?, record_count = ? WHERE cell_id = ?",
    ),

    // blocks, records, snapshots
    insertBlock: p<[number, number, string, string, number, string, string, string, string | null]>(
      "INSERT INTO blocks (cell_id, height, value_id, prev_hash, time, state_root, value, certificate, verdicts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    blockIdAt: col<[number, number], string>("SELECT value_id FROM blocks WHERE cell_id = ? AND height = ?"),
    blockAt: p<[number, number], BlockRow>("SELECT height, value, certificate, verdicts FROM blocks WHERE cell_id = ? AND height = ?"),
    blocksFrom: p<[number, number, number], BlockRow>(
      "SELECT height, value, certificate, NULL AS verdicts FROM blocks WHERE cell_id = ? AND height >= ? ORDER BY height LIMIT ?",
    ),
    insertRecord: p<[number, number, string, string, number]>("INSERT INTO records (cell_id, seq, key, value, height) VALUES (?, ?, ?, ?, ?)"),
    recordsBelow: p<[number, number], { key: string; value: string }>("SELECT key, value FROM records WHERE cell_id = ? AND seq < ? ORDER BY seq"),
    snapshotOf: p<[number], SnapshotRow>("SELECT height, time, state_root, record_count, bytes, user FROM snapshots WHERE cell_id = ?"),
    snapshotSize: p<[number], { height: number; bytes: number }>("SELECT height, bytes FROM snapshots WHERE cell_id = ?"),
    putSnapshot: p<[number, number, number, string, number, number, string]>(
      "INSERT OR REPLACE INTO snapshots (cell_id, height, time, state_root, record_count, bytes, user) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),

    // inputs: the mempool (pending_inputs) and the status index (input_status)
    statusOf: p<[string, number], InputRow>(`SELECT ${STATUS_COLUMNS} FROM input_status i JOIN cells c ON c.cell_id = i.cell_id WHERE i.id = ? AND i.cell_id = ?`),
    statusesById: p<[string], InputRow>(`SELECT ${STATUS_COLUMNS} FROM input_status i JOIN cells c ON c.cell_id = i.cell_id WHERE i.id = ? ORDER BY c.channel, c.cell`),
    /** Pending rows of `id` in any cell: a scan of the pending table, bounded by the pools' bounds (for cells no mempool of this process holds). */
    pendingById: p<[string], InputRow>(`SELECT ${PENDING_COLUMNS} FROM pending_inputs i JOIN cells c ON c.cell_id = i.cell_id WHERE i.id = ? ORDER BY i.seq`),
    cellCount: col<[], number>("SELECT count(*) FROM cells"),
    addPending: p<[number, string, string, number, number]>("INSERT INTO pending_inputs (cell_id, id, submission, bytes, received) VALUES (?, ?, ?, ?, ?)"),
    pending: p<[number, number], { id: string; submission: string; bytes: number; received: number }>(
      "SELECT id, submission, bytes, received FROM pending_inputs WHERE cell_id = ? ORDER BY seq LIMIT ?",
    ),
    pendingSizes: p<[number], { seq: number; id: string; bytes: number; received: number }>(
      "SELECT seq, id, bytes, received FROM pending_inputs WHERE cell_id = ? ORDER BY seq",
    ),
    /** A pending input leaves the pool (by its rowid; the block, if any, holds its submission). */
    deletePending: p<[number]>("DELETE FROM pending_inputs WHERE seq = ?"),
    /** The final status of an input that was pending here. A second place of it in one block keeps the first. */
    settlePending: p<[string, number, string, number, number, number | null, number | null, string | null, string | null, string | null]>(
      `INSERT INTO input_status (id, cell_id, status, bytes, received, height, idx, code, rule, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id, cell_id) DO NOTHING`,
    ),
    /** An input first seen in a block (or refused before any block and now in one). */
    settleFromBlock: p<[string, number, string, number | null, number, number, string | null, string | null, string | null]>(
      `INSERT INTO input_status (id, cell_id, status, bytes, height, idx, code, rule, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id, cell_id) DO UPDATE SET status = excluded.status, bytes = excluded.bytes, height = excluded.height,
         idx = excluded.idx, code = excluded.code, rule = excluded.rule, message = excluded.message
       WHERE input_status.height IS NULL`,
    ),

    // signer store and WAL
    signerOf: p<[number], { height: number; round: number; step: number; value_id: string | null; record: string }>(
      "SELECT height, round, step, value_id, record FROM signer WHERE cell_id = ?",
    ),
    putSigner: p<[number, number, number, number, string | null, string]>(
      "INSERT OR REPLACE INTO signer (cell_id, height, round, step, value_id, record) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    walAppend: p<[number, number, string]>("INSERT INTO wal (cell_id, height, entry) VALUES (?, ?, ?)"),
    walEntries: col<[number, number], string>("SELECT entry FROM wal WHERE cell_id = ? AND height = ? ORDER BY seq"),
    walTruncate: p<[number, number]>("DELETE FROM wal WHERE cell_id = ? AND height < ?"),

    // evidence
    addEvidence: p<[number, string, number, number, string, string, string, string]>(
      "INSERT OR IGNORE INTO evidence (cell_id, validator, height, round, type, kind, first, second) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    evidenceOf: p<[number, number], { first: string; second: string; kind: string; validator: string; height: number; round: number; type: string }>(
      "SELECT kind, validator, height, round, type, first, second FROM evidence WHERE cell_id = ? ORDER BY height, round, validator, type LIMIT ?",
    ),

    // account history
    insertAccountEvent: p<[number, string, number, number, string]>("INSERT OR IGNORE INTO account_events (cell_id, account, height, seq, event) VALUES (?, ?, ?, ?, ?)"),
    /** Newest first, before the position (height, seq): `height < ? OR (height = ? AND seq < ?)`. */
    accountEvents: p<[number, string, number, number, number, number], { height: number; seq: number; event: string }>(
      "SELECT height, seq, event FROM account_events WHERE cell_id = ? AND account = ? AND (height < ? OR (height = ? AND seq < ?)) ORDER BY height DESC, seq DESC LIMIT ?",
    ),

    // outbox
    enqueue: p<[string, string, string, string, number | null, number | null]>(
      "INSERT OR IGNORE INTO outbox (key, target, kind, payload, source_cell, source_height) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    undelivered: p<[number, number], OutboxDbRow>(
      `SELECT ${OUTBOX_COLUMNS} FROM outbox o LEFT JOIN cells c ON c.cell_id = o.source_cell WHERE o.delivered IS NULL AND o.seq > ? ORDER BY o.seq LIMIT ?`,
    ),
    undeliveredTo: p<[string, number, number], OutboxDbRow>(
      `SELECT ${OUTBOX_COLUMNS} FROM outbox o LEFT JOIN cells c ON c.cell_id = o.source_cell WHERE o.delivered IS NULL AND o.target = ? AND o.seq > ? ORDER BY o.seq LIMIT ?`,
    ),
    outboxByKey: p<[string], OutboxDbRow>(`SELECT ${OUTBOX_COLUMNS} FROM outbox o LEFT JOIN cells c ON c.cell_id = o.source_cell WHERE o.key = ?`),
    markDelivered: p<[number, string]>("UPDATE outbox SET delivered = ? WHERE key = ? AND delivered IS NULL"),
  };
}

/** The prepared statements of one open ledger. */
export type Statements = ReturnType<typeof prepareStatements>;
