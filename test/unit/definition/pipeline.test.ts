/** The emit graph: cycles are found and named correctly; otherwise the order is topological and stable. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadChannel } from "../../../runtime/definition/index.js";

function channelOf(n: number, edges: Array<[number, number]>): string {
  const lines = ["channel: t", "version: 1", "groups:", "  g: { validators: [a], threshold: 1 }", "cells:"];
  for (let i = 0; i < n; i++) {
    lines.push(`  c${i}:`, "    group: g", "    accepts: true");
    const out = edges.filter(([a]) => a === i);
    if (out.length) lines.push("    emit:", ...out.map(([, b]) => `      - to: c${b}`));
  }
  return `${lines.join("\n")}\n`;
}

function hasCycle(n: number, edges: Array<[number, number]>): boolean {
  const state = new Array<number>(n).fill(0);
  const visit = (v: number): boolean => {
    state[v] = 1;
    for (const [a, b] of edges) {
      if (a !== v) continue;
      if (state[b] === 1 || (state[b] === 0 && visit(b))) return true;
    }
    state[v] = 2;
    return false;
  };
  return [...Array(n).keys()].some((v) => state[v] === 0 && visit(v));
}

const graph = fc.integer({ min: 1, max: 7 }).chain((n) =>
  fc.tuple(
    fc.constant(n),
    // b = a + 1 + k (mod n) is never a: no self-loops, and no filter that could starve the generator when n = 1.
    n === 1
      ? fc.constant([] as Array<[number, number]>)
      : fc.uniqueArray(
          fc.tuple(fc.nat(n - 1), fc.nat(n - 2)).map(([a, k]): [number, number] => [a, (a + 1 + k) % n]),
          { maxLength: 12, selector: ([a, b]) => `${a}-${b}` },
        ),
  ),
);

describe("pipeline", () => {
  it("orders acyclic pipelines topologically and names a real cycle otherwise", () => {
    fc.assert(
      fc.property(graph, ([n, edges]) => {
        const r = loadChannel(channelOf(n, edges), { file: "t.yaml" });
        const isEdge = (a: string, b: string) => edges.some(([x, y]) => `c${x}` === a && `c${y}` === b);
        if (hasCycle(n, edges)) {
          expect(r.plan).toBeUndefined();
          const cycles = r.problems.filter((p) => p.code === "DEFINITION_PIPELINE_CYCLE");
          expect(cycles.length).toBeGreaterThan(0);
          for (const p of cycles) {
            const names = /cells (.*) form a cycle/.exec(p.message)![1].split(" -> ");
            expect(names[0]).toBe(names[names.length - 1]);
            for (let i = 0; i + 1 < names.length; i++) expect(isEdge(names[i], names[i + 1])).toBe(true);
          }
        } else {
          expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
          const order = r.plan!.order;
          expect([...order].sort()).toEqual([...Array(n).keys()].map((i) => `c${i}`).sort());
          for (const [a, b] of edges) expect(order.indexOf(`c${a}`)).toBeLessThan(order.indexOf(`c${b}`));
          for (const [a, b] of edges) {
            expect(r.plan!.cells[`c${a}`].downstream).toContain(`c${b}`);
            expect(r.plan!.cells[`c${b}`].upstream).toContain(`c${a}`);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it("breaks ties by name, sources first", () => {
    const r = loadChannel(channelOf(4, [[3, 0], [2, 0]]), { file: "t.yaml" });
    expect(r.plan?.order).toEqual(["c1", "c2", "c3", "c0"]);
  });

  it("reports each cycle once, at the emit that closes it", () => {
    const r = loadChannel(channelOf(5, [[0, 1], [1, 0], [2, 3], [3, 4], [4, 2]]), { file: "t.yaml" });
    const cycles = r.problems.filter((p) => p.code === "DEFINITION_PIPELINE_CYCLE");
    expect(cycles.map((p) => p.message.split(" form")[0])).toEqual(["cells c0 -> c1 -> c0", "cells c2 -> c3 -> c4 -> c2"]);
    // c1's emit to c0 is on line 15; c4's emit to c2 on line 30.
    expect(cycles.map((p) => p.location?.line)).toEqual([15, 30]);
  });
});
