/**
 * Restoring a cell after a restart: the latest snapshot, the records it had,
 * and the blocks after it re-executed give exactly the state the node had
 * (same state root), and the node goes on building the same blocks.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { GENESIS_HASH } from "../../../runtime/consensus/index.js";
import { openLedger, restoreChainState, type Ledger } from "../../../runtime/ledger/index.js";
import { ChainBuilder, codeOf, inputs, T0, tempDir } from "./helpers.js";

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir();
});
afterEach(() => t.cleanup());

/** Commits `blocks` blocks of 20 inputs each; returns the builder (the live node's chain). */
function fill(ledger: Ledger, blocks: number): ChainBuilder {
  const chain = new ChainBuilder();
  const cell = ledger.cell("t", "c");
  for (let h = 0; h < blocks; h++) cell.commit(chain.next(inputs(h * 20, 20)));
  return chain;
}

describe("restore after a restart", () => {
  it("a small state (a snapshot at every commit) restores with the same state root, height and time", () => {
    let ledger = openLedger(t.file());
    const live = fill(ledger, 6);
    ledger.close();
    ledger = openLedger(t.file());
    const point = ledger.cell("t", "c").restorePoint();
    expect(point.snapshot.height).toBe(6);
    expect(point.blocks).toEqual([]);
    const { chain } = ledger.cell("t", "c").restart(new ChainBuilder().app);
    expect(chain.stateRoot).toBe(live.chain.stateRoot);
    expect(chain.height).toBe(6);
    expect(chain.time).toBe(live.chain.time);
    ledger.close();
  });

  it("a large state (snapshots every N blocks) restores from the snapshot plus re-executed blocks, with the same root", () => {
    let ledger = openLedger(t.file(), { snapshotMaxBytes: 64, snapshotEvery: 4 });
    const cell = ledger.cell("t", "c");
    const live = new ChainBuilder();
    const snaps: number[] = [];
    for (let h = 0; h < 11; h++) if (cell.commit(live.next(inputs(h * 20, 20))).snapshot) snaps.push(h + 1);
    // The first commit has no snapshot to compare with; after it the state is over 64 bytes: every 4 blocks.
    expect(snaps).toEqual([1, 5, 9]);
    ledger.close();

    ledger = openLedger(t.file(), { snapshotMaxBytes: 64, snapshotEvery: 4 });
    const point = ledger.cell("t", "c").restorePoint();
    expect(point.snapshot.height).toBe(9);
    expect(point.blocks.map((b) => b.height)).toEqual([10, 11]);
    expect(point.encoded.records.length).toBe(point.snapshot.recordCount);
    const fresh = new ChainBuilder();
    const chain = restoreChainState(point, fresh.app);
    expect(chain.stateRoot).toBe(live.chain.stateRoot);
    expect(chain.height).toBe(11);

    // The restored node builds exactly the block the live one builds next.
    fresh.chain = chain;
    fresh.prevHash = point.head.hash;
    const a = fresh.next(inputs(500, 20));
    const b = live.next(inputs(500, 20));
    expect(a.valueId).toBe(b.valueId);
    ledger.cell("t", "c").commit(a);
    ledger.close();
  });

  it("a fresh cell restores to genesis: height 1 next, after the hash of 64 zeros", () => {
    const ledger = openLedger(t.file());
    const r = ledger.cell("t", "c").restart(new ChainBuilder().app);
    expect(r.chain).toEqual({ height: 0, time: 0, cell: {}, stateRoot: "", sent: {}, received: {} });
    expect(r.start).toMatchObject({ height: 1, prevHash: GENESIS_HASH, signer: null });
    expect(r.wal).toEqual([]);
    ledger.close();
  });

  it("restart hands consensus the signer's record and the WAL of the next height", () => {
    const ledger = openLedger(t.file());
    const live = fill(ledger, 2);
    const cell = ledger.cell("t", "c");
    const message = { type: "prevote" as const, channel: "t", cell: "c", height: 3, round: 0, valueId: null, validator: "a".repeat(64), signature: "b".repeat(128) };
    cell.signer.save({ height: 3, round: 0, step: 1, valueId: null, message });
    const entry = { height: 3, event: { kind: "message" as const, frame: message, now: T0 } };
    cell.wal.append(entry);
    const r = cell.restart(new ChainBuilder().app);
    expect(r.start).toEqual({ height: 3, prevHash: live.prevHash, app: r.chain, signer: { height: 3, round: 0, step: 1, valueId: null, message } });
    expect(r.wal).toEqual([entry]);
    ledger.close();
  });

  it("a snapshot edited on disk is LEDGER_RESTORE_MISMATCH, never a quietly different state", () => {
    let ledger = openLedger(t.file());
    fill(ledger, 3);
    ledger.close();
    const db = new Database(t.file());
    db.prepare("UPDATE snapshots SET user = ?").run(JSON.stringify({ count: 1_000_000 }));
    db.close();
    ledger = openLedger(t.file());
    expect(codeOf(() => ledger.cell("t", "c").restart(new ChainBuilder().app))).toBe("LEDGER_RESTORE_MISMATCH");
    ledger.close();
  });

  it("a head that the blocks do not reach is LEDGER_RESTORE_MISMATCH", () => {
    let ledger = openLedger(t.file(), { snapshotMaxBytes: 1, snapshotEvery: 50 });
    fill(ledger, 3);
    ledger.close();
    const db = new Database(t.file());
    db.prepare("UPDATE cells SET head_state_root = ?").run("f".repeat(64));
    db.close();
    ledger = openLedger(t.file());
    expect(codeOf(() => ledger.cell("t", "c").restart(new ChainBuilder().app))).toBe("LEDGER_RESTORE_MISMATCH");
    ledger.close();
  });
});
