import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { canonicalString, type Json } from "../../../runtime/core/canonical.js";
import {
  decodeState,
  encodeState,
  executeBlock,
  plainState,
  stateRootOf,
  type BlockInput,
  type CellState,
} from "../../../runtime/cells/index.js";
import { digestStats } from "../../../runtime/cells/digest.js";
import { newEdit, trieDelete, trieRoot, trieSet, type Trie } from "../../../runtime/cells/hamt.js";
import { isWide, wideSettings } from "../../../runtime/cells/wide-object.js";
import { fakeRunner, header, planFromYaml } from "./helpers.js";

// Every kind of update, at paths computed from the input, so random inputs reach
// set / add / append / remove on objects, lists, empties and conflicts.
const plan = planFromYaml(`
channel: ops
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  c:
    group: g
    accepts:
      type: object
      required: [k, a, b, v, op]
      properties:
        k: { type: string }
        a: { type: string }
        b: { type: string }
        v: {}
        op: { enum: [set, add, append, remove, setdeep, record] }
    key: { if: [ { "==": [ { var: data.op }, record ] }, { var: data.k }, { cat: [ "#", { var: data.k }, "-", { var: data.a }, "-", { var: data.b }, "-", { var: data.op } ] } ] }
    state:
      - set: m.{data.a}
        value: { var: data.v }
        when: { "==": [ { var: data.op }, set ] }
      - set: m.{data.a}.{data.b}
        value: { var: data.v }
        when: { "==": [ { var: data.op }, setdeep ] }
      - add: n.{data.a}
        value: 1
        when: { "==": [ { var: data.op }, add ] }
      - append: l.{data.a}
        value: { var: data.v }
        when: { "==": [ { var: data.op }, append ] }
      - remove: m.{data.a}
        when: { "==": [ { var: data.op }, remove ] }
      - remove: l.{data.a}.0
        when: { "==": [ { var: data.op }, remove ] }
`);

const names = fc.constantFrom("x", "y", "z", "0", "1");
const value: fc.Arbitrary<Json> = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom("s", "", null, true),
  fc.constant({}),
  fc.constant([]),
  fc.record({ p: fc.integer({ min: 0, max: 2 }) }),
  fc.constant([1, { q: [] }]),
) as fc.Arbitrary<Json>;
const input = fc.record({ k: names, a: names, b: names, v: value, op: fc.constantFrom("set", "add", "append", "remove", "setdeep", "record") });

/** Forget the incremental structure: store the state with its codec, restore it from fresh JSON, and take its root. */
function rebuiltRoot(state: CellState): string {
  const stored = JSON.parse(JSON.stringify(encodeState(state))) as ReturnType<typeof encodeState>;
  return stateRootOf(decodeState(stored));
}

function incrementalEqualsRebuilt(): void {
    fc.assert(
      fc.property(fc.array(fc.array(input, { maxLength: 8 }), { minLength: 1, maxLength: 6 }), (blocks) => {
        let state: CellState = {};
        blocks.forEach((b, h) => {
          const r = executeBlock(plan, "c", state, b.map((d) => ({ data: d as Json })), header(h + 1));
          expect(rebuiltRoot(r.state)).toBe(r.stateRoot);
          state = r.state;
        });
      }),
      { numRuns: 150, seed: 3 },
    );
}

describe("state root", () => {
  test("the incremental root always equals the root rebuilt from the plain state", () => {
    incrementalEqualsRebuilt();
  });

  test("... also when every object is a wide (persistent) object", () => {
    const saved = wideSettings.threshold;
    wideSettings.threshold = 0;
    try {
      incrementalEqualsRebuilt();
    } finally {
      wideSettings.threshold = saved;
    }
  });

  test("the user root depends on content, not history; the records root on arrival order", () => {
    const run = (blocks: Json[][]) => {
      let state: CellState = {};
      let r: ReturnType<typeof executeBlock> | undefined;
      blocks.forEach((b, h) => {
        r = executeBlock(plan, "c", state, b.map((data) => ({ data })), header(h + 1));
        state = r.state;
      });
      return r!;
    };
    const set = (a: string, v: Json, k: string) => ({ k, a, b: "x", v, op: "set" });
    const one = run([[set("x", 1, "p"), set("y", 2, "q")]]);
    const other = run([[set("y", 5, "r")], [set("x", 9, "s"), set("x", 1, "t"), set("y", 2, "u")]]);
    expect(canonicalString(plainState(one.state).m ?? null)).toBe(canonicalString(plainState(other.state).m ?? null));
    expect(one.userRoot).toBe(other.userRoot);
    // Same records, different arrival: same content, different (history) records root.
    const rec = (k: string) => ({ k, a: "x", b: "x", v: 1, op: "record" });
    const ab = run([[rec("a"), rec("b")]]);
    const ba = run([[rec("b"), rec("a")]]);
    expect(canonicalString(ab.state)).toBe(canonicalString(ba.state));
    expect(ab.commitment.recordsRoot).not.toBe(ba.commitment.recordsRoot);
    expect(ab.stateRoot).not.toBe(ba.stateRoot);
  });

  test("a segment containing a NUL is one segment, not two", () => {
    const p = planFromYaml(`
channel: nul
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  c:
    group: g
    accepts: { type: object }
    state:
      - set: m.{data.a}
        value: 1
        when: { var: data.a }
      - set: m.{data.b}.{data.c}.z
        value: { var: data.v }
        when: { var: data.b }
`);
    const b1 = executeBlock(p, "c", {}, [{ data: { b: "x", c: "y", v: 0 } }], header(1));
    const b2 = executeBlock(p, "c", b1.state, [{ data: { a: "x\u0000y" } }, { data: { b: "x", c: "y", v: 2 } }], header(2));
    expect(b2.accepted).toBe(2);
    expect(rebuiltRoot(b2.state)).toBe(b2.stateRoot);
  });

  test("with a reduce hook, the root of whatever state it returns equals the rebuilt root", () => {
    const rplan = planFromYaml(
      `
channel: red
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  c:
    group: g
    accepts: { type: object }
    code: ./r.js
`,
      { "r.js": "function reduce(state, data) { return state }" },
    );
    const json = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: "small" }, fc.integer({ min: -2, max: 2 }), fc.constantFrom("a", null, false), fc.array(tie("v"), { maxLength: 3 }), fc.dictionary(fc.constantFrom("p", "q", "0"), tie("v"), { maxKeys: 3 })),
    })).v as fc.Arbitrary<Json>;
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.constantFrom("x", "y", "z"), json, { maxKeys: 3 }), { minLength: 1, maxLength: 5 }), (states) => {
        let state: CellState = {};
        states.forEach((next, h) => {
          const runner = fakeRunner({ reduce: () => ({ state: next }) });
          const r = executeBlock(rplan, "c", state, [{ data: { n: h } }], header(h + 1), { code: () => runner });
          expect(canonicalString(plainState(r.state))).toBe(canonicalString(next));
          expect(rebuiltRoot(r.state)).toBe(r.stateRoot);
          state = r.state;
        });
      }),
      { numRuns: 150, seed: 11 },
    );
  });

  test("{} and a state holding an empty object have different roots", () => {
    const a = executeBlock(plan, "c", {}, [{ data: { k: "k", a: "x", b: "x", v: {}, op: "set" } }], header());
    const b = executeBlock(plan, "c", {}, [{ data: { k: "k", a: "x", b: "x", v: [], op: "set" } }], header());
    expect(a.userRoot).not.toBe(b.userRoot);
    expect(stateRootOf({})).not.toBe(a.stateRoot);
  });

  test("hashing follows what a block changed, not the size of the state", () => {
    // A state with 5,000 user leaves and 5,000 records.
    const big: BlockInput[] = [];
    for (let i = 0; i < 5000; i++) big.push({ data: { k: `r${i}`, a: `f${i}`, b: "x", v: i, op: "set" } });
    const b1 = executeBlock(plan, "c", {}, big, header(1));
    expect(b1.accepted).toBe(5000);
    const before = digestStats.calls;
    const b2 = executeBlock(plan, "c", b1.state, [{ data: { k: "one", a: "f7", b: "x", v: -1, op: "set" } }], header(2));
    const used = digestStats.calls - before;
    expect(b2.accepted).toBe(1);
    // One bucket + the branches above it in a 16-ary trie, the user root, the record's chain tip and the state root: a handful, not thousands.
    expect(used).toBeLessThanOrEqual(12);
    expect(rebuiltRoot(b2.state)).toBe(b2.stateRoot);
  });

  test("a stored state restores with the same root; the records' order is part of what is stored", () => {
    const imported: CellState = { records: { b: { v: 2 }, a: { v: 1 } }, total: 3 };
    expect(() => stateRootOf(imported)).toThrow(expect.objectContaining({ code: "CELL_NO_COMMITMENT" }));
    const ab = decodeState({ user: { total: 3 }, records: [["a", { v: 1 }], ["b", { v: 2 }]] });
    const ba = decodeState({ user: { total: 3 }, records: [["b", { v: 2 }], ["a", { v: 1 }]] });
    expect(stateRootOf(ab)).not.toBe(stateRootOf(ba));
    expect(stateRootOf(decodeState(encodeState(ab)))).toBe(stateRootOf(ab));
    expect(encodeState(ba).records.map(([k]) => k)).toEqual(["b", "a"]);
    expect(() => decodeState({ user: { total: 3 }, records: [["a", 1], ["a", 2]] })).toThrow(expect.objectContaining({ code: "CELL_BAD_STATE" }));
    // A restored state runs on like the original.
    const r = executeBlock(plan, "c", ab, [{ data: { k: "c", a: "x", b: "x", v: 1, op: "record" } }], header(2));
    expect(r.accepted).toBe(1);
    expect(rebuiltRoot(r.state)).toBe(r.stateRoot);
  });

  test("the root does not depend on how inputs were cut into blocks (records are chained by position, not by block)", () => {
    const rec = (i: number) => ({ data: { k: `r${i}`, a: `f${i % 7}`, b: "x", v: i, op: i % 3 === 0 ? "record" : "add" } as Json });
    const inputs = Array.from({ length: 300 }, (_, i) => rec(i));
    const whole = executeBlock(plan, "c", {}, inputs, header(1));
    let state: CellState = {};
    for (const [from, to] of [[0, 1], [1, 63], [63, 64], [64, 200], [200, 300]]) state = executeBlock(plan, "c", state, inputs.slice(from, to), header(1)).state;
    expect(stateRootOf(state)).toBe(whole.stateRoot);
    expect(rebuiltRoot(state)).toBe(whole.stateRoot);
  });

  test("a shallow copy of a produced state keeps its root (the records view carries the commitment)", () => {
    const r = executeBlock(plan, "c", {}, [{ data: { k: "a", a: "x", b: "x", v: 1, op: "record" } }], header());
    expect(stateRootOf({ ...r.state })).toBe(r.stateRoot);
  });
});

describe("wide objects", () => {
  test("a map with many keys is copied in O(1) per block and stays persistent", () => {
    const many: BlockInput[] = [];
    for (let i = 0; i < 10_000; i++) many.push({ data: { k: `r${i}`, a: `f${i}`, b: "x", v: i, op: "set" } });
    let t = performance.now();
    const b1 = executeBlock(plan, "c", {}, many, header(1));
    const first = performance.now() - t;
    // The first copy of the 10k-key map converts it; the next blocks touch one key each.
    const b2 = executeBlock(plan, "c", b1.state, [{ data: { k: "a", a: "f1", b: "x", v: "changed", op: "set" } }], header(2));
    t = performance.now();
    const b3 = executeBlock(plan, "c", b2.state, [{ data: { k: "b", a: "f2", b: "x", v: null, op: "remove" } }], header(3));
    const one = performance.now() - t;
    expect(isWide(b2.state.m as object)).toBe(true);
    expect(one).toBeLessThan(first / 20);
    const m1 = b1.state.m as Record<string, Json>;
    const m3 = b3.state.m as Record<string, Json>;
    expect([m1.f1, m1.f2]).toEqual([1, 2]);
    expect([m3.f1, "f2" in m3, Object.prototype.hasOwnProperty.call(m3, "f2"), m3.f3]).toEqual(["changed", false, false, 3]);
    expect(Object.keys(m3).length).toBe(9_999);
    expect(() => {
      (m3 as Record<string, Json>).f4 = 1;
    }).toThrow(TypeError);
    expect(rebuiltRoot(b3.state)).toBe(b3.stateRoot);
    expect(JSON.parse(canonicalString(b3.state.m))).toEqual(JSON.parse(JSON.stringify(m3)));
  });
});

describe("hash trie", () => {
  const leaf = (k: string, v: string) => `${k}=${v}`;
  test("shape and root are independent of insertion and deletion order", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 60 }), fc.integer({ min: 0, max: 1000 }), (keys, seed) => {
        let a: Trie<string>;
        const e1 = newEdit();
        for (const k of keys) a = trieSet(a, k, k, e1);
        // Another order, with extra keys inserted and deleted again.
        // Enough keys to split buckets into branches and collapse them again.
    const shuffled = [...keys].sort((x, y) => ((x.length * 31 + seed) % 7) - ((y.length * 31 + seed) % 7) || (x < y ? 1 : -1));
        let b: Trie<string>;
        const e2 = newEdit();
        for (const k of shuffled) {
          b = trieSet(b, `${k}#extra`, "x", e2);
          b = trieSet(b, k, k, e2);
        }
        for (const k of shuffled) b = trieDelete(b, `${k}#extra`, e2);
        expect(Buffer.from(trieRoot(b, leaf), "latin1").toString("hex")).toBe(Buffer.from(trieRoot(a, leaf), "latin1").toString("hex"));
      }),
      { numRuns: 100, seed: 7 },
    );
  });

  test("an earlier trie is unchanged by later edits (persistence)", () => {
    let t: Trie<string>;
    const e = newEdit();
    for (let i = 0; i < 200; i++) t = trieSet(t, `k${i}`, "v", e);
    const rootBefore = Buffer.from(trieRoot(t, leaf), "latin1").toString("hex");
    const e2 = newEdit();
    let u = t;
    for (let i = 0; i < 200; i += 2) u = trieDelete(u, `k${i}`, e2);
    u = trieSet(u, "new", "v", e2);
    expect(Buffer.from(trieRoot(t, leaf), "latin1").toString("hex")).toBe(rootBefore);
    expect(Buffer.from(trieRoot(u, leaf), "latin1").toString("hex")).not.toBe(rootBefore);
  });
});
