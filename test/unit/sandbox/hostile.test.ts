/**
 * Hostile code (issue 4 "Must show"): every attack ends in a verdict with
 * the right code, its neighbours in the batch are unaffected, and the host
 * keeps running with its memory near where it started.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import type { SandboxFault } from "../../../runtime/sandbox/index.js";
import { disposeAll, fixture, items, runner } from "./helpers.js";

afterAll(disposeAll);

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const OK = { ok: true };
const SLOW_OK = { memoryMb: 32, timeMs: 1000 };
/** A budget loops run into quickly, yet far above a trivial hook's time even on a loaded machine. */
const TIGHT = { memoryMb: 32, timeMs: 200 };

describe("runaway code", () => {
  it("stops an infinite loop at the budget; only the culprit faults", () => {
    const r = runner(fixture("infinite-loop.js"), TIGHT);
    const res = r.validate(items([{}, { loop: true }, {}]));
    expect(res[0]).toEqual(OK);
    expect(res[1]).toMatchObject({ fault: "SANDBOX_TIMEOUT", message: "the hook ran over its time budget of 200 ms" });
    expect((res[1] as SandboxFault).elapsedMs).toBeGreaterThanOrEqual(195);
    expect(res[2]).toEqual(OK);
    expect(r.validate(items([{}]))).toEqual([OK]);
  });

  it("stops async loops (while (true) await, promise chains) that outlive the call", () => {
    const res = runner(fixture("async-loop.js"), TIGHT).validate(items([{}, { mode: "await" }, { mode: "chain" }, {}]));
    expect(res.map((x) => ("fault" in x ? x.fault : "ok"))).toEqual(["ok", "SANDBOX_TIMEOUT", "SANDBOX_TIMEOUT", "ok"]);
  });

  it("cannot fake a timeout or a memory fault with a rejected promise's message", () => {
    const r = runner(
      "function validate(d) { if (d.fake) Promise.reject(new Error(d.fake)); return true; }",
    );
    const res = r.validate(items([{ fake: "Script execution timed out." }, { fake: "Isolate was disposed during execution due to memory limit" }, {}]));
    expect(res.map((x) => ("fault" in x ? x.fault : "ok"))).toEqual(["SANDBOX_THROW", "SANDBOX_THROW", "ok"]);
  });

  it("turns stack overflow into SANDBOX_THROW", () => {
    const res = runner(fixture("deep-recursion.js")).validate(items([{ dive: true }, {}]));
    expect(res).toEqual([{ fault: "SANDBOX_THROW", message: "RangeError: Maximum call stack size exceeded" }, OK]);
  });
});

describe("memory bombs", () => {
  it("faults the bomb with SANDBOX_MEMORY, recreates the isolate, keeps the neighbours", () => {
    const r = runner(fixture("memory-bomb.js"), SLOW_OK);
    const res = r.validate(items([{}, { bomb: 1.5 }, {}]));
    expect(res).toEqual([OK, { fault: "SANDBOX_MEMORY", message: "the hook ran out of memory (limit 32 MB)" }, OK]);
    expect(r.validate(items([{}]))).toEqual([OK]);
  });

  it("counts array buffers against the limit and caps strings: the allocation fails inside the hook", () => {
    const r = runner(fixture("memory-bomb.js"), SLOW_OK);
    expect(r.validate(items([{ buffers: true }, { string: true }, {}]))).toEqual([
      { fault: "SANDBOX_THROW", message: "RangeError: Array buffer allocation failed" },
      { fault: "SANDBOX_THROW", message: "RangeError: Invalid string length" },
      OK,
    ]);
  });

  it("returns host RSS near its start after 20 bombs and dispose", () => {
    const r0 = runner(fixture("memory-bomb.js"), SLOW_OK);
    r0.validate(items([{ bomb: 1 }]));
    r0.dispose();
    gc();
    const start = process.memoryUsage().rss;
    for (let i = 0; i < 20; i++) {
      const r = runner(fixture("memory-bomb.js"), { memoryMb: 16, timeMs: 1000 });
      expect(r.validate(items([{ bomb: i + 0.5 }]))[0]).toMatchObject({ fault: "SANDBOX_MEMORY" });
      r.dispose();
    }
    gc();
    const growthMb = (process.memoryUsage().rss - start) / (1 << 20);
    expect(growthMb).toBeLessThan(100);
  });
});

describe("runaway reduce", () => {
  it("skips a looping and a bombing input and folds the others, in order", () => {
    const r = runner(
      "function reduce(s, d) { if (d.loop) for (;;) {} if (d.bomb) { const h = []; for (;;) h.push(new Array(100000).fill(1.5)); } s.seen.push(d.n); return s; }",
      // A small heap and the longest budget: on a loaded machine the bomb must hit the heap limit, not the clock.
      { memoryMb: 16, timeMs: 1000 },
    );
    const out = r.reduce({ seen: [] }, items([{ n: 1 }, { n: 2, loop: true }, { n: 3 }, { n: 4, bomb: true }, { n: 5 }]));
    expect(out.results.map((x) => ("fault" in x ? x.fault : "ok"))).toEqual(["ok", "SANDBOX_TIMEOUT", "ok", "SANDBOX_MEMORY", "ok"]);
    expect(out.state).toEqual({ seen: [1, 3, 5] });
  });
});

describe("escape attempts", () => {
  const attempt = (t: string) => runner(fixture("escape.js")).validate(items([{ try: t }]))[0];
  const NO_CODEGEN = { fault: "SANDBOX_THROW", message: "EvalError: code generation from strings is disabled in statecell hooks" };

  it("finds no process, require, timers or WebAssembly", () => {
    expect(attempt("process")).toEqual({ ok: false, reason: "undefined" });
    expect(attempt("require")).toEqual({ ok: false, reason: "undefined" });
    expect(attempt("timers")).toEqual({ ok: false, reason: "undefined,undefined,undefined,undefined" });
    expect(attempt("wasm")).toEqual({ ok: false, reason: "undefined" });
  });

  it("cannot generate code from strings by any constructor path", () => {
    for (const t of ["global-constructor", "this-constructor", "function-constructor", "async-constructor", "generator-constructor", "Function"]) {
      expect(attempt(t)).toEqual(NO_CODEGEN);
    }
    expect(attempt("eval")).toEqual({ fault: "SANDBOX_THROW", message: "ReferenceError: eval is not defined" });
    expect(attempt("indirect-eval")).toMatchObject({ fault: "SANDBOX_THROW" });
  });

  it("cannot import modules", () => {
    expect(attempt("import")).toMatchObject({ fault: "SANDBOX_THROW" });
  });

  it("cannot pollute intrinsics or the global object for later inputs", () => {
    const r = runner(fixture("escape.js"));
    const res = r.validate(items([{ try: "pollute-intrinsics" }, { try: "pollute-global" }, { try: "read-leak" }]));
    expect(res).toEqual([
      { ok: false, reason: "undefined" },
      { ok: false, reason: "undefined" },
      { ok: false, reason: "undefined,undefined" },
    ]);
  });
});

describe("malformed outputs", () => {
  // A generous budget: these faults must come from the output check, never from a slow machine.
  const give = (g: string) => runner(fixture("bad-output.js"), SLOW_OK).transform(items([{ give: g }]))[0];

  it.each([
    ["function", "the value at / is a function, which JSON cannot carry"],
    ["symbol", "the value at / is a symbol, which JSON cannot carry"],
    ["nested-function", "the value at /0/f is a function, which JSON cannot carry"],
    ["nested-undefined", "the value at /0/a/1 is undefined, which JSON cannot carry"],
    ["nan", "the value at /0/x is NaN, which JSON cannot carry"],
    ["bigint", "the value at /0/x is a bigint, which JSON cannot carry"],
    ["date", "the object at /0/at is not a plain object"],
    ["cycle", "the value at /0/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self/self nests deeper than 64 levels"],
    ["undefined", "transform returned undefined; return an output, an array of outputs, or null for none"],
    ["promise", "transform returned a promise; hooks must be synchronous"],
    ["huge", "the outputs take over 1048576 characters of JSON"],
    ["many", "the array at /0 has 2097152 items, over the output limit"],
  ])("%s is SANDBOX_OUTPUT", (g, message) => {
    const res = give(g);
    expect(res).toEqual({ fault: "SANDBOX_OUTPUT", message: g === "function" || g === "symbol" ? message.replace("/", "/0") : message });
  });

  it("refuses a returned __proto__ key and leaves the host's prototypes alone", () => {
    expect(give("proto")).toEqual({ fault: "SANDBOX_OUTPUT", message: "the object at /0 has a key __proto__, which statecell never stores" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("reads a getter once and returns the plain value it gave", () => {
    expect(give("getter")).toEqual({ outputs: [{ v: 1 }] });
  });

  it("refuses an async validate hook's promise", () => {
    const r = runner("export async function validate(d) { return true; }");
    expect(r.validate(items([{}]))).toEqual([{ fault: "SANDBOX_OUTPUT", message: "validate returned a promise; hooks must be synchronous (no async function)" }]);
  });

  it("checks validate results too", () => {
    const r = runner(fixture("bad-output.js"));
    expect(r.validate(items([{ give: "symbol" }, { give: "undefined" }, { give: "reason-object" }, {}]))).toEqual([
      { fault: "SANDBOX_OUTPUT", message: 'validate must return true or { reject: "reason" }, got a symbol' },
      { fault: "SANDBOX_OUTPUT", message: 'validate must return true or { reject: "reason" }, got undefined' },
      { fault: "SANDBOX_OUTPUT", message: 'validate must return true or { reject: "reason" }, got an object' },
      OK,
    ]);
  });
});

describe("throws", () => {
  it("classifies a thrown Proxy as a throw, whatever its traps answer", () => {
    const [res] = runner(fixture("throws.js")).transform(items([{}]));
    expect(res).toMatchObject({ fault: "SANDBOX_THROW" });
  });

  it("reports the author's message for every kind of thrown value", () => {
    const kinds = ["error", "type-error", "string", "number", "object", "null", "undefined", "symbol", "sneaky"];
    const res = runner(fixture("throws.js")).validate(items(kinds.map((kind) => ({ kind, sensor: "cen-1" }))));
    expect(res.map((x) => ("fault" in x ? `${x.fault}: ${x.message}` : "ok"))).toEqual([
      "SANDBOX_THROW: sensor cen-1 is blacklisted",
      "SANDBOX_THROW: TypeError: Cannot read properties of undefined (reading 'field')",
      "SANDBOX_THROW: plain string",
      "SANDBOX_THROW: 42",
      'SANDBOX_THROW: {"code":7}',
      "SANDBOX_THROW: null",
      "SANDBOX_THROW: the hook threw undefined",
      "SANDBOX_THROW: the hook threw a symbol",
      "SANDBOX_THROW: the hook threw a value that cannot be shown",
    ]);
  });
});
