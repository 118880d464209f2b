/**
 * The channel side of L0 in the ledger: the certified snapshots of each
 * channel (the blocks of its snapshot group's pseudo-cell "snapshots"), the
 * registration the channel sends to L0 with the signatures gathered for it,
 * and the acknowledgements L0 signed. A snapshot and its outbox row are
 * written in one transaction, so a certified snapshot is never lost between
 * its decision and its submission; one height holds one snapshot (another
 * hash there is LEDGER_FORK), so the outbox never carries two snapshots for
 * one height. docs/ledger.md, "Snapshots for L0".
 */
import type Database from "better-sqlite3";
import type { Json } from "../core/canonical.js";
import type { CertifiedBlock } from "../consensus/index.js";
import { clip, ledgerError, rowLimit } from "./errors.js";
import { outboxRow } from "./outbox.js";
import type { OutboxItem } from "./types.js";

/** Migration step 2: the snapshot chain, registrations and acknowledgements. */
export const SNAPSHOT_TABLES = `
CREATE TABLE channel_snapshots (
  channel TEXT NOT NULL,
  height INTEGER NOT NULL,
  hash TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  value TEXT NOT NULL,
  certificate TEXT NOT NULL,
  decided INTEGER NOT NULL,
  PRIMARY KEY (channel, height)
);
CREATE TABLE l0_registrations (
  channel TEXT NOT NULL,
  version INTEGER NOT NULL,
  hash TEXT NOT NULL,
  record TEXT NOT NULL,
  signatures TEXT NOT NULL,
  answer TEXT,
  PRIMARY KEY (channel, version)
);
CREATE TABLE l0_acks (
  channel TEXT NOT NULL,
  height INTEGER NOT NULL,
  hash TEXT NOT NULL,
  ack TEXT NOT NULL,
  received INTEGER NOT NULL,
  PRIMARY KEY (channel, height)
);
`;

/** A stored snapshot: the decided block of the pseudo-cell and when this node stored it. */
export interface StoredChannelSnapshot {
  height: number;
  hash: string;
  prevHash: string;
  block: CertifiedBlock;
  decided: number;
}

/** A registration as this node holds it: the record, the signatures gathered so far, L0's answer once sent. */
export interface StoredRegistration {
  version: number;
  hash: string;
  record: Json;
  signatures: Array<{ key: string; signature: string }>;
  answer: Json | null;
}

type SnapRow = { height: number; hash: string; prev_hash: string; value: string; certificate: string; decided: number };

function snapOf(r: SnapRow): StoredChannelSnapshot {
  const value = JSON.parse(r.value) as Json;
  return { height: r.height, hash: r.hash, prevHash: r.prev_hash, decided: r.decided, block: { height: r.height, value, certificate: JSON.parse(r.certificate) } };
}

/** The snapshot chains, registrations and acknowledgements of every channel a node holds. */
export class SnapshotChains {
  private readonly q: {
    head: Database.Statement<[string], SnapRow>;
    at: Database.Statement<[string, number], SnapRow>;
    from: Database.Statement<[string, number, number], SnapRow>;
    put: Database.Statement<[string, number, string, string, string, string, number]>;
    reg: Database.Statement<[string, number], { version: number; hash: string; record: string; signatures: string; answer: string | null }>;
    regs: Database.Statement<[string], { version: number; hash: string; record: string; signatures: string; answer: string | null }>;
    putReg: Database.Statement<[string, number, string, string, string]>;
    regSigs: Database.Statement<[string, string, number]>;
    regAnswer: Database.Statement<[string, string, number]>;
    ack: Database.Statement<[string, number], { hash: string; ack: string; received: number }>;
    acks: Database.Statement<[string, number, number], { height: number; hash: string; ack: string; received: number }>;
    lastAck: Database.Statement<[string], { height: number | null }>;
    putAck: Database.Statement<[string, number, string, string, number]>;
  };
  private readonly appendTx: Database.Transaction<(channel: string, s: StoredChannelSnapshot, outbox: ReadonlyArray<readonly [string, string, string, string]>) => boolean>;

  constructor(db: Database.Database) {
    const cols = "height, hash, prev_hash, value, certificate, decided";
    this.q = {
      head: db.prepare(`SELECT ${cols} FROM channel_snapshots WHERE channel = ? ORDER BY height DESC LIMIT 1`),
      at: db.prepare(`SELECT ${cols} FROM channel_snapshots WHERE channel = ? AND height = ?`),
      from: db.prepare(`SELECT ${cols} FROM channel_snapshots WHERE channel = ? AND height >= ? ORDER BY height LIMIT ?`),
      put: db.prepare("INSERT INTO channel_snapshots (channel, height, hash, prev_hash, value, certificate, decided) VALUES (?, ?, ?, ?, ?, ?, ?)"),
      reg: db.prepare("SELECT version, hash, record, signatures, answer FROM l0_registrations WHERE channel = ? AND version = ?"),
      regs: db.prepare("SELECT version, hash, record, signatures, answer FROM l0_registrations WHERE channel = ? ORDER BY version"),
      putReg: db.prepare("INSERT OR IGNORE INTO l0_registrations (channel, version, hash, record, signatures) VALUES (?, ?, ?, ?, ?)"),
      regSigs: db.prepare("UPDATE l0_registrations SET signatures = ? WHERE channel = ? AND version = ?"),
      regAnswer: db.prepare("UPDATE l0_registrations SET answer = ? WHERE channel = ? AND version = ?"),
      ack: db.prepare("SELECT hash, ack, received FROM l0_acks WHERE channel = ? AND height = ?"),
      acks: db.prepare("SELECT height, hash, ack, received FROM l0_acks WHERE channel = ? AND height >= ? ORDER BY height LIMIT ?"),
      lastAck: db.prepare("SELECT max(height) AS height FROM l0_acks WHERE channel = ?"),
      putAck: db.prepare("INSERT OR IGNORE INTO l0_acks (channel, height, hash, ack, received) VALUES (?, ?, ?, ?, ?)"),
    };
    const enqueue = db.prepare("INSERT OR IGNORE INTO outbox (key, target, kind, payload, source_cell, source_height) VALUES (?, ?, ?, ?, NULL, ?)");
    this.appendTx = db.transaction((channel, s, outbox) => {
      const cur = this.q.at.get(channel, s.height);
      if (cur !== undefined) {
        if (cur.hash === s.hash) return false;
        throw ledgerError("LEDGER_FORK", `${channel}/snapshots: the ledger holds snapshot ${clip(cur.hash, 16)} at height ${s.height}; ${clip(s.hash, 16)} was certified for it too`, "stop the node: two snapshots of one height were certified; keep both certificates as evidence and check the snapshot group's keys", { channel, height: s.height, stored: cur.hash, given: s.hash });
      }
      const head = this.q.head.get(channel);
      const want = (head?.height ?? 0) + 1;
      if (s.height !== want || s.prevHash !== (head?.hash ?? "0".repeat(64))) {
        throw ledgerError("LEDGER_NOT_NEXT", `${channel}/snapshots: snapshot ${s.height} (prev ${clip(s.prevHash, 16)}) does not follow the head ${head?.height ?? 0} (${clip(head?.hash ?? "0".repeat(64), 16)})`, "store the snapshot that follows the head; catch up the ones in between first", { channel, height: s.height, head: head?.height ?? 0 });
      }
      this.q.put.run(channel, s.height, s.hash, s.prevHash, JSON.stringify(s.block.value), JSON.stringify(s.block.certificate), s.decided);
      for (const [key, target, kind, payload] of outbox) enqueue.run(key, target, kind, payload, s.height);
      return true;
    });
  }

  /** The last stored snapshot of `channel`, or null. */
  head(channel: string): StoredChannelSnapshot | null {
    const r = this.q.head.get(channel);
    return r === undefined ? null : snapOf(r);
  }

  at(channel: string, height: number): StoredChannelSnapshot | null {
    const r = this.q.at.get(channel, height);
    return r === undefined ? null : snapOf(r);
  }

  /** Up to `max` snapshots from `fromHeight` on, in height order. */
  from(channel: string, fromHeight: number, max: number): StoredChannelSnapshot[] {
    return this.q.from.all(channel, Math.max(0, Math.floor(fromHeight) || 0), rowLimit(max, 100_000)).map(snapOf);
  }

  /**
   * Stores the next snapshot of `channel` and queues its outbox rows in one
   * transaction (durable when it returns). The same snapshot again is a no-op
   * (false).
   * @throws StatecellError LEDGER_FORK (another hash at that height), LEDGER_NOT_NEXT, LEDGER_BAD_OUTBOX
   */
  append(channel: string, snapshot: StoredChannelSnapshot, outbox: readonly OutboxItem[] = []): boolean {
    return this.appendTx.immediate(channel, snapshot, outbox.map(outboxRow));
  }

  /** Keeps a registration record (the first one of a version stays); returns what is stored. */
  putRegistration(channel: string, version: number, hash: string, record: Json): StoredRegistration {
    this.q.putReg.run(channel, version, hash, JSON.stringify(record), "[]");
    return this.registration(channel, version)!;
  }

  registration(channel: string, version: number): StoredRegistration | null {
    const r = this.q.reg.get(channel, version);
    return r === undefined ? null : { version: r.version, hash: r.hash, record: JSON.parse(r.record) as Json, signatures: JSON.parse(r.signatures), answer: r.answer === null ? null : (JSON.parse(r.answer) as Json) };
  }

  registrations(channel: string): StoredRegistration[] {
    return this.q.regs.all(channel).map((r) => ({ version: r.version, hash: r.hash, record: JSON.parse(r.record) as Json, signatures: JSON.parse(r.signatures), answer: r.answer === null ? null : (JSON.parse(r.answer) as Json) }));
  }

  /** Replaces the signatures gathered for a registration. */
  setRegistrationSignatures(channel: string, version: number, signatures: ReadonlyArray<{ key: string; signature: string }>): void {
    this.q.regSigs.run(JSON.stringify(signatures), channel, version);
  }

  setRegistrationAnswer(channel: string, version: number, answer: Json): void {
    this.q.regAnswer.run(JSON.stringify(answer), channel, version);
  }

  /** Stores L0's acknowledgement of snapshot `height` (checked by the caller); the first one stays. */
  putAck(channel: string, height: number, hash: string, ack: Json, time: number): void {
    this.q.putAck.run(channel, height, hash, JSON.stringify(ack), time);
  }

  /** The highest acknowledged height of `channel` (0 before the first). */
  lastAck(channel: string): number {
    return this.q.lastAck.get(channel)?.height ?? 0;
  }

  ack(channel: string, height: number): { hash: string; ack: Json; received: number } | null {
    const r = this.q.ack.get(channel, height);
    return r === undefined ? null : { hash: r.hash, ack: JSON.parse(r.ack) as Json, received: r.received };
  }

  acks(channel: string, fromHeight: number, max: number): Array<{ height: number; hash: string; ack: Json; received: number }> {
    return this.q.acks.all(channel, Math.max(0, Math.floor(fromHeight) || 0), rowLimit(max, 100_000)).map((r) => ({ height: r.height, hash: r.hash, ack: JSON.parse(r.ack) as Json, received: r.received }));
  }
}
