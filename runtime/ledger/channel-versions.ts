/**
 * The versions of each channel a node has hosted or staged, with the
 * definition's text and code (so a restarted node can load every version
 * without the files it was given) and the block height from which each is in
 * force. A restarted node at any height runs the version in force at that
 * height, also on catch-up and when its ledger's blocks are re-executed
 * (docs/operators.md, "Upgrades at a height"). Rows are written once per
 * (channel, hash); a version staged again with the same hash keeps its row.
 * A version L0 scheduled keeps the snapshot height its upgrade record names
 * (`atSnapshot`): from that snapshot on, the channel's snapshots name it.
 */
import type Database from "better-sqlite3";
import { ledgerError } from "./errors.js";

/** Migration step 3: the channel versions. */
export const VERSION_TABLES = `
CREATE TABLE channel_versions (
  channel TEXT NOT NULL,
  hash TEXT NOT NULL,
  version INTEGER NOT NULL,
  activation INTEGER NOT NULL,
  file TEXT NOT NULL,
  source TEXT NOT NULL,
  code TEXT NOT NULL,
  stored INTEGER NOT NULL,
  PRIMARY KEY (channel, hash)
);
`;

/** Migration step 5: the snapshot height from which L0 has a version in force (its upgrade record's atHeight). */
export const VERSION_SCHEDULE = `ALTER TABLE channel_versions ADD COLUMN at_snapshot INTEGER;`;

/** A channel version as the ledger keeps it. */
export interface StoredVersion {
  channel: string;
  hash: string;
  version: number;
  /** The block height from which it is in force (1: from genesis). */
  activation: number;
  /** The channel file's name (the code paths are relative to it). */
  file: string;
  source: string;
  /** Code files by the path the channel file writes. */
  code: Record<string, string>;
  /** The snapshot height from which L0 holds it in force (the upgrade record's atHeight), when L0 scheduled it. */
  atSnapshot?: number;
}

type Row = { channel: string; hash: string; version: number; activation: number; file: string; source: string; code: string; at_snapshot: number | null };

export class ChannelVersions {
  private readonly q: {
    list: Database.Statement<[string], Row>;
    put: Database.Statement<[string, string, number, number, string, string, string, number, number | null]>;
    drop: Database.Statement<[string, string]>;
    schedule: Database.Statement<[number, string, string]>;
  };

  constructor(db: Database.Database) {
    this.q = {
      list: db.prepare("SELECT channel, hash, version, activation, file, source, code, at_snapshot FROM channel_versions WHERE channel = ? ORDER BY activation, version"),
      put: db.prepare("INSERT INTO channel_versions (channel, hash, version, activation, file, source, code, stored, at_snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, hash) DO NOTHING"),
      schedule: db.prepare("UPDATE channel_versions SET at_snapshot = ? WHERE channel = ? AND hash = ?"),
      drop: db.prepare("DELETE FROM channel_versions WHERE channel = ? AND hash = ?"),
    };
  }

  /** The versions of `channel`, by activation height. */
  list(channel: string): StoredVersion[] {
    return this.q.list.all(channel).map(({ at_snapshot, ...r }) => ({ ...r, code: JSON.parse(r.code) as Record<string, string>, ...(at_snapshot !== null ? { atSnapshot: at_snapshot } : {}) }));
  }

  /** Stores a version (durable when it returns); the same hash again is kept as first stored. */
  put(v: StoredVersion): void {
    if (!Number.isSafeInteger(v.activation) || v.activation < 1 || !Number.isSafeInteger(v.version) || v.version < 1) {
      throw ledgerError("LEDGER_BAD_OPTION", `a channel version needs a version and an activation height of 1 or more (got ${String(v.version)}, ${String(v.activation)})`, "pass the plan's version and its activation height");
    }
    if (v.atSnapshot !== undefined && (!Number.isSafeInteger(v.atSnapshot) || v.atSnapshot < 1)) {
      throw ledgerError("LEDGER_BAD_OPTION", `a version's snapshot height is a whole number of 1 or more (got ${String(v.atSnapshot)})`, "pass the upgrade record's atHeight");
    }
    this.q.put.run(v.channel, v.hash, v.version, v.activation, v.file, v.source, JSON.stringify(v.code), Date.now(), v.atSnapshot ?? null);
  }

  /** Records the snapshot height from which L0 holds a stored version in force (durable when it returns). */
  schedule(channel: string, hash: string, atSnapshot: number): void {
    if (!Number.isSafeInteger(atSnapshot) || atSnapshot < 1) throw ledgerError("LEDGER_BAD_OPTION", `a version's snapshot height is a whole number of 1 or more (got ${String(atSnapshot)})`, "pass the upgrade record's atHeight");
    this.q.schedule.run(atSnapshot, channel, hash);
  }

  /** Forgets a staged version that never came into force (replaced by another before its height). */
  drop(channel: string, hash: string): void {
    this.q.drop.run(channel, hash);
  }
}
