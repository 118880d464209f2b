/**
 * Rule evaluation: evaluations/s of a compiled 3-clause rule (statecell's
 * json-logic-engine instance, with own-property var and the safety wrapper)
 * against json-logic-js `apply` on the same rule and contexts, one core.
 *
 * Target: >= 10x json-logic-js apply, measured in the same run (the machine
 * is shared, so absolute rates move by several times between runs; the ratio
 * does not). For scale: block execution aims at 200,000 inputs/s with 5 rules
 * each (bench/execute.ts), i.e. 1M rule evaluations/s; on an idle machine
 * json-logic-js runs ~1M/s here, so 10x is ~10M/s, leaving
 * rules a tenth of an input's budget. The bare library (no own-property
 * checks, no result copy) is printed too: the gap is the price of safety.
 *
 * Run: npx tsx bench/rules.ts [millions of evaluations per run]
 */
import jsonLogic from "json-logic-js";
import { LogicEngine } from "json-logic-engine";
import type { Json } from "../runtime/core/canonical.js";
import { createRuleEngine, type RuleContext } from "../runtime/rules/index.js";

const TARGET_RATIO = 10;
const N = Math.round(Number(process.argv[2] ?? 2) * 1_000_000);

const rule: Json = {
  and: [
    { "<=": [{ var: "data.pm25" }, { var: "channel.params.max" }] },
    { ">=": [{ var: "data.pm10" }, { var: "data.pm25" }] },
    { startsWith: [{ var: "data.sensor" }, "cen-"] },
  ],
};
// json-logic-js has no startsWith, and its global table must stay untouched:
// the reference rule uses `in` on a substr, the same work in its vocabulary.
const referenceRule: Json = {
  and: [
    { "<=": [{ var: "data.pm25" }, { var: "channel.params.max" }] },
    { ">=": [{ var: "data.pm10" }, { var: "data.pm25" }] },
    { "==": [{ substr: [{ var: "data.sensor" }, 0, 4] }, "cen-"] },
  ],
};

const contexts: RuleContext[] = Array.from({ length: 1024 }, (_, i) => ({
  data: { sensor: `${i % 3 === 0 ? "nor" : "cen"}-${i}`, pm25: (i * 7) % 600, pm10: (i * 11) % 700, at: i, district: "cen" },
  state: {},
  block: { height: 1, time: 1_700_000_000_000, hash: "00" },
  signer: null,
  token: null,
  channel: { name: "bench", version: 1, hash: "00", params: { max: 500 } },
}));

const engine = createRuleEngine({ params: { max: 500 } });
const t0 = process.hrtime.bigint();
const compiled = engine.compileRule(rule);
const compileUs = Number(process.hrtime.bigint() - t0) / 1e3;

// Both must agree before either is timed.
for (const c of contexts) {
  if (compiled(c) !== jsonLogic.truthy(jsonLogic.apply(referenceRule, c))) throw new Error(`disagreement on ${JSON.stringify(c.data)}`);
}

/**
 * A fresh timing loop per callee: one shared loop would see three functions at
 * its call site and go megamorphic, slowing whichever is measured last.
 */
const loops = new Map<string, (f: (c: RuleContext) => unknown, cs: RuleContext[], n: number) => number>();
function time(label: string, n: number, f: (c: RuleContext) => unknown): number {
  let loop = loops.get(label);
  if (loop === undefined) {
    loop = new Function("f", "cs", "n", "let passed = 0; for (let i = 0; i < n; i++) if (f(cs[i & 1023])) passed++; return passed;") as (
      f: (c: RuleContext) => unknown,
      cs: RuleContext[],
      n: number,
    ) => number;
    loops.set(label, loop);
  }
  const start = process.hrtime.bigint();
  const passed = loop(f, contexts, n);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (passed === 0) throw new Error(`${label}: nothing passed`);
  return n / seconds;
}

// Warm both up so the timed runs measure optimised code.
time("compiled", 200_000, compiled);
const reference = (c: RuleContext): unknown => jsonLogic.truthy(jsonLogic.apply(referenceRule, c));
time("json-logic-js", 20_000, reference);

// The bare library on the reference rule (no own-property checks, no result copy): the
// cost of statecell's safety is the gap between this line and ours.
const bare = new LogicEngine().build(referenceRule) as (c: RuleContext) => unknown;
time("bare", 200_000, bare);

const rates = { compiled: [] as number[], reference: [] as number[], bare: [] as number[] };
for (let run = 0; run < 3; run++) {
  rates.bare.push(time("bare", N, bare));
  rates.compiled.push(time("compiled", N, compiled));
  rates.reference.push(time("json-logic-js", Math.max(100_000, Math.round(N / 10)), reference));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1];
const ours = median(rates.compiled);
const ref = median(rates.reference);
const fmt = (x: number): string => Math.round(x).toLocaleString("en");

console.log(`rules: 3-clause rule (and of two comparisons and startsWith), 1,024 contexts, median of 3 runs`);
console.log(`  compile: ${compileUs.toFixed(0)} us (check + build)`);
console.log(`  statecell compiled rule: ${fmt(ours)} evaluations/s (${(1e9 / ours).toFixed(0)} ns each)`);
console.log(`  bare json-logic-engine:  ${fmt(median(rates.bare))} evaluations/s (reference rule, no safety checks)`);
console.log(`  json-logic-js apply:     ${fmt(ref)} evaluations/s (${(1e9 / ref).toFixed(0)} ns each)`);
console.log(`  ratio: ${(ours / ref).toFixed(1)}x`);
console.log(`  target >= ${TARGET_RATIO}x json-logic-js: ${ours / ref >= TARGET_RATIO ? "PASS" : "MISS"}`);
