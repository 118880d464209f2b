/**
 * Hostile submissions offered to a whole group: what admission refuses never
 * rides in a block, so it costs the group a length check, not a hash.
 */
import { describe, expect, it } from "vitest";
import { canonicalString, type Json } from "../../../runtime/core/canonical.js";
import { runLocalGroup, type CellBlockValue } from "../../../runtime/consensus/index.js";
import { counterPlan } from "../../unit/consensus/cell-plans.js";

const MiB = 1024 * 1024;

describe("a group offered submissions that admission refuses", () => {
  it("a 4-node group offered a 50 MiB submission decides a small block without it in under 5 s, and drops it from pending", () => {
    const plan = counterPlan();
    const huge: Json = { id: "huge", n: 1, pad: "x".repeat(50 * MiB) };
    const text: Json = `{"id":"text","n":1,"pad":"${"y".repeat(50 * MiB)}"}`;
    const pending: Json[] = [{ data: { id: "a", n: 1 } }, { data: huge }, text, { data: { id: "b", n: 2 } }];
    const t0 = performance.now();
    const nodes = runLocalGroup({ plan, cell: "c", pending, heights: 1, startTime: 1_700_000_000_000 });
    const ms = performance.now() - t0;
    // Before admission was enforced on blocks, this took 21 s and 715 MB on the 2-core machine.
    expect(ms).toBeLessThan(5000);
    expect(nodes).toHaveLength(4);
    for (const n of nodes) {
      expect(n.decided).toHaveLength(1);
      const v = n.decided[0].value as unknown as CellBlockValue;
      expect(v.inputs.map((i) => (i as { data: { id: string } }).data.id)).toEqual(["a", "b"]);
      expect(canonicalString(v).length).toBeLessThan(4096);
      expect(n.state.pending).toEqual([]);
    }
  });
});
