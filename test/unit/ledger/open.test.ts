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
    expect(tables).toEqual(["account_events", "blocks", "cells", "channel_snapshots", "channel_versions", "evidence", "inputs", "l0_acks", "l0_registrations", "ledger_schema", "outbox", "records", "signer", "snapshots", "wal"]);
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
