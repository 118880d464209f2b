/**
 * Hostile cases for the ledger: names and keys that look like SQL or hold
 * odd characters, floods of a bounded pool, oversized submissions, an input
 * twice in one block, limits that SQLite would read as "no limit", and
 * outbox rows that are not JSON.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { inputId, inputIdOrNone, NO_ENCODING_ID, openLedger, type Ledger } from "../../../runtime/ledger/index.js";
import { ChainBuilder, codeOf, inputs, tempDir } from "./helpers.js";

let t: ReturnType<typeof tempDir>;
let ledger: Ledger;
beforeEach(() => {
  t = tempDir("ledger-hostile-");
  ledger = openLedger(t.file(), { mempoolMaxInputs: 100, mempoolMaxBytes: 1024 * 1024 });
});
afterEach(() => {
  ledger.close();
  t.cleanup();
});

describe("ids of submissions that cannot be inputs", () => {
  it("answers the all-zero id for a submission RFC 8785 cannot encode, and the real id otherwise", () => {
    for (const bad of [{ x: "\uD800" }, { x: Number.POSITIVE_INFINITY }, { x: undefined }]) {
      expect(() => inputId(bad as unknown as Json)).toThrow();
      expect(inputIdOrNone(bad as unknown as Json)).toBe(NO_ENCODING_ID);
    }
    expect(NO_ENCODING_ID).toMatch(/^0{64}$/);
    expect(inputIdOrNone({ a: 1 })).toBe(inputId({ a: 1 }));
    expect(inputIdOrNone({ a: 1 })).not.toBe(NO_ENCODING_ID);
  });
});

describe("hostile names and keys", () => {
  it("a channel and a cell named like SQL (`'; DROP TABLE blocks; --`) are only names", () => {
    const evil = ledger.cell("t'; DROP TABLE blocks; --", 'c" OR 1=1 --');
    evil.mempool.add({ id: "x'); DELETE FROM inputs; --", n: 1 }, 1);
    const c = ledger.cell("t", "c");
    c.commit(new ChainBuilder().next(inputs(0, 3)));
    expect(ledger.cells()).toEqual([
      { channel: "t", cell: "c" },
      { channel: "t'; DROP TABLE blocks; --", cell: 'c" OR 1=1 --' },
    ]);
    expect(evil.mempool.pending().length).toBe(1);
    expect(c.block(1)).not.toBeNull();
  });

  it("record keys of 64 characters (the schema's maximum) holding NUL, U+2028, quotes and an emoji restore to the same state root", () => {
    const odd = (k: string) => `${k}\u0000\u2028"'\\😀`.padEnd(64, "é");
    const live = new ChainBuilder();
    const c = ledger.cell("t", "c");
    const block = live.next([{ data: { id: odd("a"), n: 1 } }, { data: { id: odd("b"), n: 2, pad: "\u0000\ud83d\ude00" } }]);
    expect(block.verdicts!.every((v) => v.accepted)).toBe(true);
    c.commit(block);
    ledger.close();
    ledger = openLedger(t.file());
    const point = ledger.cell("t", "c").restorePoint();
    expect(point.encoded.records.map(([k]) => k)).toEqual([odd("a"), odd("b")]);
    expect(ledger.cell("t", "c").restart(new ChainBuilder().app).chain.stateRoot).toBe(live.chain.stateRoot);
  });

  it("a 3,000-character id, or one that is not hex, has no status and costs one lookup", () => {
    expect(ledger.inputStatus("z".repeat(3000))).toEqual([]);
    expect(ledger.cell("t", "c").mempool.status("' OR 1=1 --")).toBeNull();
  });
});

describe("hostile load on the mempool", () => {
  it("2,000 adds into a pool of 100 keep exactly the first 100 and refuse the other 1,900 with LEDGER_POOL_FULL", () => {
    const m = ledger.cell("t", "c").mempool;
    const answers = m.addMany(inputs(0, 2000).map((submission) => ({ submission, time: 1 })));
    const refused = answers.filter((a) => a.status === "refused");
    expect(refused.length).toBe(1900);
    expect(refused.every((a) => a.status === "refused" && a.code === "LEDGER_POOL_FULL")).toBe(true);
    expect(m.pending().map((p) => p.submission)).toEqual(inputs(0, 100));
    expect(m.size().count).toBe(100);
  });

  it("a 2 MiB submission to a 1 MiB pool is LEDGER_INPUT_TOO_LARGE and leaves no row", () => {
    const m = ledger.cell("t", "c").mempool;
    const big: Json = { id: "big", n: 1, pad: "x".repeat(2 * 1024 * 1024) };
    const r = m.add(big, 1);
    expect(r).toMatchObject({ status: "refused", code: "LEDGER_INPUT_TOO_LARGE" });
    expect(m.status(inputId(big))).toBeNull();
    expect(m.size()).toEqual({ count: 0, bytes: 0 });
  });

  it("limits SQLite would read as 'no limit' (negative, NaN) give no rows", () => {
    const c = ledger.cell("t", "c");
    c.mempool.addMany(inputs(0, 5).map((submission) => ({ submission, time: 1 })));
    c.commit(new ChainBuilder().next(inputs(10, 2)));
    expect(c.mempool.pending(-1)).toEqual([]);
    expect(c.mempool.pending(Number.NaN)).toEqual([]);
    expect(c.mempool.pending(1e12).length).toBe(5);
    expect(c.blocks(1, -1)).toEqual([]);
    expect(c.blocks(Number.NaN, 10)).toEqual([]);
    ledger.outbox.enqueue([{ key: "a", target: "x", kind: "output", payload: 1 }]);
    expect(ledger.outbox.undelivered({ limit: -1 })).toEqual([]);
  });
});

describe("hostile blocks", () => {
  it("the same submission twice in one block keeps its first place in the status index", () => {
    const c = ledger.cell("t", "c");
    const dup: Json = { data: { id: "same", n: 1 } };
    c.mempool.add(dup, 1);
    const pending = c.mempool.pending().map((p) => p.submission);
    const block = new ChainBuilder().next([pending[0], { data: { id: "same", n: 1 } }]);
    expect(block.verdicts!.map((v) => (v.accepted ? "ok" : v.code))).toEqual(["ok", "CELL_DUPLICATE_KEY"]);
    c.commit(block);
    expect(c.mempool.status(inputId(dup))).toMatchObject({ status: "committed", height: 1, index: 0 });
    expect(c.mempool.size()).toEqual({ count: 0, bytes: 0 });
  });

  it("a block whose outbox row is not JSON (a bigint, a cycle) is LEDGER_BAD_OUTBOX and writes nothing", () => {
    const c = ledger.cell("t", "c");
    const block = new ChainBuilder().next(inputs(0, 3));
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const payload of [10n, cycle, undefined]) {
      expect(codeOf(() => c.commit({ ...block, outbox: [{ key: "k", target: "t/d", kind: "output", payload: payload as unknown as Json }] }))).toBe("LEDGER_BAD_OUTBOX");
    }
    expect(codeOf(() => c.commit({ ...block, outbox: [{ key: "", target: "t/d", kind: "output", payload: 1 }] }))).toBe("LEDGER_BAD_OUTBOX");
    expect(codeOf(() => ledger.outbox.enqueue([{ key: "ok", target: "l0", kind: "snapshot", payload: 1 }, { key: "bad", target: "l0", kind: "snapshot", payload: Number.NaN }]))).toBe("LEDGER_BAD_OUTBOX");
    expect(c.head().height).toBe(0);
    expect(ledger.outbox.undelivered()).toEqual([]);
    expect(c.commit(block).height).toBe(1);
  });

  it("a WAL frame holding a 1 MiB string round-trips unchanged", () => {
    const c = ledger.cell("t", "c");
    const frame = { type: "proposal", value: "v".repeat(1024 * 1024) };
    c.wal.append({ height: 1, event: { kind: "message", frame, now: 1 } });
    expect((c.wal.entries(1)[0].event as { frame: unknown }).frame).toEqual(frame);
  });
});
