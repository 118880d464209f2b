/**
 * The ledger's channel versions and the snapshot height from which L0 holds
 * each in force: stored with the version or learnt later, kept across a
 * reopen, refused when it is not a height, and added to a ledger written
 * before the column existed without touching its rows.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { migrate, MIGRATIONS, openLedger } from "../../../runtime/ledger/index.js";
import { codeOf, tempDir } from "./helpers.js";

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir();
});
afterEach(() => t.cleanup());

const version = (hash: string, v: number, activation: number) => ({ channel: "c", hash, version: v, activation, file: "c.yaml", source: `version: ${v}`, code: {} });

describe("channel versions with L0's snapshot height", () => {
  it("keeps the snapshot height given with a version or recorded later, across a reopen", () => {
    const l = openLedger(t.file());
    l.versions.put(version("a".repeat(64), 1, 1));
    l.versions.put({ ...version("b".repeat(64), 2, 40), atSnapshot: 7 });
    l.versions.put(version("c".repeat(64), 3, 90));
    l.versions.schedule("c", "c".repeat(64), 12);
    l.close();
    const again = openLedger(t.file());
    expect(again.versions.list("c").map((v) => [v.version, v.activation, v.atSnapshot])).toEqual([[1, 1, undefined], [2, 40, 7], [3, 90, 12]]);
    expect(codeOf(() => again.versions.schedule("c", "c".repeat(64), 0))).toBe("LEDGER_BAD_OPTION");
    expect(codeOf(() => again.versions.put({ ...version("d".repeat(64), 4, 99), atSnapshot: 1.5 }))).toBe("LEDGER_BAD_OPTION");
    again.close();
  });

  it("a ledger from before the column keeps its versions, with no snapshot height", () => {
    const before = MIGRATIONS.filter((m) => m.version < 5);
    // Written by the code of that time: the column does not exist yet.
    const db = new Database(t.file());
    migrate(db, before);
    db.prepare("INSERT INTO channel_versions (channel, hash, version, activation, file, source, code, stored) VALUES ('c', ?, 2, 40, 'c.yaml', 'x', '{}', 0)").run("b".repeat(64));
    db.close();
    const l = openLedger(t.file());
    expect(l.versions.list("c")).toMatchObject([{ version: 2, activation: 40 }]);
    expect(l.versions.list("c")[0].atSnapshot).toBeUndefined();
    l.versions.schedule("c", "b".repeat(64), 3);
    expect(l.versions.list("c")[0].atSnapshot).toBe(3);
    l.close();
  });
});
