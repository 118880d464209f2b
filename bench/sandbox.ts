/**
 * Sandbox throughput: inputs/s through a trivial validate hook, one batch of
 * 1,000 inputs per call vs one call per input; reduce over a small state and a
 * larger one; validate reading one record per input through ctx.record; the
 * JSON-string vs ExternalCopy transport measured on raw isolated-vm; and the
 * memory cost of one runner (RSS delta per isolate); a fold through validate
 * and reduce in one call. Target: >= 300,000
 * inputs/s batched on one core.
 *
 * Run: node --no-node-snapshot --import tsx bench/sandbox.ts
 */
import ivm from "isolated-vm";
import { createCodeRunner, type HookItem } from "../runtime/sandbox/index.js";

const TARGET = 300_000;
const BATCH = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 0.7);

const block = { height: 7, time: 1_700_000_007_000, hash: "5f".repeat(32) };
const state = { totals: {} };
const items: HookItem[] = Array.from({ length: BATCH }, (_, i) => ({
  data: { sensor: `cen-${i % 50}`, pm25: i % 400, at: 1_700_000_000 + i },
  ctx: { block, signer: null, index: i, state },
}));
const source = "function validate(data, ctx) { return data.pm25 <= 500 || { reject: 'implausible' }; }";

/** Calls `fn` (which handles `per` inputs) for about SECONDS; returns inputs/s. */
function rate(per: number, fn: () => void): number {
  for (let i = 0; i < 20; i++) fn();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < SECONDS * 1000) {
    fn();
    n += per;
  }
  return n / ((performance.now() - start) / 1000);
}

const runner = createCodeRunner({ name: "bench/readings", source, file: "bench.js", limits: { memoryMb: 32, timeMs: 50 } });
const check = runner.validate(items);
if (!check.every((r) => "ok" in r && r.ok)) throw new Error(`bench hook rejected an input: ${JSON.stringify(check.find((r) => !("ok" in r && r.ok)))}`);
// Best of 3 interleaved rounds: the machine is shared, and a neighbour's burst can halve one round.
let batched = 0;
let single = 0;
for (let round = 0; round < 3; round++) {
  batched = Math.max(batched, rate(BATCH, () => runner.validate(items)));
  single = Math.max(
    single,
    rate(BATCH, () => {
      for (const it of items) runner.validate([it]);
    }),
  );
}
runner.dispose();

// reduce: every input sees the state as a fresh parse of the text the input before it left (so a
// fault can roll back and no verdict depends on its neighbours); docs/sandbox.md "reduce" says how
// that stays cheap. Measured with a small state and one carrying 1,000 more entries.
const reducer = createCodeRunner({
  name: "bench/districts",
  source: "function reduce(s, d) { const t = s.totals[d.sensor] || (s.totals[d.sensor] = { n: 0, sum: 0 }); t.n++; t.sum += d.pm25; return s; }",
  file: "reduce.js",
  limits: { memoryMb: 64, timeMs: 50 },
});
const records: Record<string, unknown> = {};
for (let i = 0; i < 1000; i++) records[`sensor-${i}`] = { sensor: `sensor-${i}`, pm25: i % 300, at: 1_700_000_000 + i };
const reduceSmall = rate(BATCH, () => reducer.reduce({ totals: {} }, items));
const reduceBig = rate(BATCH, () => reducer.reduce({ totals: {}, records } as never, items));
reducer.dispose();

// A fold through validate and reduce in one call (runner.fold: what a code cell with both hooks runs per block).
const folder = createCodeRunner({
  name: "bench/fold",
  source: `${source}\nfunction reduce(s, d) { const t = s.totals[d.sensor] || (s.totals[d.sensor] = { n: 0, sum: 0 }); t.n++; t.sum += d.pm25; return s; }`,
  file: "fold.js",
  limits: { memoryMb: 64, timeMs: 50 },
});
const foldRate = rate(BATCH, () => folder.fold!({ totals: {} }, items));
folder.dispose();

// Records read lazily: one ctx.record per input from a store of 1,000 records (a host call each).
const reader = createCodeRunner({
  name: "bench/reader",
  source: "function validate(d, ctx) { const r = ctx.record(d.sensor.replace('cen', 'sensor')); return r === undefined || r.pm25 >= 0; }",
  file: "reader.js",
  limits: { memoryMb: 32, timeMs: 50 },
});
const store = new Map(Object.entries(records));
const readRate = rate(BATCH, () => reader.validate(items, { records: (key) => store.get(key) as never }));
reader.dispose();

// Transport: the same loop inside an isolate, items crossing as one JSON string vs an ExternalCopy.
const iso = new ivm.Isolate({ memoryLimit: 64 });
const context = iso.createContextSync();
context.evalSync(`
  globalThis.viaJson = function (s) { const xs = JSON.parse(s); const out = []; for (const x of xs) out.push(x.pm25 <= 500 ? 1 : 0); return JSON.stringify(out); };
  globalThis.viaCopy = function (xs) { const out = []; for (const x of xs) out.push(x.pm25 <= 500 ? 1 : 0); return out; };
`);
const viaJson = context.global.getSync("viaJson", { reference: true }) as ivm.Reference<(s: string) => string>;
const viaCopy = context.global.getSync("viaCopy", { reference: true }) as ivm.Reference<(xs: unknown) => number[]>;
const datas = items.map((it) => it.data);
// Interleaved rounds, best of each: on a shared machine, load shifts between two back-to-back runs.
let jsonRate = 0;
let copyRate = 0;
for (let round = 0; round < 3; round++) {
  jsonRate = Math.max(jsonRate, rate(BATCH, () => JSON.parse(viaJson.applySync(undefined, [JSON.stringify(datas)], { timeout: 1000 }))));
  copyRate = Math.max(
    copyRate,
    rate(BATCH, () => viaCopy.applySync(undefined, [new ivm.ExternalCopy(datas).copyInto({ release: true })], { timeout: 1000, result: { copy: true } })),
  );
}
iso.dispose();

// Memory per runner: RSS delta of 20 live runners (each one isolate with the prelude and the hook file).
const g = (globalThis as { gc?: () => void }).gc;
g?.();
const rss0 = process.memoryUsage().rss;
const live = Array.from({ length: 20 }, (_, i) =>
  createCodeRunner({ name: `bench/${i}`, source, file: "bench.js", limits: { memoryMb: 32, timeMs: 50 } }),
);
for (const r of live) r.validate(items.slice(0, 10));
const perRunnerMb = (process.memoryUsage().rss - rss0) / 20 / (1 << 20);
for (const r of live) r.dispose();

const k = (x: number): string => `${Math.round(x).toLocaleString("en-US")}`;
console.log(`sandbox validate, batched ${BATCH}/call, best of 3: ${k(batched)} inputs/s`);
console.log(`sandbox validate, one call per input: ${k(single)} inputs/s (batched is ${(batched / single).toFixed(1)}x)`);
console.log(`sandbox reduce, batched ${BATCH}/call: ${k(reduceSmall)} inputs/s (state of 50 totals), ${k(reduceBig)} inputs/s (plus 1,000 entries)`);
console.log(`sandbox fold (validate then reduce per input, one call), batched ${BATCH}/call: ${k(foldRate)} inputs/s`);
console.log(`sandbox validate reading one record per input (ctx.record), batched ${BATCH}/call: ${k(readRate)} inputs/s`);
console.log(`transport, raw isolate, ${BATCH}-item batch, best of 3 interleaved: JSON strings ${k(jsonRate)} items/s, ExternalCopy ${k(copyRate)} items/s`);
console.log(`memory: ${perRunnerMb.toFixed(2)} MiB RSS per runner (20 live runners)`);
console.log(`target >= ${k(TARGET)} inputs/s batched: ${batched >= TARGET ? "PASS" : "MISS"}`);
