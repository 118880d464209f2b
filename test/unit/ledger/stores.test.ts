/**
 * The consensus stores on SQLite (signer, WAL), evidence and the outbox.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Evidence, SignedRecord, Vote, WalEntry } from "../../../runtime/consensus/index.js";
import { openLedger, type CellLedger, type Ledger } from "../../../runtime/ledger/index.js";
import { codeOf, tempDir } from "./helpers.js";

let t: ReturnType<typeof tempDir>;
let ledger: Ledger;
let cell: CellLedger;
beforeEach(() => {
  t = tempDir();
  ledger = openLedger(t.file());
  cell = ledger.cell("t", "c");
});
afterEach(() => {
  ledger.close();
  t.cleanup();
});

function vote(height: number, round: number, type: "prevote" | "precommit", valueId: string | null, validator = "a".repeat(64)): Vote {
  return { type, channel: "t", cell: "c", height, round, valueId, validator, signature: "c".repeat(128) };
}
function record(height: number, round: number, step: 1 | 2, valueId: string | null = "1".repeat(64)): SignedRecord {
  return { height, round, step, valueId, message: vote(height, round, step === 1 ? "prevote" : "precommit", valueId) };
}
const reopen = () => {
  ledger.close();
  ledger = openLedger(t.file());
  cell = ledger.cell("t", "c");
};

describe("signer store (consensus SignerStore)", () => {
  it("is empty on a fresh node, and keeps the newest record across a reopen", () => {
    expect(cell.signer.load()).toBeNull();
    cell.signer.save(record(1, 0, 1));
    cell.signer.save(record(1, 0, 2));
    cell.signer.save(record(2, 1, 1, null));
    reopen();
    expect(cell.signer.load()).toEqual(record(2, 1, 1, null));
  });

  it("never goes back: a record before the stored one is LEDGER_SIGNER_REGRESSION and changes nothing", () => {
    cell.signer.save(record(5, 2, 2));
    expect(codeOf(() => cell.signer.save(record(5, 2, 1)))).toBe("LEDGER_SIGNER_REGRESSION");
    expect(codeOf(() => cell.signer.save(record(5, 1, 2)))).toBe("LEDGER_SIGNER_REGRESSION");
    expect(codeOf(() => cell.signer.save(record(4, 9, 2)))).toBe("LEDGER_SIGNER_REGRESSION");
    expect(cell.signer.load()).toEqual(record(5, 2, 2));
  });

  it("another value at the stored step is LEDGER_SIGNER_CONFLICT; the same record again is a no-op", () => {
    cell.signer.save(record(3, 0, 1, "1".repeat(64)));
    expect(codeOf(() => cell.signer.save(record(3, 0, 1, "2".repeat(64))))).toBe("LEDGER_SIGNER_CONFLICT");
    expect(codeOf(() => cell.signer.save(record(3, 0, 1, null)))).toBe("LEDGER_SIGNER_CONFLICT");
    cell.signer.save(record(3, 0, 1, "1".repeat(64)));
    expect(cell.signer.load()).toEqual(record(3, 0, 1, "1".repeat(64)));
  });

  it("a record that is not a signer record is LEDGER_BAD_RECORD", () => {
    expect(codeOf(() => cell.signer.save({ ...record(1, 0, 1), step: 3 } as unknown as SignedRecord))).toBe("LEDGER_BAD_RECORD");
    expect(codeOf(() => cell.signer.save({ ...record(1, 0, 1), height: Number.NaN }))).toBe("LEDGER_BAD_RECORD");
  });

  it("each cell has its own signer record", () => {
    const other = ledger.cell("t", "d");
    cell.signer.save(record(9, 0, 2));
    expect(other.signer.load()).toBeNull();
    other.signer.save(record(1, 0, 1));
    expect(cell.signer.load()!.height).toBe(9);
  });
});

describe("WAL (consensus Wal)", () => {
  const entry = (h: number, r: number): WalEntry => ({ height: h, event: { kind: "message", frame: vote(h, r, "prevote", null), now: 1000 + r, from: "peer" } });

  it("gives a height's entries in write order, survives a reopen, and truncates below a height", () => {
    cell.wal.append(entry(1, 0));
    cell.wal.append(entry(2, 1));
    cell.wal.append(entry(2, 0));
    reopen();
    expect(cell.wal.entries(2)).toEqual([entry(2, 1), entry(2, 0)]);
    cell.wal.truncateBelow(2);
    expect(cell.wal.entries(1)).toEqual([]);
    expect(cell.wal.entries(2).length).toBe(2);
  });

  it("keeps a peer's frame exactly, even one no honest node sends (an own __proto__ key, NUL, U+2028)", () => {
    const frame = JSON.parse('{"__proto__": 1, "type": "prevote", "\\u0000": ["\\u2028", 0, 1e300]}') as Record<string, unknown>;
    cell.wal.append({ height: 1, event: { kind: "message", frame, now: 1 } });
    const back = cell.wal.entries(1)[0].event as { frame: Record<string, unknown> };
    expect(JSON.stringify(back.frame)).toBe(JSON.stringify(frame));
    expect(Object.getPrototypeOf(back.frame)).toBe(Object.prototype);
    expect(Object.keys(back.frame)).toEqual(["__proto__", "type", "\u0000"]);
  });
});

describe("evidence", () => {
  it("keeps two conflicting signed messages once per (validator, height, round, type)", () => {
    const ev: Evidence = { kind: "duplicate-vote", validator: "a".repeat(64), height: 4, round: 1, type: "prevote", first: vote(4, 1, "prevote", "1".repeat(64)), second: vote(4, 1, "prevote", "2".repeat(64)) };
    expect(cell.evidence.add(ev)).toBe(true);
    expect(cell.evidence.add({ ...ev, second: vote(4, 1, "prevote", null) })).toBe(false);
    reopen();
    expect(cell.evidence.list()).toEqual([ev]);
  });
});

describe("outbox", () => {
  it("is idempotent by key, keeps queue order, pages, filters by target, and survives a reopen", () => {
    expect(ledger.outbox.enqueue([
      { key: "a", target: "t/d", kind: "output", payload: { n: 1 } },
      { key: "b", target: "l0", kind: "snapshot", payload: { h: 10 } },
      { key: "a", target: "t/d", kind: "output", payload: { n: 2 } },
    ])).toBe(2);
    expect(ledger.outbox.enqueue([{ key: "c", target: "t/d", kind: "output", payload: 3 }])).toBe(1);
    reopen();
    const all = ledger.outbox.undelivered();
    expect(all.map((r) => [r.key, r.payload])).toEqual([["a", { n: 1 }], ["b", { h: 10 }], ["c", 3]]);
    expect(all[0].source).toBeNull();
    expect(ledger.outbox.undelivered({ target: "t/d" }).map((r) => r.key)).toEqual(["a", "c"]);
    expect(ledger.outbox.undelivered({ after: all[0].seq, limit: 1 }).map((r) => r.key)).toEqual(["b"]);
  });

  it("a delivered row is no longer undelivered; marking it again changes nothing", () => {
    ledger.outbox.enqueue([{ key: "a", target: "x", kind: "output", payload: 1 }, { key: "b", target: "x", kind: "output", payload: 2 }]);
    expect(ledger.outbox.markDelivered(["a", "missing"], 1234)).toBe(1);
    expect(ledger.outbox.markDelivered(["a"], 9999)).toBe(0);
    reopen();
    expect(ledger.outbox.undelivered().map((r) => r.key)).toEqual(["b"]);
    expect(ledger.outbox.get("a")).toMatchObject({ delivered: 1234 });
    expect(ledger.outbox.get("zzz")).toBeNull();
  });
});
