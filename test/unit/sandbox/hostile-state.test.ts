/**
 * Hostile state sizes. Hooks get the cell's user fields in ctx.state and read
 * records one at a time with ctx.record(key), through the caller's reader, so
 * a cell with many records costs a hook nothing until it reads one. A state too
 * large to copy into the isolate faults every input SANDBOX_STATE_TOO_LARGE
 * naming its size and the memory limit, instead of a SANDBOX_MEMORY that blames
 * the hook.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/index.js";
import { createCodeRunner, STATE_CHARS_PER_MB } from "../../../runtime/sandbox/index.js";
import { BLOCK, disposeAll, items, runner } from "./helpers.js";

afterAll(disposeAll);

const READER = `
function validate(d, ctx) {
  const r = ctx.record(d.key);
  let wrote = "no";
  if (r !== undefined) { try { r.v = "changed"; wrote = String(r.v); } catch (e) { wrote = "threw"; } }
  return { reject: JSON.stringify([r === undefined ? "none" : r, r === undefined ? null : Object.isFrozen(r), wrote]) };
}`;

describe("ctx.record", () => {
  it("reads one record through the caller as of the input's position, as a frozen copy", () => {
    const asked: Array<[string, number]> = [];
    const records = (key: string, item: number): Json | undefined => {
      asked.push([key, item]);
      return key === "a" || key === "b" ? { v: `${key}@${item}`, nested: { deep: [1] } } : undefined;
    };
    const res = runner(READER).validate(items([{ key: "a" }, { key: "missing" }, { key: "b" }]), { records });
    expect(res.map((x) => JSON.parse((x as { reason: string }).reason) as unknown)).toEqual([
      [{ v: "a@0", nested: { deep: [1] } }, true, "a@0"],
      ["none", null, "no"],
      [{ v: "b@2", nested: { deep: [1] } }, true, "b@2"],
    ]);
    expect(asked).toEqual([["a", 0], ["missing", 1], ["b", 2]]);
  });

  it("numbers items by their position in the call, also around inputs refused without running", () => {
    const asked: number[] = [];
    const res = runner(READER).validate(items([{ key: "a" }, { key: "a" }, { key: "a" }]), {
      verify: { timedOut: [], blockBudget: [1] },
      records: (_key, item) => {
        asked.push(item);
        return item;
      },
    });
    expect(asked).toEqual([0, 2]);
    expect(res[1]).toMatchObject({ fault: "SANDBOX_BLOCK_BUDGET" });
  });

  it("gives undefined without asking the caller for keys no record can have, and without a reader", () => {
    const asked: string[] = [];
    const r = runner("function validate(d, ctx) { return { reject: String(ctx.record(d.key)) }; }");
    const keys = ["x".repeat(1025), "ab\uD83D", "fine"];
    const res = r.validate(items(keys.map((key) => ({ key }))), { records: (key) => (asked.push(key), 1) });
    expect(res.map((x) => (x as { reason: string }).reason)).toEqual(["undefined", "undefined", "1"]);
    expect(asked).toEqual(["fine"]);
    expect(r.validate(items([{ key: "fine" }]))).toEqual([{ ok: false, reason: "undefined" }]);
  });

  it("refuses a key that is not a string", () => {
    const [res] = runner("function validate(d, ctx) { ctx.record(7); return true; }").validate(items([{}]), { records: () => 1 });
    expect(res).toEqual({ fault: "SANDBOX_THROW", message: "TypeError: ctx.record(key) takes a string key, got a number" });
  });

  it("faults an input that reads more than maxRecordReads records, even if it catches the error", () => {
    const source = "function validate(d, ctx) { let n = 0; try { for (;;) { ctx.record('k'); n++; } } catch (e) {} return { reject: String(n) }; }";
    const r = createCodeRunner({ name: "t/reads", file: "reads.js", source, limits: { memoryMb: 32, timeMs: 1000 }, maxRecordReads: 50 });
    let reads = 0;
    const res = r.validate(items([{}, {}]), { records: () => (reads++, 1) });
    expect(res).toEqual([
      { fault: "SANDBOX_RECORD_READS", message: "the hook called ctx.record more than 50 times for this input" },
      { fault: "SANDBOX_RECORD_READS", message: "the hook called ctx.record more than 50 times for this input" },
    ]);
    expect(reads).toBe(100);
    r.dispose();
  });

  it("throws the reader's own error out of the call, and the runner goes on working", () => {
    const r = runner("function validate(d, ctx) { try { ctx.record('k'); } catch (e) {} return true; }");
    const broken = new Error("records store closed");
    expect(() => r.validate(items([{}, {}]), { records: () => { throw broken; } })).toThrow(broken);
    expect(r.validate(items([{}]), { records: () => 1 })).toEqual([{ ok: true }]);
  });

  it("costs a hook nothing for 17,000 records of 1 KB it does not read", () => {
    const store = new Map<string, Json>();
    for (let i = 0; i < 17_000; i++) store.set(`r${i}`, { id: i, pad: "p".repeat(1000) });
    let reads = 0;
    const r = runner("function validate(d, ctx) { return d.read ? ctx.record(d.read) !== undefined : true; }");
    const datas: Json[] = Array.from({ length: 400 }, (_, i): Json => (i % 100 === 0 ? { read: `r${i}` } : {}));
    const t0 = performance.now();
    const res = r.validate(items(datas, { total: 3 }), { records: (key) => (reads++, store.get(key)) });
    // Before, each input was sent the whole state with its records: 154 ms per input (about 60 s here).
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(res.every((x) => "ok" in x && x.ok)).toBe(true);
    expect(reads).toBe(4);
  });
});

describe("a state too large for the isolate", () => {
  it("faults every input SANDBOX_STATE_TOO_LARGE with the state's size and the memory limit, without running the hook", () => {
    // 400 records of 64 KB in the state, as cells used to send them.
    const big: Record<string, string> = {};
    for (let i = 0; i < 400; i++) big[`r${i}`] = "x".repeat(64 * 1024);
    const state = { records: big } as Json;
    const chars = JSON.stringify(state).length;
    const r = runner("function validate() { return true; }");
    const t0 = performance.now();
    const res = r.validate(items([{}, {}], state));
    expect(res).toEqual([0, 1].map(() => ({
      fault: "SANDBOX_STATE_TOO_LARGE",
      message: `the cell state handed to the hooks takes ${chars} characters of JSON, over the ${32 * STATE_CHARS_PER_MB} a 32 MB sandbox can take`,
    })));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.validate(items([{}], { small: 1 }))).toEqual([{ ok: true }]);
  });

  it("counts the reduce state and ctx.state together", () => {
    const half = "y".repeat(5 * STATE_CHARS_PER_MB);
    const r = runner("function reduce(s) { return s; }", { memoryMb: 8, timeMs: 1000 });
    const alone = r.reduce({ a: half }, items([{}], {}));
    expect(alone.results).toEqual([{ ok: true }]);
    const both = r.reduce({ a: half }, items([{}], { b: half }));
    expect(both.results[0]).toMatchObject({ fault: "SANDBOX_STATE_TOO_LARGE" });
    expect(both.state).toEqual({ a: half });
  });

  it("limits the state a reduce hook returns to what the isolate can take", () => {
    const r = runner("function reduce(s, d) { s.pad = 'z'.repeat(d.n); return s; }", { memoryMb: 8, timeMs: 1000 });
    const out = r.reduce({}, items([{ n: 10 }, { n: 8 * STATE_CHARS_PER_MB }]));
    expect(out.results[1]).toEqual({ fault: "SANDBOX_OUTPUT", message: `the state takes ${8 * STATE_CHARS_PER_MB + 10} characters of JSON, over the limit of ${8 * STATE_CHARS_PER_MB}` });
    expect(out.state).toEqual({ pad: "z".repeat(10) });
  });
});

describe("the state limit and text that JSON escapes", () => {
  it("counts a stored value by its JSON text, escapes included, in one call as in one call per input", () => {
    // Values of 30 characters that JSON writes as 60 or more (quotes, backslashes, newlines, other control characters): each input stores
    // 200 of them in one new object and rewrites one small object in place. By raw length the state
    // would take about twice the inputs it can; the input that would pass the limit is refused.
    const limit = 8 * STATE_CHARS_PER_MB;
    const hook = `function reduce(s, d) {
      const o = {};
      for (let i = 0; i < 200; i++) o["k" + i] = d.text;
      s["in" + d.n] = o;
      const last = s.last || (s.last = { n: 0, text: "" });
      last.n = d.n; last.text = d.text;
      return s;
    }`;
    const r = runner(hook, { memoryMb: 8, timeMs: 1000 });
    // One kind of text per run: a bound that missed one kind would be hidden by the others' margins.
    for (const text of ['"'.repeat(30), "\\".repeat(30), "\n".repeat(30), "\u001f".repeat(30), 'a"b\\c\td'.repeat(3)]) {
      const datas = Array.from({ length: 90 }, (_, n) => ({ n, text }));
      // Expected: input n is kept while the state's JSON text stays within the limit.
      let state: Record<string, Json> = {};
      const expected: string[] = [];
      for (const d of datas) {
        const o: Record<string, Json> = {};
        for (let i = 0; i < 200; i++) o[`k${i}`] = d.text;
        const next = { ...state, [`in${d.n}`]: o, last: { n: d.n, text: d.text } };
        if (JSON.stringify(next).length <= limit) {
          state = next;
          expected.push("ok");
        } else expected.push("SANDBOX_OUTPUT");
      }
      expect(expected.filter((c) => c === "ok").length).toBeGreaterThan(10);
      expect(expected.filter((c) => c !== "ok").length).toBeGreaterThan(10);
      const whole = r.reduce({}, items(datas));
      expect(whole.results.map((x) => ("fault" in x ? x.fault : "ok"))).toEqual(expected);
      expect(whole.state).toEqual(state);
      let one: Json = {};
      for (const it of items(datas)) one = r.reduce(one, [it]).state;
      expect(one).toEqual(state);
    }
  });
});

describe("ctx.state", () => {
  it("is the state the caller gives, deep-frozen", () => {
    const [res] = runner("function validate(d, ctx) { return { reject: [Object.isFrozen(ctx.state.user), ctx.state.user.n].join() }; }").validate([
      { data: {}, ctx: { block: BLOCK, signer: null, index: 0, state: { user: { n: 4 } } } },
    ]);
    expect(res).toEqual({ ok: false, reason: "true,4" });
  });
});
