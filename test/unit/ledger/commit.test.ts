/**
 * A block's commit: everything it changes in one transaction (block,
 * certificate, verdicts, records, head, snapshot, input statuses, mempool,
 * outbox, WAL), the checks that keep a chain a chain, and what a torn
 * commit leaves (nothing).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { canonicalString } from "../../../runtime/core/canonical.js";
import { createHash } from "node:crypto";
import { GENESIS_HASH } from "../../../runtime/consensus/index.js";
import { openLedger, outputItems, type CellLedger, type Ledger } from "../../../runtime/ledger/index.js";
import { ChainBuilder, codeOf, inputs, tempDir } from "./helpers.js";

let t: ReturnType<typeof tempDir>;
let ledger: Ledger;
let cell: CellLedger;
let chain: ChainBuilder;

beforeEach(() => {
  t = tempDir();
  ledger = openLedger(t.file());
  cell = ledger.cell("t", "c");
  chain = new ChainBuilder();
});
afterEach(() => {
  ledger.close();
  t.cleanup();
});

const sha = (v: Json) => createHash("sha256").update(canonicalString(v)).digest("hex");

describe("commit: what one block stores", () => {
  it("the head moves to the block: height, value id, state root, time, record count", () => {
    expect(cell.head()).toEqual({ height: 0, hash: GENESIS_HASH, stateRoot: "", time: 0, recordCount: 0 });
    const c = chain.next(inputs(0, 10));
    const r = cell.commit(c);
    expect(r).toMatchObject({ height: 1, hash: c.valueId, already: false, records: 9 });
    expect(cell.head()).toEqual({ height: 1, hash: c.valueId, stateRoot: ChainBuilder.value(c).stateRoot, time: ChainBuilder.value(c).time, recordCount: 9 });
  });

  it("the block comes back with its certificate and the full local verdicts (messages included)", () => {
    const c = chain.next(inputs(0, 5));
    cell.commit(c);
    const stored = cell.block(1)!;
    expect(stored.block).toEqual(c.block);
    expect(stored.verdicts![3]).toEqual({ accepted: false, code: "CELL_RULE", rule: "small", message: "99 is more than 50" });
    expect(cell.block(2)).toBeNull();
    expect(cell.blocks(1, 10)).toEqual([c.block]);
  });

  it("a block committed without local verdicts keeps the block's codes in the status index, with no message", () => {
    const c = chain.next(inputs(0, 5));
    cell.commit({ ...c, verdicts: undefined });
    expect(cell.block(1)!.verdicts).toBeNull();
    const rejected = cell.mempool.status(sha(inputs(0, 5)[3]))!;
    expect(rejected).toMatchObject({ status: "rejected", height: 1, index: 3, code: "CELL_RULE", rule: "small", message: null });
  });

  it("records are stored in arrival order, block after block", () => {
    cell.commit(chain.next(inputs(0, 5)));
    cell.commit(chain.next(inputs(5, 5)));
    const point = cell.restorePoint();
    // The snapshot (every commit while small) holds all the records, in arrival order.
    expect(point.encoded.records.map(([k]) => k)).toEqual(["k0", "k1", "k2", "k4", "k5", "k6", "k7", "k8", "k9"]);
    expect(point.encoded.records[0]).toEqual(["k0", { id: "k0", n: 0 }]);
  });

  it("every input of the block gets a status: committed, or rejected with code, rule and message", () => {
    const pending = inputs(0, 5);
    for (const p of pending) cell.mempool.add(p, 1_000);
    cell.commit(chain.next(cell.mempool.pending().map((p) => p.submission)));
    const ok = ledger.inputStatus(sha(pending[0]));
    expect(ok).toEqual([{ id: sha(pending[0]), channel: "t", cell: "c", status: "committed", height: 1, index: 0, code: null, rule: null, message: null, received: 1_000 }]);
    expect(ledger.inputStatus(sha(pending[3]))[0]).toMatchObject({ status: "rejected", height: 1, index: 3, code: "CELL_RULE", rule: "small", message: "99 is more than 50" });
    expect(cell.mempool.pending()).toEqual([]);
    expect(cell.mempool.size()).toEqual({ count: 0, bytes: 0 });
  });

  it("an input refused before any block takes the status a later block gives it; a committed one keeps its first block", () => {
    const [a, b] = inputs(0, 2);
    cell.mempool.add(a, 7);
    expect(cell.mempool.reject(sha(a), { code: "CELL_RULE", rule: "small", message: "refused at admission" })).toBe(true);
    cell.commit(chain.next([a, b]));
    expect(cell.mempool.status(sha(a))).toMatchObject({ status: "committed", height: 1, index: 0, code: null, message: null, received: 7 });
    cell.commit(chain.next([b]));
    expect(cell.mempool.status(sha(b))).toMatchObject({ status: "committed", height: 1, index: 1 });
    // After a reopen: nothing settled is pending again, and the statuses are the same rows.
    cell.mempool.add({ id: "mine", n: 1 }, 9);
    ledger.close();
    ledger = openLedger(t.file());
    const again = ledger.cell("t", "c");
    expect(again.mempool.pending().map((p) => p.submission)).toEqual([{ id: "mine", n: 1 }]);
    expect(again.mempool.add(a, 10)).toMatchObject({ status: "known", input: { status: "committed", height: 1 } });
  });

  it("inputs this node never had pending (another proposer's) get a status too; its own pending ones not in the block stay", () => {
    cell.mempool.add({ id: "mine", n: 1 }, 5);
    cell.commit(chain.next(inputs(0, 3)));
    expect(cell.mempool.status(sha(inputs(0, 3)[1]))).toMatchObject({ status: "committed", height: 1, index: 1, received: null });
    expect(cell.mempool.pending().map((p) => p.submission)).toEqual([{ id: "mine", n: 1 }]);
    expect(cell.mempool.size().count).toBe(1);
  });

  it("a block's outputs are queued in the outbox with the block, once per key", () => {
    const c = chain.next(inputs(0, 2));
    const items = outputItems("t", "c", 1, [
      { to: "d", from: "c", input: 0, data: { x: 1 }, signer: null },
      { to: "d", from: "c", input: 1, data: { x: 2 }, signer: null },
    ]);
    cell.commit({ ...c, outbox: items });
    const rows = ledger.outbox.undelivered();
    expect(rows.map((r) => [r.key, r.target, r.kind, r.source])).toEqual([
      ["output/t/c/1/0", "t/d", "output", { channel: "t", cell: "c", height: 1 }],
      ["output/t/c/1/1", "t/d", "output", { channel: "t", cell: "c", height: 1 }],
    ]);
    expect(rows[1].payload).toEqual({ channel: "t", from: "c", to: "d", height: 1, input: 1, data: { x: 2 } });
  });

  it("the WAL below the next height is dropped in the commit", () => {
    const frame = (h: number) => ({ height: h, event: { kind: "timeout" as const, timeout: { step: "propose" as const, height: h, round: 0 }, now: h } });
    cell.wal.append(frame(1));
    cell.wal.append(frame(2));
    cell.commit(chain.next(inputs(0, 1)));
    expect(cell.wal.entries(1)).toEqual([]);
    expect(cell.wal.entries(2)).toEqual([frame(2)]);
  });

  it("committing the stored block again is a no-op; another block at a stored height is LEDGER_FORK", () => {
    const c1 = chain.next(inputs(0, 3));
    cell.commit(c1);
    expect(cell.commit(c1)).toMatchObject({ already: true, height: 1 });
    const other = new ChainBuilder().next(inputs(100, 3));
    expect(codeOf(() => cell.commit(other))).toBe("LEDGER_FORK");
    expect(cell.head().hash).toBe(c1.valueId);
  });

  it("a block that does not follow the head is LEDGER_NOT_NEXT: a gap, or another parent", () => {
    const c1 = chain.next(inputs(0, 1));
    const c2 = chain.next(inputs(1, 1));
    expect(codeOf(() => cell.commit(c2))).toBe("LEDGER_NOT_NEXT");
    // Height 1 of another chain is fine; then this chain's height 2 has another parent.
    const alien = new ChainBuilder().next(inputs(50, 1));
    cell.commit(alien);
    expect(codeOf(() => cell.commit(c2))).toBe("LEDGER_NOT_NEXT");
    expect(c1.block.height).toBe(1);
  });

  it("a state that is not the block's is LEDGER_STATE_MISMATCH; a malformed block or certificate is LEDGER_BAD_BLOCK", () => {
    const c1 = chain.next(inputs(0, 2));
    const c2 = chain.next(inputs(2, 2));
    expect(codeOf(() => cell.commit({ ...c1, state: c2.state }))).toBe("LEDGER_STATE_MISMATCH");
    expect(codeOf(() => cell.commit({ ...c1, state: { ...c1.state, cell: c2.state.cell } }))).toBe("LEDGER_STATE_MISMATCH");
    expect(codeOf(() => cell.commit({ ...c1, block: { ...c1.block, certificate: { ...c1.block.certificate, cell: "other" } } }))).toBe("LEDGER_BAD_BLOCK");
    expect(codeOf(() => cell.commit({ ...c1, block: { ...c1.block, certificate: { ...c1.block.certificate, valueId: "xyz" } } }))).toBe("LEDGER_BAD_BLOCK");
    expect(codeOf(() => cell.commit({ ...c1, block: { ...c1.block, value: [] } }))).toBe("LEDGER_BAD_BLOCK");
    expect(codeOf(() => cell.commit({ ...c1, verdicts: [] }))).toBe("LEDGER_BAD_BLOCK");
    expect(cell.head().height).toBe(0);
    cell.commit(c1);
    expect(cell.head().height).toBe(1);
  });

  it("cells are separate chains in one ledger", () => {
    const other = ledger.cell("t", "d");
    cell.commit(chain.next(inputs(0, 2)));
    expect(other.head().height).toBe(0);
    expect(ledger.cell("t", "c")).toBe(cell);
    expect(ledger.cells()).toEqual([
      { channel: "t", cell: "c" },
      { channel: "t", cell: "d" },
    ]);
  });
});

describe("commit: one transaction (a torn commit cannot be observed)", () => {
  it("a commit that fails after writing half its records leaves no block, record, status, head, snapshot or outbox row", () => {
    cell.commit(chain.next(inputs(0, 4)));
    const pending = inputs(10, 600);
    cell.mempool.addMany(pending.map((submission) => ({ submission, time: 7 })));
    const subs = cell.mempool.pending().map((p) => p.submission);
    const c2 = chain.next(subs);
    const before = { head: cell.head(), point: cell.restorePoint(), size: cell.mempool.size() };

    // Fail the 300th record insert, in the middle of the transaction.
    const insert = (cell as unknown as { s: { insertRecord: { run: (...a: unknown[]) => unknown } } }).s.insertRecord;
    const run = insert.run.bind(insert);
    let n = 0;
    insert.run = (...a: unknown[]) => {
      if (++n === 300) throw new Error("the disk went away");
      return run(...a);
    };
    try {
      expect(() => cell.commit({ ...c2, outbox: [{ key: "k", target: "x", kind: "output", payload: 1 }] })).toThrow("the disk went away");
    } finally {
      insert.run = run;
    }
    expect(n).toBe(300);
    expect(cell.head()).toEqual(before.head);
    expect(cell.block(2)).toBeNull();
    expect(cell.restorePoint()).toEqual(before.point);
    expect(cell.mempool.size()).toEqual(before.size);
    expect(cell.mempool.pending().map((p) => p.submission)).toEqual(pending);
    expect(ledger.inputStatus(sha(pending[0]))[0].status).toBe("pending");
    expect(ledger.outbox.undelivered()).toEqual([]);

    // The same block commits whole afterwards.
    expect(cell.commit(c2)).toMatchObject({ height: 2, already: false });
    expect(cell.mempool.size()).toEqual({ count: 0, bytes: 0 });
  });
});
