import { afterAll, describe, expect, it } from "vitest";
import { isStatecellError } from "../../../runtime/core/index.js";
import { createCodeRunner } from "../../../runtime/sandbox/index.js";
import { BLOCK, disposeAll, fixture, items, runner } from "./helpers.js";

afterAll(disposeAll);

function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e: unknown) {
    if (isStatecellError(e)) return e.code;
    throw e;
  }
  throw new Error("expected a StatecellError");
}

describe("createCodeRunner", () => {
  it("finds the hooks a file defines, with or without export", () => {
    const r = runner("export function validate(d) { return true }\nconst transform = (d) => d;\n");
    expect(r.hooks).toEqual(["validate", "transform"]);
  });

  it("rejects files without hooks, with syntax errors, and limits out of range", () => {
    expect(thrownCode(() => runner("function helper() {}"))).toBe("SANDBOX_NO_HOOKS");
    expect(thrownCode(() => runner("function validate( {"))).toBe("SANDBOX_SYNTAX");
    expect(thrownCode(() => runner("throw new Error('top')\nfunction validate() { return true }"))).toBe("SANDBOX_INIT");
    expect(thrownCode(() => runner("function validate() { return true }", { memoryMb: 512, timeMs: 50 }))).toBe("SANDBOX_LIMITS");
    expect(thrownCode(() => runner("function validate() { return true }", { memoryMb: 32, timeMs: 5000 }))).toBe("SANDBOX_LIMITS");
  });

  it("gives loading its own budget: a slow first run passes, a top-level loop is stopped", () => {
    // Top-level work well over a 50 ms input budget still loads.
    const slow = "let x = 0; for (let i = 0; i < 1e8; i++) x += i;\nfunction validate() { return true }";
    const t0 = Date.now();
    expect(runner(slow, { memoryMb: 32, timeMs: 50 }).hooks).toEqual(["validate"]);
    expect(Date.now() - t0).toBeGreaterThan(50);
    const start = Date.now();
    let message = "";
    try {
      runner("while (true) {}\nfunction validate() { return true }", { memoryMb: 32, timeMs: 50 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/ran over 1000 ms/);
    expect(Date.now() - start).toBeLessThan(10_000);
  });

  it("reports a syntax error at the author's line and column, export keywords included", () => {
    try {
      createCodeRunner({ name: "t", file: "bad.js", source: "export function validate(d) {\n  return d.x +;\n}\n", limits: { memoryMb: 32, timeMs: 50 } });
      expect.unreachable();
    } catch (e: unknown) {
      expect(isStatecellError(e) && e.location).toEqual({ file: "bad.js", line: 2, col: 15 });
    }
  });

  it("refuses a cut-short wrapper: an unbalanced brace cannot escape the per-input factory", () => {
    expect(thrownCode(() => runner("} let shared = 0; function validate() { return true } {"))).toBe("SANDBOX_SYNTAX");
  });

  it("names the hooks in stack traces by the runner's name, not the machine's file path", () => {
    const source = "function validate() { return { reject: new Error('where').stack.split('\\n')[1].trim() }; }";
    const a = createCodeRunner({ name: "ch/cell", source, file: "/home/a/ch/code.js", limits: { memoryMb: 32, timeMs: 1000 } });
    const b = createCodeRunner({ name: "ch/cell", source, file: "/srv/b/ch/code.js", limits: { memoryMb: 32, timeMs: 1000 } });
    const [ra] = a.validate(items([{}]));
    // Line 1, column 40 (where `new Error` starts): the author's own position (the factory wrapper adds no line or column).
    expect(ra).toEqual({ ok: false, reason: "at validate (hooks:ch/cell:1:40)" });
    expect(b.validate(items([{}]))).toEqual([ra]);
    a.dispose();
    b.dispose();
  });

  it("throws on calls after dispose and on hooks the file lacks", () => {
    const r = createCodeRunner({ name: "t", file: "v.js", source: "function validate() { return true }", limits: { memoryMb: 32, timeMs: 50 } });
    expect(thrownCode(() => r.transform(items([1])))).toBe("SANDBOX_MISSING_HOOK");
    r.dispose();
    expect(r.disposed).toBe(true);
    expect(thrownCode(() => r.validate(items([1])))).toBe("SANDBOX_DISPOSED");
  });
});

describe("validate", () => {
  const r = () =>
    runner("function validate(d, ctx) { if (d.x > 0) return true; if (d.x === 0) return false; return { reject: 'x is ' + d.x + ' at ' + ctx.index }; }");

  it("maps true, false and { reject } to results, one per item, in order", () => {
    expect(r().validate(items([{ x: 1 }, { x: 0 }, { x: -2 }]))).toEqual([
      { ok: true },
      { ok: false, reason: "rejected by the validate hook" },
      { ok: false, reason: "x is -2 at 2" },
    ]);
  });

  it("returns [] for no items", () => {
    expect(r().validate([])).toEqual([]);
  });

  it("sees ctx.block, ctx.signer and a read-only ctx.state", () => {
    const v = runner(
      "function validate(d, ctx) { let wrote = 'no'; try { ctx.state.total = 99; wrote = String(ctx.state.total) } catch (e) { wrote = 'frozen' } return { reject: [ctx.block.height, ctx.block.time, ctx.block.hash.slice(0, 4), ctx.signer, ctx.state.total, wrote].join('|') }; }",
    );
    const [res] = v.validate([{ data: {}, ctx: { block: BLOCK, signer: "ab12", index: 0, state: { total: 5 } } }]);
    // Sloppy-mode writes to a frozen object are ignored: the state stays 5.
    expect(res).toEqual({ ok: false, reason: `3|${BLOCK.time}|7e7e|ab12|5|5` });
  });
});

describe("batches mixing blocks, states and signers", () => {
  it("gives each item its own block, state and signer", () => {
    const r = runner("function validate(d, ctx) { return { reject: [ctx.block.height, ctx.state.v, ctx.signer, ctx.index].join('|') }; }");
    const b2 = { ...BLOCK, height: 4 };
    const s1 = { v: "one" };
    const s2 = { v: "two" };
    const res = r.validate([
      { data: {}, ctx: { block: BLOCK, signer: null, index: 0, state: s1 } },
      { data: {}, ctx: { block: b2, signer: "aa", index: 1, state: s2 } },
      { data: {}, ctx: { block: { ...BLOCK }, signer: null, index: 2, state: s1 } },
      { data: {}, ctx: { block: b2, signer: "bb", index: 7, state: { v: "three" } } },
    ]);
    expect(res.map((x) => (x as { reason: string }).reason)).toEqual(["3|one||0", "4|two|aa|1", "3|one||2", "4|three|bb|7"]);
  });
});

describe("large blocks", () => {
  it("splits a block into several calls and keeps order, indexes and the reduce fold across them", () => {
    const r = runner(
      "function validate(d, ctx) { return d.i === ctx.index || { reject: 'order' }; }\nfunction reduce(s, d) { s.n += 1; s.last = d.i; return s; }",
      { memoryMb: 8, timeMs: 1000 },
    );
    // 25,000 items of ~60 JSON characters: over MAX_CHUNK_ITEMS and over 8 MB's share of data characters.
    const many = items(Array.from({ length: 25_000 }, (_, i) => ({ i, pad: "p".repeat(40) })));
    const res = r.validate(many);
    expect(res.length).toBe(25_000);
    expect(res.every((x) => "ok" in x && x.ok)).toBe(true);
    const out = r.reduce({ n: 0, last: -1 }, many);
    expect(out.state).toEqual({ n: 25_000, last: 24_999 });
  });
});

describe("transform", () => {
  it("treats a value as one output, an array as several, null as none", () => {
    const r = runner("function transform(d) { return d.n === 0 ? null : d.n === 1 ? { v: 1 } : [{ v: 1 }, { v: 2 }]; }");
    expect(r.transform(items([{ n: 0 }, { n: 1 }, { n: 2 }]))).toEqual([{ outputs: [] }, { outputs: [{ v: 1 }] }, { outputs: [{ v: 1 }, { v: 2 }] }]);
  });

  it("hands back copies: mutating the input inside does not touch the host's data", () => {
    const r = runner("function transform(d) { d.added = true; return d; }");
    const data = { a: 1 };
    const [res] = r.transform(items([data]));
    expect(res).toEqual({ outputs: [{ a: 1, added: true }] });
    expect(data).toEqual({ a: 1 });
  });
});

describe("reduce", () => {
  const source = "function reduce(s, d) { s.sum += d.x; s.log.push(d.x); if (d.x === 3) throw new Error('three is unlucky'); if (d.x === 4) return [s]; return s; }";

  it("folds in order and leaves the state as it was before a faulting item", () => {
    const out = runner(source).reduce({ sum: 0, log: [] }, items([{ x: 1 }, { x: 3 }, { x: 4 }, { x: 5 }]));
    expect(out.state).toEqual({ sum: 6, log: [1, 5] });
    expect(out.results).toEqual([
      { ok: true },
      { fault: "SANDBOX_THROW", message: "three is unlucky" },
      { fault: "SANDBOX_OUTPUT", message: "reduce must return the state object, got an array" },
      { ok: true },
    ]);
  });

  it("finds the input that left a non-JSON value in the state (fast path falls back to per-input checks)", () => {
    const r = runner("function reduce(s, d) { s.n += 1; if (d.fn) s.f = () => 1; return s; }");
    const out = r.reduce({ n: 0 }, items([{}, { fn: true }, {}]));
    expect(out.results).toEqual([{ ok: true }, { fault: "SANDBOX_OUTPUT", message: "the value at /f is a function, which JSON cannot carry" }, { ok: true }]);
    expect(out.state).toEqual({ n: 2 });
    expect(r.reduce({ n: 0 }, items([{}, {}, {}]))).toEqual({ state: { n: 3 }, results: [{ ok: true }, { ok: true }, { ok: true }] });
  });

  it("never mutates the host's state object", () => {
    const start = { sum: 0, log: [] as number[] };
    runner(source).reduce(start, items([{ x: 1 }]));
    expect(start).toEqual({ sum: 0, log: [] });
  });

  it("gives the same state whether the items come in one call or one per call", () => {
    const r = runner(source);
    const all = r.reduce({ sum: 0, log: [] }, items([{ x: 1 }, { x: 3 }, { x: 2 }]));
    let state = { sum: 0, log: [] } as never;
    for (const it of items([{ x: 1 }, { x: 3 }, { x: 2 }])) state = r.reduce(state, [it]).state as never;
    expect(state).toEqual(all.state);
  });
});

describe("isolation between inputs", () => {
  it("re-creates top-level bindings per input and keeps globals and intrinsics frozen", () => {
    const res = runner(fixture("shared-state.js")).validate(items([{ n: 1 }, { n: 22 }, { n: 333 }]));
    // counter and seen start over for every input; no global stash; no RegExp.$1; the factory keeps no property.
    expect(res).toEqual([1, 2, 3].map(() => ({ ok: false, reason: "1,1,undefined,undefined,undefined/undefined,undefined" })));
  });

  it("gives the same results in a batch and one call per input", () => {
    const r = runner(fixture("shared-state.js"));
    const batch = r.validate(items([{ n: 1 }, { n: 2 }]));
    const single = items([{ n: 1 }, { n: 2 }]).map((it) => r.validate([it])[0]);
    expect(single).toEqual(batch);
  });
});

describe("deterministic clock and randomness", () => {
  const source =
    "function validate(d, ctx) { return { reject: JSON.stringify([ctx.random(), ctx.random(), Math.random(), Date.now(), new Date().getTime(), new Date(2024, 0, 2, 3).getHours(), new Date().getTimezoneOffset(), String(new Date(0)), typeof Intl]) }; }";

  it("seeds ctx.random and Math.random from (block.hash, index); Date is block time in UTC", () => {
    const r = runner(source);
    const [a, b] = r.validate(items([{}, {}]));
    const [a2] = r.validate(items([{}]));
    const va = JSON.parse((a as { reason: string }).reason) as unknown[];
    const vb = JSON.parse((b as { reason: string }).reason) as unknown[];
    expect(a2).toEqual(a);
    expect(va[0]).not.toEqual(vb[0]);
    expect(va[0]).not.toEqual(va[1]);
    expect(va.slice(3)).toEqual([BLOCK.time, BLOCK.time, 3, 0, "1970-01-01T00:00:00.000Z", "undefined"]);
    for (const x of va.slice(0, 3)) expect(typeof x === "number" && x >= 0 && x < 1).toBe(true);
  });

  it("pins the random stream (a change here is a consensus change)", () => {
    const r = runner("function validate(d, ctx) { return { reject: String(ctx.random()) }; }");
    const [res] = r.validate([{ data: {}, ctx: { block: { height: 1, time: 0, hash: "00".repeat(32) }, signer: null, index: 0, state: null } }]);
    expect(res).toEqual({ ok: false, reason: PINNED_RANDOM });
  });

  it("draws a different stream for another block hash", () => {
    const r = runner("function validate(d, ctx) { return { reject: String(ctx.random()) }; }");
    const [x] = r.validate(items([{}], {}, { ...BLOCK, hash: "7f".repeat(32) }));
    const [y] = r.validate(items([{}]));
    expect(x).not.toEqual(y);
  });
});

const PINNED_RANDOM = "0.4842468989081681";

/** The same generator written on the host (cyrb128 seeding sfc32), to cross-check the isolate's. */
function referenceRandom(hash: string, index: number): () => number {
  const str = `statecell:random:${hash}:${index}`;
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  let a = (h1 ^ h2 ^ h3 ^ h4) >>> 0, b = (h2 ^ h1) >>> 0, c = (h3 ^ h1) >>> 0, d = (h4 ^ h1) >>> 0;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

describe("the random stream matches a host-side reference", () => {
  it("draws the same five numbers for inputs 0 and 41", () => {
    const r = runner("function validate(d, ctx) { return { reject: JSON.stringify([1, 2, 3, 4, 5].map(() => ctx.random())) }; }");
    const block = { height: 1, time: 0, hash: "00".repeat(32) };
    for (const index of [0, 41]) {
      const [res] = r.validate([{ data: {}, ctx: { block, signer: null, index, state: null } }]);
      const ref = referenceRandom(block.hash, index);
      expect(JSON.parse((res as { reason: string }).reason)).toEqual([ref(), ref(), ref(), ref(), ref()]);
    }
    expect(String(referenceRandom(block.hash, 0)())).toBe(PINNED_RANDOM);
  });
});

describe("date text without an offset", () => {
  it("is read as UTC, and text with a zone keeps it", () => {
    const r = runner("function validate(d) { return { reject: JSON.stringify(d.texts.map((t) => [Date.parse(t), new Date(t).getTime()])) }; }");
    const texts = ["2024-01-01T10:00", "2024-01-01 10:00:30", "Jan 1 2024 10:00", "2024/01/01", "2024-01-01T10:00+02:00", "Jan 1 2024 10:00 EST", "junk"];
    const [res] = r.validate(items([{ texts }]));
    const utc10 = Date.UTC(2024, 0, 1, 10);
    expect(JSON.parse((res as { reason: string }).reason)).toEqual([
      [utc10, utc10],
      [utc10 + 30_000, utc10 + 30_000],
      [utc10, utc10],
      [Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1)],
      [utc10 - 2 * 3_600_000, utc10 - 2 * 3_600_000],
      [utc10 + 5 * 3_600_000, utc10 + 5 * 3_600_000],
      [null, null],
    ]);
  });

  it("converts objects as the Date constructor does (valueOf first, then text)", () => {
    const r = runner(
      "function validate() { return { reject: JSON.stringify([new Date({ valueOf() { return 5; } }).getTime(), new Date({ toString() { return '2024-01-01T00:00'; } }).getTime(), new Date(new Date(7)).getTime(), new Date(['2024-01-01T00:00']).getTime()]) }; }",
    );
    const [res] = r.validate(items([{}]));
    expect(JSON.parse((res as { reason: string }).reason)).toEqual([5, Date.UTC(2024, 0, 1), 7, Date.UTC(2024, 0, 1)]);
  });
});
