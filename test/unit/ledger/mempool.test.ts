/**
 * The mempool of a cell: durable adds, ids from canonical bytes,
 * deduplication, bounds that refuse with a code, arrival order, settling,
 * and the input status index.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { canonicalString, type Json } from "../../../runtime/core/canonical.js";
import { inputId, openLedger, type CellLedger, type Ledger } from "../../../runtime/ledger/index.js";
import { ChainBuilder, codeOf, inputs, tempDir } from "./helpers.js";

let t: ReturnType<typeof tempDir>;
let ledger: Ledger;
let cell: CellLedger;
beforeEach(() => {
  t = tempDir();
  ledger = openLedger(t.file(), { mempoolMaxInputs: 5, mempoolMaxBytes: 400 });
  cell = ledger.cell("t", "c");
});
afterEach(() => {
  ledger.close();
  t.cleanup();
});

const bytes = (v: Json) => Buffer.byteLength(canonicalString(v));

describe("mempool: adds", () => {
  it("pending() keeps arrival order across a reopen, adds after it and settles, with each input's received time", () => {
    const [a, b, c, d] = inputs(0, 4);
    cell.mempool.add(a, 100);
    cell.mempool.addMany([{ submission: b, time: 101 }], { durable: false });
    ledger.close();
    ledger = openLedger(t.file(), { mempoolMaxInputs: 5, mempoolMaxBytes: 400 });
    cell = ledger.cell("t", "c");
    cell.mempool.add(c, 102);
    expect(cell.mempool.pending().map((p) => [p.submission, p.received])).toEqual([[a, 100], [b, 101], [c, 102]]);
    expect(cell.mempool.reject(inputId(b), { code: "X", message: "m" })).toBe(true);
    cell.mempool.add(d, 103);
    expect(cell.mempool.pending().map((p) => p.submission)).toEqual([a, c, d]);
    expect(cell.mempool.pending(2).map((p) => p.submission)).toEqual([a, c]);
    // The same objects on every read (what consensus memoises per object).
    expect(cell.mempool.pending()[2].submission).toBe(cell.mempool.pending()[2].submission);
  });

  it("the id is the hex sha256 of the submission's canonical bytes: key order does not change it", () => {
    const a = cell.mempool.add({ n: 1, id: "x" }, 10);
    expect(a).toEqual({ status: "added", id: createHash("sha256").update('{"id":"x","n":1}').digest("hex") });
    const b = cell.mempool.add({ id: "x", n: 1 }, 11);
    expect(b).toMatchObject({ status: "known", id: a.id, input: { status: "pending", received: 10 } });
    expect(inputId({ id: "x", n: 1 })).toBe(a.id);
    expect(cell.mempool.size()).toEqual({ count: 1, bytes: 16 });
  });

  it("an added input is on disk when add returns: a reopened ledger has it pending, in arrival order", () => {
    for (const s of inputs(0, 3)) cell.mempool.add(s, 100);
    ledger.close();
    ledger = openLedger(t.file(), { mempoolMaxInputs: 5, mempoolMaxBytes: 400 });
    const p = ledger.cell("t", "c").mempool.pending();
    expect(p.map((x) => x.submission)).toEqual(inputs(0, 3));
    expect(p[0]).toMatchObject({ id: inputId(inputs(0, 1)[0]), bytes: bytes(inputs(0, 1)[0]), received: 100 });
  });

  it("pending hands out the same objects every time (consensus memoises admission per object), at most `limit`", () => {
    for (const s of inputs(0, 4)) cell.mempool.add(s, 1);
    const a = cell.mempool.pending();
    const b = cell.mempool.pending(2);
    expect(b.length).toBe(2);
    expect(b[0].submission).toBe(a[0].submission);
    expect(b[1].submission).toBe(a[1].submission);
  });

  it("an input already committed is known, with its block status, and not pending again", () => {
    const chain = new ChainBuilder();
    cell.mempool.add({ data: { id: "a", n: 1 } }, 1);
    cell.commit(chain.next(cell.mempool.pending().map((p) => p.submission)));
    const again = cell.mempool.add({ data: { id: "a", n: 1 } }, 2);
    expect(again).toMatchObject({ status: "known", input: { status: "committed", height: 1, index: 0 } });
    expect(cell.mempool.pending()).toEqual([]);
  });
});

describe("mempool: bounds refuse with a code, never drop", () => {
  it("a pool at its count limit refuses the next input with LEDGER_POOL_FULL and keeps every earlier one", () => {
    const added = inputs(0, 5).map((s) => cell.mempool.add(s, 1));
    expect(added.every((r) => r.status === "added")).toBe(true);
    const r = cell.mempool.add({ id: "one-more", n: 1 }, 2);
    expect(r).toMatchObject({ status: "refused", code: "LEDGER_POOL_FULL" });
    expect(r.status === "refused" && r.message).toContain("holds 5 inputs");
    expect(r.status === "refused" && r.message).toContain("at most 5 inputs and 400 bytes");
    expect(cell.mempool.pending().map((p) => p.submission)).toEqual(inputs(0, 5));
    // The refused input left no trace: it is not "known" when sent again after room was made.
    cell.commit(new ChainBuilder().next(cell.mempool.pending().map((p) => p.submission)));
    expect(cell.mempool.add({ id: "one-more", n: 1 }, 3).status).toBe("added");
  });

  it("a reopened ledger counts the inputs still pending: the bound holds across a restart", () => {
    for (const s of inputs(0, 5)) cell.mempool.add(s, 1);
    const size = cell.mempool.size();
    ledger.close();
    ledger = openLedger(t.file(), { mempoolMaxInputs: 5, mempoolMaxBytes: 400 });
    cell = ledger.cell("t", "c");
    expect(cell.mempool.size()).toEqual(size);
    expect(cell.mempool.add({ id: "after-restart", n: 1 }, 2)).toMatchObject({ status: "refused", code: "LEDGER_POOL_FULL" });
  });

  it("a pool at its byte limit refuses with LEDGER_POOL_FULL; a submission larger than the whole pool is LEDGER_INPUT_TOO_LARGE", () => {
    const big = { id: "big", n: 1, pad: "x".repeat(300) };
    expect(cell.mempool.add(big, 1).status).toBe("added");
    const next = { id: "next", n: 1, pad: "y".repeat(100) };
    expect(cell.mempool.add(next, 1)).toMatchObject({ status: "refused", code: "LEDGER_POOL_FULL" });
    expect(cell.mempool.add({ id: "huge", n: 1, pad: "z".repeat(500) }, 1)).toMatchObject({ status: "refused", code: "LEDGER_INPUT_TOO_LARGE" });
    expect(cell.mempool.size()).toEqual({ count: 1, bytes: bytes(big) });
  });

  it("addMany answers each submission in order, in one transaction", () => {
    const r = cell.mempool.addMany([...inputs(0, 4), inputs(0, 1)[0], ...inputs(4, 3)].map((submission) => ({ submission, time: 5 })));
    expect(r.map((x) => x.status)).toEqual(["added", "added", "added", "added", "known", "added", "refused", "refused"]);
    expect(cell.mempool.size().count).toBe(5);
  });

  it("addMany with a value that is not JSON writes nothing (CORE_NOT_JSON); a bad time is LEDGER_BAD_TIME", () => {
    const bad = [{ submission: { id: "a", n: 1 }, time: 1 }, { submission: { id: "b", n: Number.NaN }, time: 1 }];
    expect(codeOf(() => cell.mempool.addMany(bad))).toBe("CORE_NOT_JSON");
    expect(codeOf(() => cell.mempool.add({ id: "c", n: 1 }, Number.NaN))).toBe("LEDGER_BAD_TIME");
    expect(cell.mempool.size()).toEqual({ count: 0, bytes: 0 });
  });
});

describe("mempool: settling and the status index", () => {
  it("reject settles a pending input with code and message, out of the pool; a second reject is false", () => {
    const { id } = cell.mempool.add({ id: "a", n: 1 }, 1);
    expect(cell.mempool.reject(id, { code: "CELL_TOO_LARGE", message: "the submission is 9 bytes, over 8" })).toBe(true);
    expect(cell.mempool.reject(id, { code: "CELL_TOO_LARGE", message: "again" })).toBe(false);
    expect(cell.mempool.pending()).toEqual([]);
    expect(cell.mempool.size()).toEqual({ count: 0, bytes: 0 });
    expect(ledger.inputStatus(id)).toEqual([
      { id, channel: "t", cell: "c", status: "rejected", height: null, index: null, code: "CELL_TOO_LARGE", rule: null, message: "the submission is 9 bytes, over 8", received: 1 },
    ]);
  });

  it("the same submission sent to two cells has one status per cell; an unknown id has none", () => {
    const other = ledger.cell("t", "d");
    const a = cell.mempool.add({ id: "a", n: 1 }, 1);
    const b = other.mempool.add({ id: "a", n: 1 }, 2);
    expect(b).toEqual({ status: "added", id: a.id });
    expect(ledger.inputStatus(a.id).map((s) => s.cell)).toEqual(["c", "d"]);
    expect(ledger.inputStatus("0".repeat(64))).toEqual([]);
    expect(cell.mempool.status("0".repeat(64))).toBeNull();
  });
});
