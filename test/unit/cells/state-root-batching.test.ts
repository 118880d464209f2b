/**
 * The state root of many updates in one block: a changed key is hashed once
 * per block, whatever number of updates reached it, and the root is the one
 * of the final state, whether the updates came in one block, in many, or the
 * state was built from scratch out of its plain JSON.
 */
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { canonicalString, type Json } from "../../../runtime/core/canonical.js";
import { decodeState, encodeState, executeBlock, plainState, stateRootOf, userStateText, type BlockInput, type CellState } from "../../../runtime/cells/index.js";
import { digestStats } from "../../../runtime/cells/digest.js";
import { isWide, wideSettings } from "../../../runtime/cells/wide-object.js";
import { admit, header, planFromYaml } from "./helpers.js";

// The benchmark's two updates (a wide map written per input, a small aggregate), plus removals and nested values.
const plan = planFromYaml(`
channel: batching
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  c:
    group: g
    accepts:
      type: object
      required: [k, d, v, op]
      properties:
        k: { type: string }
        d: { type: string }
        v: {}
        op: { enum: [set, remove, nest] }
    state:
      - set: latest.{data.k}
        value: { var: data.v }
        when: { "==": [ { var: data.op }, set ] }
      - set: latest.{data.k}
        value: { cat: [ { var: data.d }, "/", { var: data.k } ] }
        when: { "==": [ { var: data.op }, nest ] }
      - set: deep.{data.d}.{data.k}
        value: { var: data.v }
        when: { "==": [ { var: data.op }, nest ] }
      - remove: latest.{data.k}
        when: { "==": [ { var: data.op }, remove ] }
      - add: totals.{data.d}.count
        value: 1
`);

interface Op {
  k: string;
  d: string;
  v: Json;
  op: "set" | "remove" | "nest";
}

function inputs(ops: readonly Op[]): BlockInput[] {
  return ops.map((o) => admit(plan, "c", o));
}

/** Runs `ops` cut into blocks at `cuts` (sorted positions), returning the final result. */
function runCut(ops: readonly Op[], cuts: readonly number[]): { state: CellState; root: string } {
  const all = inputs(ops);
  let state: CellState = {};
  let root = stateRootOf(state);
  let from = 0;
  let h = 1;
  for (const cut of [...cuts, all.length]) {
    const to = Math.min(cut, all.length);
    if (to <= from) continue;
    const r = executeBlock(plan, "c", state, all.slice(from, to), header(h++));
    expect(r.accepted).toBe(to - from);
    state = r.state;
    root = r.stateRoot;
    from = to;
  }
  return { state, root };
}

/** Runs `f` with plain objects, then with every copied object wide (a trie from its first copy on). */
function forPlainAndWide(f: (threshold: number) => void): void {
  const saved = wideSettings.threshold;
  try {
    for (const threshold of [saved, 0]) {
      wideSettings.threshold = threshold;
      f(threshold);
    }
  } finally {
    wideSettings.threshold = saved;
  }
}

/** The root of the same state built from nothing: its plain JSON through the storage codec. */
function fromScratch(state: CellState): string {
  const stored = JSON.parse(JSON.stringify(encodeState(state))) as ReturnType<typeof encodeState>;
  return stateRootOf(decodeState(stored));
}

/** Many updates over few keys: most keys are written several times in a block. */
function workload(n: number, keys: number, seed: number): Op[] {
  const ops: Op[] = [];
  let x = seed;
  const next = (m: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % m;
  };
  for (let i = 0; i < n; i++) {
    const r = next(10);
    const op = r < 7 ? "set" : r < 9 ? "nest" : "remove";
    ops.push({ k: `sensor-${next(keys)}`, d: ["cen", "nor", "sou"][next(3)], v: next(5) === 0 ? { at: i, tags: ["a", i % 3] } : i % 97, op });
  }
  return ops;
}

describe("state root of many updates in one block", () => {
  test("one block, the same updates split across blocks, and the state built from scratch have one root", () => {
    // 6,000 updates over 2,000 keys: the map is wide (a trie of branches and buckets), and keys are written, rewritten and removed.
    const ops = workload(6000, 2000, 42);
    const one = runCut(ops, []);
    expect(isWide(one.state.latest as object)).toBe(false); // one block: the map is created and filled in the same pass
    const split = runCut(ops, [1, 64, 500, 1999, 2000, 3500, 5999]);
    expect(isWide(split.state.latest as object)).toBe(true);
    const perInput = runCut(
      ops.slice(0, 400),
      Array.from({ length: 399 }, (_, i) => i + 1),
    );
    expect(canonicalString(plainState(split.state))).toBe(canonicalString(plainState(one.state)));
    expect(split.root).toBe(one.root);
    expect(fromScratch(one.state)).toBe(one.root);
    expect(fromScratch(split.state)).toBe(one.root);
    expect(perInput.root).toBe(runCut(ops.slice(0, 400), []).root);
    expect(fromScratch(perInput.state)).toBe(perInput.root);
  });

  test("a key written many times in a block costs the hashes of one write", () => {
    // A 5,000-key wide map, then two blocks that touch the same 50 keys: once each, and 40 times each.
    const base = runCut(
      Array.from({ length: 5000 }, (_, i) => ({ k: `sensor-${i}`, d: "cen", v: i, op: "set" as const })),
      [2500],
    ).state;
    const touch = (times: number): { hashes: number; root: string; state: CellState } => {
      const ops: Op[] = [];
      for (let t = 0; t < times; t++) for (let i = 0; i < 50; i++) ops.push({ k: `sensor-${i * 97}`, d: "cen", v: t === times - 1 ? -i - 1 : t, op: "set" });
      const block = inputs(ops);
      const before = digestStats.calls;
      const r = executeBlock(plan, "c", base, block, header(9));
      expect(r.accepted).toBe(ops.length);
      return { hashes: digestStats.calls - before, root: r.stateRoot, state: r.state };
    };
    const once = touch(1);
    const many = touch(40);
    // The same final map (the totals differ: one add per input).
    expect(canonicalString(plainState(many.state).latest)).toBe(canonicalString(plainState(once.state).latest));
    expect(fromScratch(many.state)).toBe(many.root);
    expect(many.hashes).toBe(once.hashes);
    // 50 keys of a 5,000-key trie: at most 50 buckets, the branches above them, and a few roots.
    expect(once.hashes).toBeLessThan(50 * 4);
  });

  test("property: any cut of a block into consecutive blocks gives the root of the whole block and of the state built from scratch", () => {
    const op: fc.Arbitrary<Op> = fc.record({
      k: fc.integer({ min: 0, max: 40 }).map((i) => `k${i}`),
      d: fc.constantFrom("cen", "nor"),
      v: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom<Json>("x", null, { a: [1] })),
      op: fc.constantFrom<Op["op"]>("set", "set", "nest", "remove"),
    });
    forPlainAndWide(() => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), fc.uniqueArray(fc.integer({ min: 1, max: 119 }), { maxLength: 6 }), (ops, cuts) => {
          const whole = runCut(ops, []);
          const cut = runCut(ops, [...cuts].sort((a, b) => a - b));
          expect(cut.root).toBe(whole.root);
          expect(fromScratch(whole.state)).toBe(whole.root);
          expect(fromScratch(cut.state)).toBe(whole.root);
        }),
        { numRuns: 60, seed: 9 },
      );
    });
  });

  test("property: a snapshot's text (userStateText) is JSON.stringify's text of the user fields, wide maps, nested ones and integer-like keys included", () => {
    const op: fc.Arbitrary<Op> = fc.record({
      k: fc.constantFrom("k1", "k2", "7", "10", "0", "a.b", "é", "z", "k3", "-1"),
      d: fc.constantFrom("cen", "nor", "3"),
      v: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom<Json>("x", null, { a: [1, { b: "c" }] }, [], "\u2028")),
      op: fc.constantFrom<Op["op"]>("set", "set", "nest", "remove"),
    });
    forPlainAndWide((threshold) => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 80 }), fc.uniqueArray(fc.integer({ min: 1, max: 79 }), { maxLength: 4 }), (ops, cuts) => {
          const { state } = runCut(ops, [...cuts].sort((a, b) => a - b));
          const user: Record<string, unknown> = {};
          for (const k of Object.keys(state)) if (k !== "records") user[k] = (state as Record<string, unknown>)[k];
          expect(userStateText(state)).toBe(JSON.stringify(user));
        }),
        { numRuns: 80, seed: 11 },
      );
      if (threshold === 0) {
        const { state } = runCut([{ k: "k1", d: "cen", v: 1, op: "set" }, { k: "k2", d: "cen", v: 2, op: "set" }], [1]);
        expect(isWide((state as Record<string, object>).latest)).toBe(true);
      }
    });
  });
});
