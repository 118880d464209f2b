/**
 * Batching is invisible: over generated channels (schemas, rules that read
 * the state through counters and caps, declarative state updates, record
 * keys, emits, and code hooks in real isolates that read and write the
 * state), executing inputs as one block and as consecutive smaller blocks
 * with the same header gives the same verdicts, the same outputs and the same
 * final state root; and blockVerdicts, a node's dry run, gives every block
 * the verdicts executeBlock gives it.
 */
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { blockVerdicts, executeBlock, type BlockInput, type CellState, type CodeRunner, type Verdict } from "../../../runtime/cells/index.js";
import type { ChannelPlan } from "../../../runtime/definition/index.js";
import { createCodeRunner } from "../../../runtime/sandbox/index.js";
import { header, planFromYaml } from "./helpers.js";

/** Hook files: filters, hooks that read the state (ctx.state, records), folds that write it, refuse or throw. */
const HOOKS: Record<string, string> = {
  none: "",
  filter: `function validate(d) { return d.n % 7 !== 3 || { reject: "sevens" }; }`,
  cap: `function validate(d, ctx) { return (ctx.state.count || 0) < 4 || { reject: "full" }; }`,
  record: `function validate(d, ctx) { return ctx.record(d.tag === "x" ? "a" : "b") === undefined || { reject: "taken" }; }`,
  sum: `function reduce(s, d) { s.count = (s.count || 0) + 1; s.sum = (s.sum || 0) + d.n; return s; }`,
  tagCap: `function reduce(s, d) { const t = s.tags || (s.tags = {}); if ((t[d.tag] || 0) >= 2) return { reject: "tag-full" }; t[d.tag] = (t[d.tag] || 0) + 1; s.count = (s.count || 0) + 1; return s; }`,
  filterSum: `function validate(d) { return d.n !== 5 || { reject: "no fives" }; }
function reduce(s, d) { s.count = (s.count || 0) + 1; s.sum = (s.sum || 0) + d.n; return s; }`,
  capTagCap: `function validate(d, ctx) { return (ctx.state.count || 0) < 5 || { reject: "full" }; }
function reduce(s, d) { const t = s.tags || (s.tags = {}); if ((t[d.tag] || 0) >= 3) return { reject: "tag-full" }; t[d.tag] = (t[d.tag] || 0) + 1; s.count = (s.count || 0) + 1; return s; }`,
  prevThrow: `function validate(d) { return d.id !== "f" || { reject: "no f" }; }
function reduce(s, d, ctx) { if (d.n === 13) throw new Error("thirteen"); s.count = (s.count || 0) + 1; s.prev = ctx.state.count || 0; return s; }`,
  recordFold: `function validate(d, ctx) { return ctx.record(d.tag === "x" ? "a" : "b") === undefined || { reject: "taken" }; }
function reduce(s, d, ctx) { s.count = (s.count || 0) + 1; s.hits = (s.hits || 0) + (ctx.record("c") === undefined ? 0 : 1); return s; }`,
  transform: `function transform(d, ctx) { return (ctx.state.count || 0) > 2 ? null : [{ id: d.id, k: ctx.state.count || 0 }]; }`,
};
const REDUCES = new Set(["sum", "tagCap", "filterSum", "capTagCap", "prevThrow", "recordFold"]);

const RULES = {
  small: `      - name: small\n        require: { "<=": [ { var: data.n }, 17 ] }\n        message: "{data.n} is too big"`,
  cap: `      - name: cap\n        require: { "<": [ { var: [ state.count, 0 ] }, 6 ] }\n        message: full`,
  tagCap: `      - name: tag-cap\n        require: { "<": [ { var: [ "state.tags.{data.tag}", 0 ] }, 3 ] }\n        message: "tag {data.tag} is full"`,
  even: `      - name: even-when-tag-y\n        when: { "==": [ { var: data.tag }, y ] }\n        require: { "==": [ { "%": [ { var: data.n }, 2 ] }, 0 ] }\n        message: odd`,
};
const UPDATES = {
  count: `      - add: count`,
  tags: `      - add: tags.{data.tag}`,
  last: `      - set: last\n        value: { var: data.n }`,
  log: `      - append: log\n        value: { var: data.id }\n        when: { ">": [ { var: data.n }, 10 ] }`,
};

interface Shape {
  hooks: keyof typeof HOOKS;
  keyed: boolean;
  rules: Array<keyof typeof RULES>;
  updates: Array<keyof typeof UPDATES>;
  /** Outputs to `out`: none, of the data, or reading the state (which makes a reduce cell fold one input per call). */
  emit: "none" | "data" | "state";
}

const runners = new Map<string, CodeRunner & { dispose(): void }>();
afterAll(() => {
  for (const r of runners.values()) r.dispose();
});
const plans = new Map<string, ChannelPlan>();

function channelOf(s: Shape): ChannelPlan {
  const code = HOOKS[s.hooks];
  const updates = REDUCES.has(s.hooks) ? [] : s.updates;
  const lines = [
    "channel: invariant",
    "version: 1",
    "groups: { g: { validators: [a], threshold: 1 } }",
    "cells:",
    "  c:",
    "    group: g",
    "    accepts: { type: object, required: [id, n, tag], properties: { id: { type: string }, n: { type: integer }, tag: { enum: [x, y] } } }",
  ];
  if (s.keyed) lines.push("    key: { var: data.id }");
  if (code !== "") lines.push("    code: ./hooks.js", "    limits: { memoryMb: 32, timeMs: 500, blockTimeMs: 10000 }");
  if (s.rules.length > 0) lines.push("    rules:", ...s.rules.map((r) => RULES[r]));
  if (updates.length > 0) lines.push("    state:", ...updates.map((u) => UPDATES[u]));
  if (s.emit !== "none") {
    const mapping = s.emit === "data" ? "{ id: { var: data.id }, n: { var: data.n } }" : "{ id: { var: data.id }, seen: { var: [ state.count, 0 ] } }";
    lines.push("    emit:", "      - to: out", "        when: { \"!=\": [ { var: data.n }, 0 ] }", `        data: ${mapping}`);
  }
  lines.push("  out:", "    group: g", "    accepts: { type: object }", "    direct: true");
  const yaml = `${lines.join("\n")}\n`;
  let plan = plans.get(yaml);
  if (plan === undefined) {
    plan = planFromYaml(yaml, { "hooks.js": code });
    plans.set(yaml, plan);
  }
  return plan;
}

function runnerOf(name: keyof typeof HOOKS): CodeRunner | undefined {
  const source = HOOKS[name];
  if (source === "") return undefined;
  let r = runners.get(name);
  if (r === undefined) {
    r = createCodeRunner({ name: `invariant/${name}`, source, file: "hooks.js", limits: { memoryMb: 32, timeMs: 500, blockTimeMs: 10000 } });
    runners.set(name, r);
  }
  return r;
}

const shape: fc.Arbitrary<Shape> = fc.record({
  hooks: fc.constantFrom(...(Object.keys(HOOKS) as Array<keyof typeof HOOKS>)),
  keyed: fc.boolean(),
  // Rules that read the state make a reduce cell fold one input per call: drawn less often, so most folds run ahead.
  rules: fc.tuple(fc.subarray(["small", "even"] as Array<keyof typeof RULES>), fc.constantFrom<Array<keyof typeof RULES>>([], [], [], ["cap"], ["tagCap"])).map(([a, b]) => [...a, ...b]),
  updates: fc.subarray(Object.keys(UPDATES) as Array<keyof typeof UPDATES>),
  emit: fc.constantFrom<Shape["emit"]>("none", "data", "data", "state"),
});
const input: fc.Arbitrary<BlockInput> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ id: fc.constantFrom("a", "b", "c", "d", "e", "f"), n: fc.integer({ min: 0, max: 20 }), tag: fc.constantFrom("x", "y") }).map((data) => ({ data })) },
  // Refused before anything reads the state (the schema).
  { weight: 1, arbitrary: fc.constant({ data: { id: "a", n: "many", tag: "x" } }) },
);
/** Inputs and the sizes of the consecutive blocks they are split into. */
const run = fc.array(input, { minLength: 1, maxLength: 24 }).chain((inputs) =>
  fc.array(fc.integer({ min: 1, max: inputs.length }), { minLength: 1, maxLength: inputs.length }).map((sizes) => ({ inputs, sizes })),
);

interface Outcome {
  verdicts: Verdict[];
  outputs: Json[];
  root: string;
}

function execute(plan: ChannelPlan, runner: CodeRunner | undefined, blocks: BlockInput[][]): Outcome {
  let state: CellState = {};
  let root = "";
  const verdicts: Verdict[] = [];
  const outputs: Json[] = [];
  for (const block of blocks) {
    // Every block has the same header: only the split differs.
    // A node's dry run of the same block on the same state (verdicts only) must agree with the block.
    const dry = blockVerdicts(plan, "c", state, block, header(3), runner ? { code: () => runner } : {});
    const r = executeBlock(plan, "c", state, block, header(3), runner ? { code: () => runner } : {});
    expect(dry).toEqual(r.verdicts);
    state = r.state;
    root = r.stateRoot;
    verdicts.push(...r.verdicts);
    for (const o of r.outputs) outputs.push({ to: o.to, data: o.data });
  }
  return { verdicts, outputs, root };
}

function split(inputs: BlockInput[], sizes: number[]): BlockInput[][] {
  const out: BlockInput[][] = [];
  let at = 0;
  for (const n of sizes) {
    if (at >= inputs.length) break;
    out.push(inputs.slice(at, at + n));
    at += n;
  }
  if (at < inputs.length) out.push(inputs.slice(at));
  return out;
}

describe("batching is invisible", () => {
  test("one block and the same inputs in consecutive smaller blocks give the same verdicts, outputs and state root", () => {
    fc.assert(
      fc.property(shape, run, (s, { inputs, sizes }) => {
        const plan = channelOf(s);
        const runner = runnerOf(s.hooks);
        const whole = execute(plan, runner, [inputs]);
        const parts = execute(plan, runner, split(inputs, sizes));
        const ones = execute(plan, runner, inputs.map((i) => [i]));
        expect(parts.verdicts).toEqual(whole.verdicts);
        expect(ones.verdicts).toEqual(whole.verdicts);
        expect(parts.outputs).toEqual(whole.outputs);
        expect(ones.outputs).toEqual(whole.outputs);
        expect(parts.root).toBe(whole.root);
        expect(ones.root).toBe(whole.root);
      }),
      { numRuns: Number(process.env.INVARIANT_RUNS ?? 120), seed: process.env.INVARIANT_SEED === undefined ? undefined : Number(process.env.INVARIANT_SEED) },
    );
  }, 120_000);

  test("the generator reaches refusals of every kind (rules, hooks, keys, folds)", () => {
    // A fixed channel with every part: the property above is only as good as what its inputs reach.
    const s: Shape = { hooks: "capTagCap", keyed: true, rules: ["small", "even"], updates: [], emit: "data" };
    const plan = channelOf(s);
    const inputs: BlockInput[] = [
      { data: { id: "a", n: 2, tag: "x" } },
      { data: { id: "a", n: 4, tag: "x" } },
      { data: { id: "b", n: 19, tag: "x" } },
      { data: { id: "c", n: 3, tag: "y" } },
      { data: { id: "d", n: 4, tag: "x" } },
      { data: { id: "e", n: 6, tag: "x" } },
      { data: { id: "f", n: 8, tag: "x" } },
    ];
    const whole = execute(plan, runnerOf(s.hooks), [inputs]);
    expect(whole.verdicts.map((v) => (v.accepted ? "ok" : `${v.code}${v.rule ? `:${v.rule}` : ""}${v.code === "CELL_CODE_REJECT" ? `:${v.message}` : ""}`))).toEqual([
      "ok",
      "CELL_DUPLICATE_KEY",
      "CELL_RULE:small",
      "CELL_RULE:even-when-tag-y",
      "ok",
      "ok",
      "CELL_CODE_REJECT:tag-full",
    ]);
  });
});
