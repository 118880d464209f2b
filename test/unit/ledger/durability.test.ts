/**
 * Writes without an fsync of their own (runtime/ledger/durability.ts): the
 * connection is back at synchronous=FULL after every one of them, whatever
 * happens inside, so a signer record or a block written next is fsynced and
 * carries the deferred writes before it to disk; and what they wrote is kept
 * across a reopen like any other write.
 */
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Durability } from "../../../runtime/ledger/durability.js";
import { openLedger } from "../../../runtime/ledger/index.js";
import { tempDir } from "./helpers.js";

let t: ReturnType<typeof tempDir>;
let db: Database.Database;
const sync = () => db.pragma("synchronous", { simple: true });
beforeEach(() => {
  t = tempDir();
  db = new Database(t.file());
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE x (v INTEGER)");
});
afterEach(() => {
  db.close();
  t.cleanup();
});

describe("deferred writes", () => {
  it("run at synchronous=NORMAL and leave the connection at FULL", () => {
    const d = new Durability(db);
    let during: unknown;
    d.deferred(() => {
      during = sync();
      db.prepare("INSERT INTO x VALUES (1)").run();
    });
    expect(during).toBe(1); // NORMAL
    expect(sync()).toBe(2); // FULL
    expect(db.prepare("SELECT count(*) FROM x").pluck().get()).toBe(1);
  });

  it("leave the connection at FULL when the write throws", () => {
    const d = new Durability(db);
    expect(() =>
      d.deferred(() => {
        throw new Error("disk full");
      }),
    ).toThrow("disk full");
    expect(sync()).toBe(2);
  });

  it("inside an open transaction only run, committed (and synced) with it", () => {
    const d = new Durability(db);
    let during: unknown;
    db.transaction(() => {
      d.deferred(() => {
        during = sync();
        db.prepare("INSERT INTO x VALUES (2)").run();
      });
    })();
    expect(during).toBe(2);
    expect(sync()).toBe(2);
  });
});

describe("what the ledger writes deferred", () => {
  it("keeps WAL entries and gossiped submissions across a reopen", () => {
    const file = t.file("ledger.sqlite");
    let ledger = openLedger(file);
    const cell = ledger.cell("t", "c");
    cell.wal.append({ height: 1, event: { kind: "timeout", timeout: { height: 1, round: 0, step: "propose" }, now: 5 } });
    const [r] = cell.mempool.addMany([{ submission: { data: { n: 1 } }, time: 7 }], { durable: false });
    expect(r.status).toBe("added");
    ledger.close();
    ledger = openLedger(file);
    expect(ledger.cell("t", "c").wal.entries(1)).toHaveLength(1);
    expect(ledger.cell("t", "c").mempool.pending().map((p) => p.submission)).toEqual([{ data: { n: 1 } }]);
    ledger.close();
  });
});
