/**
 * Opening a ledger: migrations recorded in a schema table and applied once,
 * a newer database refused, WAL journal with synchronous=FULL, one process
 * at a time.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { migrate, MIGRATIONS, openLedger, SCHEMA_VERSION, type Migration } from "../../../runtime/ledger/index.js";
import { identify } from "../../../runtime/ledger/input-id.js";
import { codeOf, tempDir } from "./helpers.js";

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir();
});
afterEach(() => t.cleanup());

describe("openLedger: schema and migrations", () => {
  it("a new ledger records every migration step in ledger_schema and is at the newest version", () => {
    const l = openLedger(t.file());
    expect(l.schemaVersion).toBe(SCHEMA_VERSION);
    l.close();
    const db = new Database(t.file());
    const rows = db.prepare("SELECT version, name FROM ledger_schema ORDER BY version").all() as Array<{ version: number; name: string }>;
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]).filter((n) => n !== "sqlite_sequence");
    expect(tables).toEqual(["account_events", "blocks", "cells", "channel_snapshots", "channel_versions", "evidence", "input_status", "l0_acks", "l0_registrations", "ledger_schema", "outbox", "pending_inputs", "records", "signer", "snapshots", "wal"]);
    db.close();
  });

  it("reopening applies nothing again; a later step is applied once, after the earlier ones", () => {
    openLedger(t.file()).close();
    const calls: number[] = [];
    const v2: Migration = {
      version: SCHEMA_VERSION + 1,
      name: "test: a column",
      up: (db) => {
        calls.push(1);
        db.exec("ALTER TABLE cells ADD COLUMN note TEXT");
      },
    };
    const l = openLedger(t.file(), {}, [...MIGRATIONS, v2]);
    expect(l.schemaVersion).toBe(SCHEMA_VERSION + 1);
    l.close();
    openLedger(t.file(), {}, [...MIGRATIONS, v2]).close();
    expect(calls).toEqual([1]);
  });

  it("a step that fails leaves the database at the version before it", () => {
    openLedger(t.file()).close();
    const broken: Migration = {
      version: SCHEMA_VERSION + 1,
      name: "test: fails halfway",
      up: (db) => {
        db.exec("CREATE TABLE extra (x)");
        throw new Error("disk full");
      },
    };
    expect(() => openLedger(t.file(), {}, [...MIGRATIONS, broken])).toThrow("disk full");
    const db = new Database(t.file());
    expect(db.prepare("SELECT max(version) FROM ledger_schema").pluck().get()).toBe(SCHEMA_VERSION);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'extra'").pluck().get()).toBe(0);
    db.close();
  });

  it("a ledger written by a newer statecell is refused with LEDGER_TOO_NEW, naming both versions", () => {
    openLedger(t.file()).close();
    const db = new Database(t.file());
    db.prepare("INSERT INTO ledger_schema (version, name, applied) VALUES (?, 'from the future', 0)").run(SCHEMA_VERSION + 6);
    db.close();
    let err: unknown;
    try {
      openLedger(t.file());
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "LEDGER_TOO_NEW", payload: { version: SCHEMA_VERSION + 6, known: SCHEMA_VERSION } });
    expect((err as Error).message).toContain(`schema version ${SCHEMA_VERSION + 6}`);
    expect((err as { remedy: string }).remedy).toMatch(/newer/);
    // Refused before anything was written: the old node can still be replaced by a new one.
    const again = new Database(t.file());
    expect(again.prepare("SELECT count(*) FROM ledger_schema").pluck().get()).toBe(MIGRATIONS.length + 1);
    again.close();
  });

  it("migrate() alone reports which steps it applied", () => {
    const db = new Database(":memory:");
    expect(migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(migrate(db)).toEqual([]);
    db.close();
  });
});

describe("migration 6: pending inputs and input statuses in two tables", () => {
  it("a ledger written before it keeps its pending inputs in order, its statuses, and its deduplication", () => {
    const subs = [{ data: { n: 1 } }, { data: { n: 2 } }, { data: { n: 3 } }, { data: { n: 4 } }];
    const ids = subs.map((x) => identify(x));
    const db = new Database(t.file());
    migrate(db, MIGRATIONS.filter((m) => m.version <= 5));
    db.prepare("INSERT INTO cells (channel, cell, head_hash) VALUES ('ch', 'c', ?)").run("0".repeat(64));
    const add = db.prepare("INSERT INTO inputs (id, cell_id, status, submission, bytes, received, height, idx, code, rule, message) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    add.run(ids[0].id, "committed", null, ids[0].bytes, 10, 1, 0, null, null, null);
    add.run(ids[3].id, "pending", ids[3].text, ids[3].bytes, 13, null, null, null, null, null);
    add.run(ids[1].id, "rejected", null, ids[1].bytes, 11, null, null, "TOO_HIGH", "cap", "n is above the cap");
    add.run(ids[2].id, "pending", ids[2].text, ids[2].bytes, 12, null, null, null, null, null);
    db.close();

    const l = openLedger(t.file());
    expect(l.schemaVersion).toBe(6);
    // Before the cell is opened (no pool in memory) its pending rows are found in the table.
    expect(l.inputStatus(ids[3].id)).toMatchObject([{ channel: "ch", cell: "c", status: "pending", received: 13, height: null }]);
    const pool = l.cell("ch", "c").mempool;
    // Arrival order is the old rows' order, not the ids'.
    expect(pool.pending().map((p) => [p.id, p.received])).toEqual([[ids[3].id, 13], [ids[2].id, 12]]);
    expect(pool.size()).toEqual({ count: 2, bytes: ids[3].bytes + ids[2].bytes });
    expect(l.inputStatus(ids[0].id)).toEqual([{ id: ids[0].id, channel: "ch", cell: "c", status: "committed", height: 1, index: 0, code: null, rule: null, message: null, received: 10 }]);
    expect(pool.status(ids[1].id)).toMatchObject({ status: "rejected", code: "TOO_HIGH", rule: "cap", message: "n is above the cap" });
    expect(l.inputStatus(ids[2].id)).toMatchObject([{ status: "pending", received: 12 }]);
    // Every old id is still known: nothing is taken twice.
    expect(pool.addMany(subs.map((submission) => ({ submission, time: 20 }))).map((r) => r.status)).toEqual(["known", "known", "known", "known"]);
    l.close();
    const raw = new Database(t.file());
    expect(raw.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'inputs'").pluck().get()).toBe(0);
    raw.close();
  });
});

describe("openLedger: journal, durability, locking", () => {
  it("runs in WAL journal mode with synchronous=FULL and an exclusive lock", () => {
    const l = openLedger(t.file());
    // Read through the ledger's own connection: another one could not open the locked file.
    const db = (l as unknown as { db: Database.Database }).db;
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("synchronous", { simple: true })).toBe(2); // FULL
    expect(db.pragma("locking_mode", { simple: true })).toBe("exclusive");
    l.close();
  });

  it("a second opener of a ledger in use gets LEDGER_LOCKED, and can open it once the first closed", () => {
    const first = openLedger(t.file());
    first.cell("t", "c");
    expect(codeOf(() => openLedger(t.file(), { lockTimeoutMs: 50 }))).toBe("LEDGER_LOCKED");
    first.close();
    const second = openLedger(t.file());
    expect(second.cells()).toEqual([{ channel: "t", cell: "c" }]);
    second.close();
  });

  it("a file that is not a ledger, and a folder that does not exist, are LEDGER_OPEN_FAILED", () => {
    const junk = t.file("junk.db");
    writeFileSync(junk, "this is not an SQLite database, it is just some text that is long enough to be read as a header".repeat(20));
    expect(codeOf(() => openLedger(junk))).toBe("LEDGER_OPEN_FAILED");
    expect(codeOf(() => openLedger(join(t.dir, "missing", "node.db")))).toBe("LEDGER_OPEN_FAILED");
  });

  it("bounds that are not whole numbers of 1 or more are LEDGER_BAD_OPTION", () => {
    expect(codeOf(() => openLedger(t.file(), { mempoolMaxInputs: 0 }))).toBe("LEDGER_BAD_OPTION");
    expect(codeOf(() => openLedger(t.file(), { snapshotEvery: 1.5 }))).toBe("LEDGER_BAD_OPTION");
  });
});
