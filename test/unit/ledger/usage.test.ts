/** A channel's share of the ledger: its cells' blocks and records, counted incrementally and per channel. */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../runtime/ledger/index.js";
import { LedgerUsage } from "../../../runtime/ledger/usage.js";

function db() {
  const d = new Database(":memory:");
  migrate(d);
  const cell = (channel: string, name: string) => Number(d.prepare("INSERT INTO cells (channel, cell, head_hash) VALUES (?, ?, '')").run(channel, name).lastInsertRowid);
  const block = (cellId: number, height: number, value: string, certificate = "c", verdicts: string | null = null) =>
    d.prepare("INSERT INTO blocks (cell_id, height, value_id, prev_hash, time, state_root, value, certificate, verdicts) VALUES (?, ?, 'id', 'p', 0, 'r', ?, ?, ?)").run(cellId, height, value, certificate, verdicts);
  const record = (cellId: number, seq: number, key: string, value: string) => d.prepare("INSERT INTO records (cell_id, seq, key, value, height) VALUES (?, ?, ?, ?, 1)").run(cellId, seq, key, value);
  return { d, cell, block, record };
}

describe("LedgerUsage", () => {
  it("sums the bytes of a channel's blocks and records, across its cells, in UTF-8", () => {
    const { d, cell, block, record } = db();
    const a = cell("meters", "readings");
    const b = cell("meters", "streets");
    const other = cell("poll", "votes");
    block(a, 1, "x".repeat(100), "c".repeat(10), "[]");
    block(b, 1, "é".repeat(10)); // 20 bytes in UTF-8, plus the one-byte certificate
    record(a, 0, "k1", "v".repeat(50));
    block(other, 1, "y".repeat(1000));
    const u = new LedgerUsage(d);
    expect(u.bytes("meters")).toBe(100 + 10 + 2 + 20 + 1 + 2 + 50);
    expect(u.bytes("poll")).toBe(1001);
    expect(u.bytes("nobody")).toBe(0);
  });

  it("adds only what was written since the last reading", () => {
    const { d, cell, block, record } = db();
    const a = cell("m", "c");
    const u = new LedgerUsage(d);
    expect(u.bytes("m")).toBe(0);
    block(a, 1, "a".repeat(10));
    expect(u.bytes("m")).toBe(11);
    block(a, 2, "b".repeat(10));
    record(a, 0, "k", "v");
    record(a, 1, "k", "w");
    expect(u.bytes("m")).toBe(11 + 11 + 4);
    // A reading with nothing new costs two primary-key probes per cell and answers the same.
    expect(u.bytes("m")).toBe(26);
    // A fresh counter (a restart) reads the whole chain once and finds the same total.
    expect(new LedgerUsage(d).bytes("m")).toBe(26);
  });
});
