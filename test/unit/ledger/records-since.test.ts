/**
 * What a commit reads from a state: the records a block added, as a slice
 * (runtime/cells recordsSince), in arrival order, on a line of states and on
 * a fork, at a cost of the records returned rather than the state's size.
 */
import { describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { recordsSince } from "../../../runtime/cells/index.js";
import { recordKeysFrom, recordsAppend, recordKeys, type RecordsRef } from "../../../runtime/cells/records-store.js";
import { ChainBuilder, inputs } from "./helpers.js";

describe("recordsSince: a block's new records", () => {
  it("gives the records after a position, in arrival order, for each state of a line", () => {
    const b = new ChainBuilder();
    const s1 = b.next(inputs(0, 10)).state.cell;
    const s2 = b.next(inputs(10, 10)).state.cell;
    expect(recordsSince(s1, 0).map(([k]) => k)).toEqual(["k0", "k1", "k2", "k4", "k5", "k6", "k7", "k8", "k9"]);
    expect(recordsSince(s2, 9).map(([k]) => k)).toEqual(["k11", "k12", "k13", "k14", "k15", "k16", "k18", "k19"]);
    expect(recordsSince(s2, 9)[0]).toEqual(["k11", { id: "k11", n: 11 }]);
    // The older state still sees only its own records.
    expect(recordsSince(s1, 5).map(([k]) => k)).toEqual(["k6", "k7", "k8", "k9"]);
    expect(recordsSince(s1, 9)).toEqual([]);
  });

  it("on a fork (a second block executed on the same parent) gives the fork's records, not the line's", () => {
    const b = new ChainBuilder();
    const parent = b.next(inputs(0, 3)).state;
    const line = b.app.applyValue(parent, b.app.buildValue({ height: 2, round: 0, prevHash: b.prevHash, time: parent.time + 1, state: parent, pending: inputs(110, 2) }));
    const fork = b.app.applyValue(parent, b.app.buildValue({ height: 2, round: 1, prevHash: b.prevHash, time: parent.time + 2, state: parent, pending: inputs(200, 2) }));
    expect(recordsSince(line.cell, 3).map(([k]) => k)).toEqual(["k110", "k111"]);
    expect(recordsSince(fork.cell, 3).map(([k]) => k)).toEqual(["k200", "k201"]);
    const next = b.app.applyValue(fork, b.app.buildValue({ height: 3, round: 0, prevHash: "f".repeat(64), time: fork.time + 1, state: fork, pending: inputs(300, 1) }));
    expect(recordsSince(next.cell, 5).map(([k]) => k)).toEqual(["k300"]);
  });

  it("reads 10 new records of a 1,000,000-record store in under 50 ms (walking the store took ~250 ms)", () => {
    let ref: RecordsRef | undefined;
    for (let blk = 0; blk < 1000; blk++) {
      const m = new Map<string, Json>();
      for (let i = 0; i < 1000; i++) m.set(`r${blk}-${i}`, i);
      ref = recordsAppend(ref, m);
    }
    const last = new Map<string, Json>();
    for (let i = 0; i < 10; i++) last.set(`last-${i}`, i);
    const before = ref!.count;
    ref = recordsAppend(ref, last);
    const t = performance.now();
    const keys = recordKeysFrom(ref, before);
    const ms = performance.now() - t;
    expect(keys).toEqual([...last.keys()]);
    expect(ms).toBeLessThan(50);
    expect(recordKeys(ref).length).toBe(1_000_010);
  });
});
