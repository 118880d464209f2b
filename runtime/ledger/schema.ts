/**
 * The ledger's tables, as numbered migration steps. A database records every
 * step applied in `ledger_schema`; opening applies the missing ones in order,
 * each in its own transaction, and refuses a database that has a step this
 * code does not know (an older node must not write tables it does not
 * understand). docs/ledger.md lists the tables and what each column holds.
 */
import type Database from "better-sqlite3";
import { StatecellError } from "../core/errors.js";
import { SNAPSHOT_TABLES } from "./snapshot-chain.js";
import { VERSION_SCHEDULE, VERSION_TABLES } from "./channel-versions.js";
import { applyMigrations, type Migration } from "./migrations.js";

export type { Migration };

const V1 = `
CREATE TABLE cells (
  cell_id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  cell TEXT NOT NULL,
  head_height INTEGER NOT NULL DEFAULT 0,
  head_hash TEXT NOT NULL,
  head_state_root TEXT NOT NULL DEFAULT '',
  head_time INTEGER NOT NULL DEFAULT 0,
  record_count INTEGER NOT NULL DEFAULT 0,
  UNIQUE (channel, cell)
);
CREATE TABLE blocks (
  cell_id INTEGER NOT NULL,
  height INTEGER NOT NULL,
  value_id TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  time INTEGER NOT NULL,
  state_root TEXT NOT NULL,
  value TEXT NOT NULL,
  certificate TEXT NOT NULL,
  verdicts TEXT,
  PRIMARY KEY (cell_id, height)
);
CREATE TABLE records (
  cell_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  height INTEGER NOT NULL,
  PRIMARY KEY (cell_id, seq)
) WITHOUT ROWID;
CREATE TABLE snapshots (
  cell_id INTEGER PRIMARY KEY,
  height INTEGER NOT NULL,
  time INTEGER NOT NULL,
  state_root TEXT NOT NULL,
  record_count INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  user TEXT NOT NULL
);
CREATE TABLE inputs (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  cell_id INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'committed', 'rejected')),
  submission TEXT,
  bytes INTEGER,
  received INTEGER,
  height INTEGER,
  idx INTEGER,
  code TEXT,
  rule TEXT,
  message TEXT,
  UNIQUE (id, cell_id)
);
CREATE INDEX inputs_pending ON inputs (cell_id, seq) WHERE status = 'pending';
CREATE TABLE signer (
  cell_id INTEGER PRIMARY KEY,
  height INTEGER NOT NULL,
  round INTEGER NOT NULL,
  step INTEGER NOT NULL,
  value_id TEXT,
  record TEXT NOT NULL
);
CREATE TABLE wal (
  seq INTEGER PRIMARY KEY,
  cell_id INTEGER NOT NULL,
  height INTEGER NOT NULL,
  entry TEXT NOT NULL
);
CREATE INDEX wal_cell ON wal (cell_id, height, seq);
CREATE TABLE evidence (
  cell_id INTEGER NOT NULL,
  validator TEXT NOT NULL,
  height INTEGER NOT NULL,
  round INTEGER NOT NULL,
  type TEXT NOT NULL,
  kind TEXT NOT NULL,
  first TEXT NOT NULL,
  second TEXT NOT NULL,
  PRIMARY KEY (cell_id, validator, height, round, type)
);
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  target TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  source_cell INTEGER,
  source_height INTEGER,
  delivered INTEGER
);
CREATE INDEX outbox_undelivered ON outbox (seq) WHERE delivered IS NULL;
`;

/**
 * Per-account history of cells that keep one (the token cell: its Transfer and
 * Approval events by account), written in the block's transaction.
 */
const ACCOUNT_EVENTS = `
CREATE TABLE account_events (
  cell_id INTEGER NOT NULL REFERENCES cells (cell_id),
  account TEXT NOT NULL,
  height INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (cell_id, account, height, seq)
) WITHOUT ROWID;
`;

/**
 * The mempool and the status index apart (migration 6). One `inputs` table
 * with a unique (id, cell_id) index wrote a random key of an ever-growing
 * index in every mempool add, many small transactions each dirtying its own
 * pages, and updated the row again at its commit. Now a pending submission
 * is appended to `pending_inputs` (rowid order is arrival order) and deleted
 * by rowid when it settles; its final status goes into `input_status`, keyed
 * by (id, cell_id) with the row inside the key's B-tree, written once, in
 * the block's transaction. Deduplication of pending ids is the mempool's map
 * in memory, loaded from `pending_inputs` when the cell opens.
 */
const SPLIT_INPUTS = `
CREATE TABLE pending_inputs (
  seq INTEGER PRIMARY KEY,
  cell_id INTEGER NOT NULL,
  id TEXT NOT NULL,
  submission TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  received INTEGER NOT NULL
);
CREATE TABLE input_status (
  id TEXT NOT NULL,
  cell_id INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('committed', 'rejected')),
  bytes INTEGER,
  received INTEGER,
  height INTEGER,
  idx INTEGER,
  code TEXT,
  rule TEXT,
  message TEXT,
  PRIMARY KEY (id, cell_id)
) WITHOUT ROWID;
INSERT INTO pending_inputs (seq, cell_id, id, submission, bytes, received)
  SELECT seq, cell_id, id, submission, bytes, received FROM inputs WHERE status = 'pending' ORDER BY seq;
INSERT INTO input_status (id, cell_id, status, bytes, received, height, idx, code, rule, message)
  SELECT id, cell_id, status, bytes, received, height, idx, code, rule, message FROM inputs WHERE status <> 'pending';
DROP TABLE inputs;
`;

/** The migration steps this code knows, in order. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: "cells, blocks, records, snapshots, inputs, signer, wal, evidence, outbox", up: (db: Database.Database) => void db.exec(V1) },
  { version: 2, name: "channel snapshots, L0 registrations and acknowledgements", up: (db: Database.Database) => void db.exec(SNAPSHOT_TABLES) },
  { version: 3, name: "channel versions and their activation heights", up: (db: Database.Database) => void db.exec(VERSION_TABLES) },
  { version: 4, name: "account history (the token cell's events by account)", up: (db: Database.Database) => void db.exec(ACCOUNT_EVENTS) },
  { version: 5, name: "the snapshot height from which L0 holds a channel version in force", up: (db: Database.Database) => void db.exec(VERSION_SCHEDULE) },
  { version: 6, name: "pending inputs and input statuses in two tables", up: (db: Database.Database) => void db.exec(SPLIT_INPUTS) },
]);

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Brings `db` to the last of `steps`; returns the versions applied. Each step
 * and its `ledger_schema` row commit together, so a crash between steps
 * leaves a database at a known version.
 * @throws StatecellError LEDGER_TOO_NEW when the database has a step `steps` does not know
 */
export function migrate(db: Database.Database, steps: readonly Migration[] = MIGRATIONS, file = db.name): number[] {
  return applyMigrations(db, "ledger_schema", steps, (version, known) =>
    new StatecellError("LEDGER_TOO_NEW", `the ledger ${file} has schema version ${version}; this statecell knows versions up to ${known}`, {
      remedy: "run the statecell version that wrote this ledger, or a newer one; an older node must not write a ledger whose tables it does not know",
      payload: { file, version, known },
    }),
  );
}
