/**
 * L0's SQLite store (better-sqlite3 12, the house style of runtime/ledger):
 * one file in the data folder, WAL journal with synchronous=FULL (a
 * transaction is on disk when it returns), an exclusive lock held while open
 * (two L0 processes on one store could sign two different global snapshots
 * for one ordinal), and numbered migrations recorded in `l0_schema`. Every
 * decision the service makes is written in one transaction before it is
 * answered; a global snapshot and the removal of what it includes from
 * `pending` are one transaction. docs/l0.md, "Storage", lists the tables.
 */
import Database from "better-sqlite3";
import type { CommitCertificate } from "../consensus/types.js";
import { applyMigrations, type Migration } from "../ledger/migrations.js";
import { l0Error } from "./errors.js";
import type { Approval, UpgradeProposal, UpgradeStatus } from "./governance.js";
import type { DefinitionChange, Freeze, KnownSnapshot, RegistrationVersion, SnapshotStatus } from "./model.js";
import type { CertifiedGlobal, GlobalEntry, GlobalEvent, GlobalSnapshot, RecordSignature, Refusal, Registration, Resume, SignedAck, Snapshot, Upgrade } from "./types.js";

/** One migration step (the ledger's runner applies them). */
export type L0Migration = Migration;

const V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE registrations (
  channel TEXT NOT NULL,
  version INTEGER NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  record TEXT NOT NULL,
  signatures TEXT NOT NULL,
  from_height INTEGER NOT NULL,
  ordinal INTEGER NOT NULL,
  PRIMARY KEY (channel, version)
);
CREATE TABLE definitions (
  channel TEXT NOT NULL,
  seq INTEGER NOT NULL,
  from_height INTEGER NOT NULL,
  definition_hash TEXT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (channel, seq)
);
CREATE TABLE channels (
  channel TEXT PRIMARY KEY,
  head_height INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  freezes INTEGER NOT NULL,
  frozen TEXT,
  evidence INTEGER NOT NULL
);
CREATE TABLE snapshots (
  channel TEXT NOT NULL,
  height INTEGER NOT NULL,
  hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'evidence', 'superseded')),
  prev_hash TEXT NOT NULL,
  definition_hash TEXT NOT NULL,
  registration INTEGER NOT NULL,
  snapshot TEXT NOT NULL,
  certificate TEXT NOT NULL,
  ack TEXT,
  ordinal INTEGER NOT NULL,
  PRIMARY KEY (channel, height, hash)
) WITHOUT ROWID;
CREATE TABLE upgrades (
  channel TEXT NOT NULL,
  hash TEXT NOT NULL,
  seq INTEGER NOT NULL,
  record TEXT NOT NULL,
  approvals TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'scheduled', 'replaced', 'refused')),
  refusal TEXT,
  PRIMARY KEY (channel, hash)
);
CREATE TABLE resumes (
  hash TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  record TEXT NOT NULL,
  signatures TEXT NOT NULL,
  ordinal INTEGER NOT NULL
);
CREATE TABLE pending (
  seq INTEGER PRIMARY KEY,
  ordinal INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('snapshot', 'event')),
  body TEXT NOT NULL
);
CREATE TABLE globals (
  ordinal INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  prev_hash TEXT NOT NULL,
  time INTEGER NOT NULL,
  global TEXT NOT NULL,
  certificate TEXT NOT NULL
);
`;

/** The migration steps this code knows, in order. */
export const L0_MIGRATIONS: readonly L0Migration[] = Object.freeze([
  { version: 1, name: "meta, registrations, definitions, channels, snapshots, upgrades, resumes, pending, globals", up: (db: Database.Database) => void db.exec(V1) },
]);

/** A snapshot row as the service writes it. */
export interface SnapshotRow {
  channel: string;
  height: number;
  hash: string;
  status: SnapshotStatus;
  snapshot: Snapshot;
  certificate: CommitCertificate;
  registration: number;
  ack: SignedAck | null;
  ordinal: number;
}

/** A stored snapshot as `GET /v1/channels/{channel}/snapshots` lists it. */
export interface StoredSnapshot {
  height: number;
  hash: string;
  status: SnapshotStatus;
  ordinal: number;
  registration: number;
  snapshot: Snapshot;
  certificate: CommitCertificate;
  ack: SignedAck | null;
}

/** What the service loads at open for one channel. */
export interface LoadedChannel {
  channel: string;
  versions: RegistrationVersion[];
  definitions: DefinitionChange[];
  head: { height: number; hash: string };
  freezes: number;
  frozen: Freeze | null;
  evidence: number;
  proposals: UpgradeProposal[];
}

interface SnapshotDbRow {
  channel: string;
  height: number;
  hash: string;
  status: SnapshotStatus;
  prev_hash: string;
  definition_hash: string;
  registration: number;
  snapshot: string;
  certificate: string;
  ack: string | null;
  ordinal: number;
}

/** The open store. Synchronous, like the ledger. */
export class L0Store {
  private readonly q;

  private constructor(private readonly db: Database.Database, readonly path: string) {
    this.q = {
      snapshotsAt: db.prepare<[string, number], SnapshotDbRow>("SELECT * FROM snapshots WHERE channel = ? AND height = ?"),
      insertSnapshot: db.prepare("INSERT INTO snapshots (channel, height, hash, status, prev_hash, definition_hash, registration, snapshot, certificate, ack, ordinal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      setSnapshot: db.prepare("UPDATE snapshots SET status = ?, ack = coalesce(?, ack), ordinal = coalesce(?, ordinal) WHERE channel = ? AND height = ? AND hash = ?"),
      supersedeAbove: db.prepare("UPDATE snapshots SET status = 'superseded' WHERE channel = ? AND height > ? AND status = 'accepted'"),
      upsertChannel: db.prepare("INSERT INTO channels (channel, head_height, head_hash, freezes, frozen, evidence) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel) DO UPDATE SET head_height = excluded.head_height, head_hash = excluded.head_hash, freezes = excluded.freezes, frozen = excluded.frozen, evidence = excluded.evidence"),
      insertPending: db.prepare("INSERT INTO pending (ordinal, kind, body) VALUES (?, ?, ?)"),
      pending: db.prepare<[number], { kind: "snapshot" | "event"; body: string }>("SELECT kind, body FROM pending WHERE ordinal = ? ORDER BY seq"),
      pendingCount: db.prepare<[number], { n: number }>("SELECT count(*) AS n FROM pending WHERE ordinal = ?"),
      deletePending: db.prepare("DELETE FROM pending WHERE ordinal <= ?"),
      insertGlobal: db.prepare("INSERT INTO globals (ordinal, hash, prev_hash, time, global, certificate) VALUES (?, ?, ?, ?, ?, ?)"),
      global: db.prepare<[number], { hash: string; global: string; certificate: string }>("SELECT hash, global, certificate FROM globals WHERE ordinal = ?"),
      lastGlobal: db.prepare<[], { ordinal: number; hash: string; time: number; global: string; certificate: string }>("SELECT ordinal, hash, time, global, certificate FROM globals ORDER BY ordinal DESC LIMIT 1"),
      insertRegistration: db.prepare("INSERT INTO registrations (channel, version, hash, record, signatures, from_height, ordinal) VALUES (?, ?, ?, ?, ?, ?, ?)"),
      deleteDefinitions: db.prepare("DELETE FROM definitions WHERE channel = ?"),
      insertDefinition: db.prepare("INSERT INTO definitions (channel, seq, from_height, definition_hash, source) VALUES (?, ?, ?, ?, ?)"),
      upsertUpgrade: db.prepare("INSERT INTO upgrades (channel, hash, seq, record, approvals, status, refusal) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, hash) DO UPDATE SET approvals = excluded.approvals, status = excluded.status, refusal = excluded.refusal"),
      setUpgradeStatus: db.prepare("UPDATE upgrades SET status = ? WHERE channel = ? AND hash = ?"),
      insertResume: db.prepare("INSERT INTO resumes (hash, channel, record, signatures, ordinal) VALUES (?, ?, ?, ?, ?)"),
      resume: db.prepare<[string], { channel: string; record: string; ordinal: number }>("SELECT channel, record, ordinal FROM resumes WHERE hash = ?"),
      list: db.prepare<[string, number, number], SnapshotDbRow>("SELECT * FROM snapshots WHERE channel = ? AND height >= ? ORDER BY height, status, hash LIMIT ?"),
      evidence: db.prepare<[string], SnapshotDbRow>("SELECT * FROM snapshots WHERE channel = ? AND status = 'evidence' ORDER BY height, hash"),
    };
  }

  /**
   * Opens (creating if needed) the store at `path` (":memory:" for tests) and applies its migrations.
   * @throws StatecellError L0_STORE_OPEN_FAILED, L0_STORE_LOCKED, L0_STORE_TOO_NEW
   */
  static open(path: string, migrations: readonly L0Migration[] = L0_MIGRATIONS, lockTimeoutMs = 1_000): L0Store {
    let db: Database.Database;
    try {
      db = new Database(path, { timeout: lockTimeoutMs });
    } catch (e) {
      throw l0Error("L0_STORE_OPEN_FAILED", `the L0 store ${path.slice(0, 200)} cannot be opened: ${(e as Error).message}`, "give a data folder that exists and this process may write", { path }, e);
    }
    try {
      db.pragma("locking_mode = EXCLUSIVE");
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.exec("BEGIN EXCLUSIVE; COMMIT");
      migrateL0(db, migrations, path);
    } catch (e) {
      db.close();
      const code = (e as { code?: unknown }).code;
      if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
        throw l0Error("L0_STORE_LOCKED", `the L0 store ${path.slice(0, 200)} is open in another process (it stayed locked for ${lockTimeoutMs} ms)`, "stop the other L0 process using this data folder: two L0 processes on one store could certify two global snapshots for one ordinal", { path }, e);
      }
      if (typeof code === "string" && code.startsWith("SQLITE_")) {
        throw l0Error("L0_STORE_OPEN_FAILED", `the L0 store ${path.slice(0, 200)} cannot be opened: ${code}`, "check that the data folder holds an L0 store (an SQLite file) and is not damaged; restore it from a backup if it is", { path, sqlite: code }, e);
      }
      throw e;
    }
    return new L0Store(db, path);
  }

  /** Runs `fn` in one immediate transaction: everything it writes is on disk when this returns, or nothing is. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  meta(key: string): string | undefined {
    return this.db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?").get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  /** Every channel, as the service holds it in memory. */
  loadChannels(): LoadedChannel[] {
    const out = new Map<string, LoadedChannel>();
    for (const r of this.db.prepare<[], { channel: string; version: number; hash: string; record: string; signatures: string; from_height: number }>("SELECT * FROM registrations ORDER BY channel, version").all()) {
      let c = out.get(r.channel);
      if (c === undefined) {
        c = { channel: r.channel, versions: [], definitions: [], head: { height: 0, hash: "0".repeat(64) }, freezes: 0, frozen: null, evidence: 0, proposals: [] };
        out.set(r.channel, c);
      }
      c.versions.push({ version: r.version, hash: r.hash, record: JSON.parse(r.record) as Registration, signatures: JSON.parse(r.signatures) as RecordSignature[], fromHeight: r.from_height });
    }
    for (const d of this.db.prepare<[], { channel: string; from_height: number; definition_hash: string; source: string }>("SELECT * FROM definitions ORDER BY channel, seq").all()) {
      out.get(d.channel)?.definitions.push({ fromHeight: d.from_height, definitionHash: d.definition_hash, source: d.source });
    }
    for (const s of this.db.prepare<[], { channel: string; head_height: number; head_hash: string; freezes: number; frozen: string | null; evidence: number }>("SELECT * FROM channels").all()) {
      const c = out.get(s.channel);
      if (c === undefined) continue;
      c.head = { height: s.head_height, hash: s.head_hash };
      c.freezes = s.freezes;
      c.frozen = s.frozen === null ? null : (JSON.parse(s.frozen) as Freeze);
      c.evidence = s.evidence;
    }
    for (const u of this.db.prepare<[], { channel: string; hash: string; record: string; approvals: string; status: UpgradeStatus; refusal: string | null }>("SELECT * FROM upgrades ORDER BY channel, seq").all()) {
      out.get(u.channel)?.proposals.push({ hash: u.hash, record: JSON.parse(u.record) as Upgrade, approvals: JSON.parse(u.approvals) as Approval[], status: u.status, refusal: u.refusal === null ? null : (JSON.parse(u.refusal) as Refusal) });
    }
    return [...out.values()];
  }

  snapshotsAt(channel: string, height: number): KnownSnapshot[] {
    return this.q.snapshotsAt.all(channel, height).map((r) => ({
      height: r.height,
      hash: r.hash,
      prevHash: r.prev_hash,
      definitionHash: r.definition_hash,
      status: r.status,
      registration: r.registration,
      ack: r.ack === null ? null : (JSON.parse(r.ack) as SignedAck),
    }));
  }

  insertSnapshot(r: SnapshotRow): void {
    this.q.insertSnapshot.run(r.channel, r.height, r.hash, r.status, r.snapshot.prevHash, r.snapshot.definitionHash, r.registration, JSON.stringify(r.snapshot), JSON.stringify(r.certificate), r.ack === null ? null : JSON.stringify(r.ack), r.ordinal);
  }

  /** Sets a snapshot's status (and its ack and ordinal when given). */
  setSnapshot(channel: string, height: number, hash: string, status: SnapshotStatus, ack: SignedAck | null, ordinal: number | null): void {
    this.q.setSnapshot.run(status, ack === null ? null : JSON.stringify(ack), ordinal, channel, height, hash);
  }

  /** Marks the accepted snapshots above `height` superseded (a resume to a lower height). */
  supersedeAbove(channel: string, height: number): void {
    this.q.supersedeAbove.run(channel, height);
  }

  saveChannel(channel: string, head: { height: number; hash: string }, freezes: number, frozen: Freeze | null, evidence: number): void {
    this.q.upsertChannel.run(channel, head.height, head.hash, freezes, frozen === null ? null : JSON.stringify(frozen), evidence);
  }

  insertRegistration(v: RegistrationVersion, channel: string, ordinal: number): void {
    this.q.insertRegistration.run(channel, v.version, v.hash, JSON.stringify(v.record), JSON.stringify(v.signatures), v.fromHeight, ordinal);
  }

  saveDefinitions(channel: string, defs: readonly DefinitionChange[]): void {
    this.q.deleteDefinitions.run(channel);
    defs.forEach((d, i) => this.q.insertDefinition.run(channel, i, d.fromHeight, d.definitionHash, d.source));
  }

  saveUpgrade(channel: string, p: UpgradeProposal, seq: number): void {
    this.q.upsertUpgrade.run(channel, p.hash, seq, JSON.stringify(p.record), JSON.stringify(p.approvals), p.status, p.refusal === null ? null : JSON.stringify(p.refusal));
  }

  setUpgradeStatus(channel: string, hash: string, status: UpgradeStatus): void {
    this.q.setUpgradeStatus.run(status, channel, hash);
  }

  insertResume(hash: string, r: Resume, signatures: readonly RecordSignature[], ordinal: number): void {
    this.q.insertResume.run(hash, r.channel, JSON.stringify(r), JSON.stringify(signatures), ordinal);
  }

  /** A resume record already applied, by hash. */
  resume(hash: string): { channel: string; record: Resume; ordinal: number } | undefined {
    const r = this.q.resume.get(hash);
    return r === undefined ? undefined : { channel: r.channel, record: JSON.parse(r.record) as Resume, ordinal: r.ordinal };
  }

  addPendingSnapshot(ordinal: number, e: GlobalEntry): void {
    this.q.insertPending.run(ordinal, "snapshot", JSON.stringify(e));
  }

  addPendingEvent(ordinal: number, e: GlobalEvent): void {
    this.q.insertPending.run(ordinal, "event", JSON.stringify(e));
  }

  pending(ordinal: number): { snapshots: GlobalEntry[]; events: GlobalEvent[] } {
    const snapshots: GlobalEntry[] = [];
    const events: GlobalEvent[] = [];
    for (const r of this.q.pending.all(ordinal)) {
      if (r.kind === "snapshot") snapshots.push(JSON.parse(r.body) as GlobalEntry);
      else events.push(JSON.parse(r.body) as GlobalEvent);
    }
    return { snapshots, events };
  }

  pendingCount(ordinal: number): number {
    return this.q.pendingCount.get(ordinal)!.n;
  }

  /** Appends a certified global snapshot and removes what it includes from `pending` (call inside a transaction). */
  appendGlobal(c: CertifiedGlobal): void {
    this.q.insertGlobal.run(c.global.ordinal, c.hash, c.global.prevHash, c.global.time, JSON.stringify(c.global), JSON.stringify(c.certificate));
    this.q.deletePending.run(c.global.ordinal);
  }

  global(ordinal: number): CertifiedGlobal | undefined {
    const r = this.q.global.get(ordinal);
    return r === undefined ? undefined : { global: JSON.parse(r.global) as GlobalSnapshot, hash: r.hash, certificate: JSON.parse(r.certificate) as CommitCertificate };
  }

  lastGlobal(): CertifiedGlobal | undefined {
    const r = this.q.lastGlobal.get();
    return r === undefined ? undefined : { global: JSON.parse(r.global) as GlobalSnapshot, hash: r.hash, certificate: JSON.parse(r.certificate) as CommitCertificate };
  }

  /** Snapshots of a channel from `fromHeight` on, any status, at most `limit`. */
  snapshots(channel: string, fromHeight: number, limit: number): StoredSnapshot[] {
    return this.q.list.all(channel, fromHeight, limit).map(stored);
  }

  /** The snapshots kept as fork evidence. */
  evidence(channel: string): StoredSnapshot[] {
    return this.q.evidence.all(channel).map(stored);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function stored(r: SnapshotDbRow): StoredSnapshot {
  return {
    height: r.height,
    hash: r.hash,
    status: r.status,
    ordinal: r.ordinal,
    registration: r.registration,
    snapshot: JSON.parse(r.snapshot) as Snapshot,
    certificate: JSON.parse(r.certificate) as CommitCertificate,
    ack: r.ack === null ? null : (JSON.parse(r.ack) as SignedAck),
  };
}

/**
 * Brings `db` to the last of `steps`, each step in its own transaction with
 * its `l0_schema` row.
 * @throws StatecellError L0_STORE_TOO_NEW when the store has a step this code does not know
 */
export function migrateL0(db: Database.Database, steps: readonly L0Migration[] = L0_MIGRATIONS, file = db.name): number[] {
  return applyMigrations(db, "l0_schema", steps, (version, known) =>
    l0Error("L0_STORE_TOO_NEW", `the L0 store ${file} has schema version ${version}; this statecell knows versions up to ${known}`, "run the statecell version that wrote this store, or a newer one", { file, version, known }),
  );
}
