/**
 * One reduce input's verdict depends only on the state before it and on the
 * input, never on the path its neighbours caused (a batch, a fault that
 * rewinds the fold, one call per input, chunks). Checked against an oracle
 * that runs the same hook in plain Node on a fresh parse of the state text for
 * every input, over random batches of inputs that write plain values, break the
 * state for a moment (undefined, functions, NaN, -0, lone surrogates, shared
 * objects, accessors, hidden, read-only and symbol-keyed properties, frozen and
 * sealed objects, in views and in the small objects handed out as they are),
 * replace it, or fault.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/index.js";
import { STATE_CHARS_PER_MB, type HookItem, type ReduceItemResult } from "../../../runtime/sandbox/index.js";
import { disposeAll, items, runner, wellFormed } from "./helpers.js";

afterAll(disposeAll);

/** Runs the operations an input lists on the state: plain writes, impure writes, structure changes, faults. */
const HOOK = String.raw`
function reduce(s, d) {
  for (const [op, a, b] of d.ops) {
    switch (op) {
      case "set": s[a] = b; break;
      case "nest": (s.m || (s.m = {}))[a] = b; break;
      case "inc": s.n = (s.n || 0) + 1; break;
      case "del": delete s[a]; break;
      case "delNest": if (s.m) delete s.m[a]; break;
      case "undef": s[a] = undefined; break;
      case "fn": s[a] = function () { return 1; }; break;
      case "nan": s[a] = NaN; break;
      case "neg0": s[a] = -0; break;
      case "lone": s[a] = "x\u{1F600}".slice(0, 2); break;
      case "push": (s.list || (s.list = [])).push(b); break;
      case "pushObj": (s.list || (s.list = [])).push({ v: b }); break;
      case "pop": if (s.list) s.list.pop(); break;
      case "shift": if (s.list) s.list.shift(); break;
      case "hole": if (s.list) s.list[s.list.length + 1] = 1; break;
      case "alias": s[a] = s[b]; break;
      case "aliasMut": s[a] = s.m; if (s.m) s.m.z = (s.m.z || 0) + 1; break;
      case "wrap": s[a] = { inner: s.m, list: s.list }; break;
      case "freeze": if (s.m) Object.freeze(s.m); break;
      case "hidden": Object.defineProperty(s, a, { value: b, enumerable: false, writable: true, configurable: true }); break;
      case "getter": { let k = 0; Object.defineProperty(s, a, { get() { k++; return k; }, enumerable: true, configurable: true }); break; }
      case "proto": if (s.m) Object.setPrototypeOf(s.m, null); break;
      case "keys": s.k = Object.keys(s).join(",") + "|" + (s.m ? Object.keys(s.m).join(",") : ""); break;
      case "has": s.h = [a in s, s.m ? a in s.m : false, typeof s[a], Object.isFrozen(s.m || 1)].join(); break;
      case "spread": s = { ...s, spread: (s.spread || 0) + 1 }; break;
      case "mHidden": if (s.m) Object.defineProperty(s.m, a, { value: 1, enumerable: false, writable: true, configurable: true }); break;
      case "mGetter": if (s.m) Object.defineProperty(s.m, a, { get() { return 2; }, enumerable: true, configurable: true }); break;
      case "mReadonly": if (s.m) Reflect.defineProperty(s.m, a, { value: 3, enumerable: true, writable: false, configurable: true }); break;
      case "mMany": if (s.m) Object.defineProperties(s.m, { [a]: { value: 5, enumerable: true, writable: true, configurable: false } }); break;
      case "mSymbol": if (s.m) s.m[Symbol.for("k")] = 1; break;
      case "mStack": if (s.m) Error.captureStackTrace(s.m); break;
      case "mDefGetter": if (s.m) s.m.__defineGetter__(a, () => 4); break;
      case "mSeal": if (s.m) Object.seal(s.m); break;
      case "mObj": if (s.m) s.m[a] = { deep: [b] }; break;
      case "mOnce": { const m = s.m; if (m && typeof m === "object") Object.defineProperty(m, a, { value: 1, enumerable: false, writable: true, configurable: true }); break; }
      case "observe": {
        const m = s.m || {};
        s.o = [Object.getOwnPropertyNames(m).join(), Object.getOwnPropertySymbols(m).length, JSON.stringify(Object.getOwnPropertyDescriptor(m, a) || null), Object.isSealed(m), Object.isExtensible(m)].join("|");
        break;
      }
      case "sub": return s.m || {};
      case "json": s.j = JSON.stringify(s).length; break;
      case "throw": throw new Error("op " + a);
      case "array": return [s];
      case "big": s.big = "b".repeat(a); break;
      // Many small objects in one input (more than the fold tracks in a list before it uses a Set):
      // read them all, write some, store new ones, then break one of the later ones.
      case "wRead": if (s.w) { let t = 0; for (const k of Object.keys(s.w)) if (s.w[k] && typeof s.w[k] === "object") t += s.w[k].v || 0; s.wt = t; } break;
      case "wInc": if (s.w) for (const k of Object.keys(s.w)) if (s.w[k] && typeof s.w[k] === "object") s.w[k].v = (s.w[k].v || 0) + 1; break;
      case "wNew": { const w = s.w || (s.w = {}); for (let i = 0; i < 12; i++) w["n" + i] = { v: b, i }; for (let i = 0; i < 12; i++) w["n" + i].seen = w["n" + i].i; break; }
      case "wAlias": if (s.w) { const last = s.w.n11 || s.w.l11; s.w.dup = last; if (last && typeof last === "object") last.v = "alias"; } break;
      case "wHidden": if (s.w) { for (const k of Object.keys(s.w)) if (k !== "l11") void s.w[k]; const last = s.w.l11 || s.w.n11; if (last && typeof last === "object") Object.defineProperty(last, a, { value: 1, enumerable: false, writable: true, configurable: true }); } break;
      case "wSymbol": if (s.w) { for (const k of Object.keys(s.w)) void s.w[k]; const last = s.w.l11 || s.w.n11; if (last && typeof last === "object") last[Symbol.for("k")] = 1; } break;
      case "wObserve": if (s.w) { const last = s.w.l11 || s.w.n11; s.wo = last && typeof last === "object" ? Object.getOwnPropertyNames(last).join() + "|" + Object.getOwnPropertySymbols(last).length : "none"; } break;
      case "wReplace": if (s.w) for (const k of Object.keys(s.w)) if (s.w[k] && typeof s.w[k] === "object") s.w[k] = { v: (s.w[k].v || 0) + 2 }; break;
    }
  }
  return s;
}`;

const LIMIT = 32 * STATE_CHARS_PER_MB;

/** The rules of docs/sandbox.md for a state: plain JSON, read once per value (getters once). */
function oracleClean(v: unknown, depth: number): Json {
  if (typeof v === "string") {
    if (!wellFormed(v)) throw new Error("lone surrogate");
    return v;
  }
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error("not finite");
    return v === 0 ? 0 : v;
  }
  if (typeof v === "boolean" || v === null) return v;
  if (typeof v !== "object") throw new Error(typeof v);
  if (depth >= 64) throw new Error("deep");
  const proto = Object.getPrototypeOf(v) as unknown;
  if (Array.isArray(v)) {
    if (proto !== Array.prototype) throw new Error("array");
    const a: Json[] = [];
    for (let i = 0; i < v.length; i++) a.push(oracleClean(v[i], depth + 1));
    return a;
  }
  if (proto !== Object.prototype && proto !== null) throw new Error("class");
  const o: Record<string, Json> = {};
  for (const k of Object.keys(v)) {
    if (k === "__proto__" || !wellFormed(k)) throw new Error("key");
    o[k] = oracleClean((v as Record<string, unknown>)[k], depth + 1);
  }
  return o;
}

const oracleHook = new Function(`${HOOK}; return reduce;`)() as (s: unknown, d: unknown) => unknown;

/** Every input on a fresh parse of the text the inputs before it left. */
function oracle(start: Json, datas: Json[]): { codes: string[]; state: Json } {
  let text = JSON.stringify(start);
  const codes: string[] = [];
  for (const d of datas) {
    let r: unknown;
    try {
      // The data as the isolate gets it: parsed from its text (the hook may change it).
      r = oracleHook(JSON.parse(text), JSON.parse(JSON.stringify(d)));
    } catch {
      codes.push("SANDBOX_THROW");
      continue;
    }
    if (r === null || typeof r !== "object" || Array.isArray(r)) {
      codes.push("SANDBOX_OUTPUT");
      continue;
    }
    try {
      const next = JSON.stringify(oracleClean(r, 0));
      if (next.length > LIMIT) throw new Error("size");
      text = next;
      codes.push("ok");
    } catch {
      codes.push("SANDBOX_OUTPUT");
    }
  }
  return { codes, state: JSON.parse(text) as Json };
}

const code = (r: ReduceItemResult) => ("fault" in r ? r.fault : "ok");
const KEYS = ["a", "b", "m", "list", "n", "10", "2"];
const key = fc.constantFrom(...KEYS);
const plain = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom("s", "", "\u{1F600}", null, true), fc.constant({ x: 1 }), fc.constant([1, { y: 2 }]));
const op = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom("set", "nest", "push", "pushObj"), key, plain) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom("inc", "del", "delNest", "pop", "shift", "keys", "has", "json"), key) },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.constantFrom("undef", "fn", "nan", "neg0", "lone", "hole", "alias", "aliasMut", "wrap", "freeze", "hidden", "getter", "proto", "spread", "sub"), key, key),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.constantFrom("mHidden", "mGetter", "mReadonly", "mMany", "mSymbol", "mStack", "mDefGetter", "mSeal", "mObj", "mOnce", "observe"), key, plain),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("throw", "array"), key) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom("wRead", "wInc", "wNew", "wAlias", "wHidden", "wSymbol", "wObserve", "wReplace"), key, plain) },
);
const batch = fc.array(fc.record({ ops: fc.array(op, { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 10 });

describe("reduce verdicts do not depend on the execution path", () => {
  it("gives input a the same verdict in [a, b] and in [a, b, c] where c throws (undefined left, then fixed)", () => {
    const r = runner(HOOK);
    const a = { ops: [["undef", "x"], ["inc", "n"]] };
    const b = { ops: [["set", "x", 1]] };
    const c = { ops: [["throw", "c"]] };
    const two = r.reduce({}, items([a, b] as Json[]));
    const three = r.reduce({}, items([a, b, c] as Json[]));
    expect(three.results.slice(0, 2)).toEqual(two.results);
    expect(two.results.map(code)).toEqual(["SANDBOX_OUTPUT", "ok"]);
    expect(three.state).toEqual(two.state);
  });

  it("tracks the small objects an input reads, one or many: a property hidden on the one or on the twelfth read is not kept", () => {
    const r = runner(HOOK);
    const start: Json = { w: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`l${i}`, { v: i }])) };
    for (const hide of ["wHidden", "wSymbol"]) {
      const data = [{ ops: [["wInc"], [hide, "h"]] }, { ops: [["wObserve"], ["wRead"]] }, { ops: [["wNew", "a", 1], ["wAlias"], ["wInc"]] }, { ops: [["wObserve"], ["wRead"]] }] as unknown as Json[];
      const expected = oracle(start, data);
      const whole = r.reduce(start, items(data));
      expect(whole.results.map(code)).toEqual(expected.codes);
      expect(whole.state).toEqual(expected.state);
      expect((whole.state as { wo: string }).wo).toBe("v|0");
    }
    // And the one small object an input reads, hidden properties and symbols alike.
    for (const hide of ["mOnce", "mHidden", "mSymbol", "mDefGetter"]) {
      const data = [{ ops: [[hide, "h", 1]] }, { ops: [["observe", "h", 1]] }] as unknown as Json[];
      const few = { m: { q: 1 } };
      const expected = oracle(few, data);
      const whole = r.reduce(few, items(data));
      expect(whole.results.map(code)).toEqual(expected.codes);
      expect(whole.state).toEqual(expected.state);
    }
  });

  it("matches a fresh parse per input, in one call, one call per input, and random splits", () => {
    const r = runner(HOOK);
    fc.assert(
      fc.property(batch, fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 5 }), (datas, cuts) => {
        const data = datas as unknown as Json[];
        const start: Json = { m: { q: 1 }, list: [1, { y: 2 }], n: 0, w: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`l${i}`, { v: i }])) };
        const expected = oracle(start, data);
        const whole = r.reduce(start, items(data));
        expect(whole.results.map(code)).toEqual(expected.codes);
        expect(whole.state).toEqual(expected.state);
        // One input per call, then random splits: the same results and messages.
        let state: Json = start;
        const single: ReduceItemResult[] = [];
        for (const it of items(data)) {
          const out = r.reduce(state, [it]);
          single.push(out.results[0]);
          state = out.state;
        }
        expect(single).toEqual(whole.results);
        expect(state).toEqual(whole.state);
        const all: HookItem[] = items(data);
        const split: ReduceItemResult[] = [];
        state = start;
        for (let from = 0, c = 0; from < all.length; c++) {
          const to = Math.min(all.length, from + cuts[c % cuts.length]);
          const out = r.reduce(state, all.slice(from, to));
          split.push(...out.results);
          state = out.state;
          from = to;
        }
        expect(split).toEqual(whole.results);
        expect(state).toEqual(whole.state);
      }),
      { numRuns: 150, seed: 20240101 },
    );
  });
});
