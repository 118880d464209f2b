/**
 * Random channels and hostile inputs for the whole-pipeline property
 * (pipeline-property.test.ts): a generator of schemas, rules, record keys,
 * state updates, emits and code hooks, and of inputs that include half
 * characters, look-alike text, numbers a double cannot hold, deep values and
 * plain junk. `digestCase` runs a case through admission and two blocks of
 * the source cell and one of the sink, and returns what validators compare
 * (verdict codes, state roots, outputs) as canonical text.
 *
 * Shared by the test and its child process: the same seed gives the same
 * cases in both (fast-check's sample is seeded).
 */
import fc from "fast-check";
import { stringify } from "yaml";
import { canonicalString, type Json } from "../../../runtime/core/canonical.js";
import { loadChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { admitInput, executeBlock, type BlockInput, type CellState, type ExecuteModules } from "../../../runtime/cells/index.js";
import { outputInput } from "../../../runtime/cells/index.js";
import { checkCode, createCodeRunner, type CodeRunner } from "../../../runtime/sandbox/index.js";

const RULES: Json[] = [
  { "<=": [{ var: "data.n" }, 1000] },
  { "!=": [{ substr: [{ var: "data.s" }, 0, 1] }, "x"] },
  { ">": [{ length: [{ cat: [{ var: "data.s" }, { var: "state.last" }] }] }, -1] },
  { "<": [{ "+": [{ var: "data.n" }, 1] }, 1e15] },
  { "!": [{ in: ["bad", { var: "data.s" }] }] },
  { "<=": [{ var: "state.count" }, 50] },
  { "!=": [{ cat: [{ var: "data" }] }, "{}"] },
];

const UPDATES: Json[] = [
  { set: "last", value: { substr: [{ var: "data.s" }, 1, 3] } },
  { add: "count", value: 1 },
  { add: "sum", value: { var: "data.n" }, when: { "==": [{ var: "data.kind" }, "num"] } },
  { append: "log", value: { substr: [{ var: "data.s" }, 0, 2] } },
  { set: "by.{data.s}", value: { var: "data.n" }, when: { "!!": [{ var: "data.s" }] } },
  { remove: "by.{data.s}", when: { "<": [{ var: "data.n" }, 0] } },
  { set: "deep", value: { var: "data.deep" } },
];

const KEYS: Array<Json | undefined> = [undefined, { var: "data.s" }, { cat: [{ var: "data.s" }, "-", { var: "data.n" }] }, { var: "data.n" }];

const HOOKS: Array<{ name: string; source: string }> = [
  { name: "none", source: "" },
  { name: "validate-slice", source: "function validate(d) { return typeof d.s !== 'string' || d.s.length < 4 || { reject: d.s.slice(0, 3) }; }" },
  { name: "validate-throw", source: "function validate(d) { if (d.n === 7) throw new TypeError('seven ' + d.s); return true; }" },
  { name: "transform-slice", source: "function transform(d) { return { t: String(d.s === undefined ? '' : d.s).slice(0, 1), n: d.n }; }" },
  { name: "transform-many", source: "function transform(d) { const out = []; for (let i = 0; i < (d.n > 0 && d.n < 200 ? d.n : 1); i++) out.push({ i }); return out; }" },
  { name: "reduce-count", source: "function reduce(st, d) { st.count = (st.count || 0) + 1; if (d.n < 0) throw new Error('negative'); st.last = String(d.s === undefined ? '' : d.s).slice(-1); return st; }" },
  { name: "reduce-undefined", source: "function reduce(st, d) { return Object.assign({}, st, { u: d.n > 5 ? undefined : 1, c: (st.c || 0) + 1 }); }" },
];

export interface PipelineCase {
  channel: Record<string, unknown>;
  hook: string;
  blocks: unknown[][];
}

const HALF = "\ud83d";
const text = fc.oneof(
  fc.constantFrom("😀", HALF, `a${HALF}`, "\udc00", "café", "cafe\u0301", "bad", "x", "", "a.b", "__proto__", "constructor", "x".repeat(300)),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 6 }),
);
const number = fc.oneof(
  fc.integer({ min: -5, max: 300 }),
  fc.constantFrom(2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e300, 0.1, -0, Number.MAX_SAFE_INTEGER, 5e-324),
  fc.double({ noNaN: false }),
);
const deep = fc.integer({ min: 0, max: 40 }).map((d) => {
  let v: unknown = 1;
  for (let i = 0; i < d; i++) v = [v];
  return v;
});
const datum: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ s: text, n: number, kind: fc.constantFrom("num", "txt"), deep }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, "text", 5, [], { s: { nested: true } }) },
);
/** An input: a value given straight to executeBlock, or raw text through admission. */
const input = fc.oneof(datum.map((d) => ({ value: d })), datum.map((d) => ({ text: safeStringify(d) })), fc.constantFrom({ text: '{"n":9007199254740993}' }, { text: '{"s":"\\ud83d"}' }, { text: '{"n":1e-400}' }));

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? "null";
  } catch {
    return "null";
  }
}

export const caseArbitrary: fc.Arbitrary<PipelineCase> = fc
  .record({
    schema: fc.constantFrom<Json>({ type: "object" }, { type: "object", properties: { s: { type: "string" }, n: { type: "number" } } }, true),
    rules: fc.subarray(RULES.map((r, i) => ({ name: `r${i}`, require: r, message: `rule {data.s} and {state.last}` })), { maxLength: 3 }),
    key: fc.constantFrom(...KEYS),
    updates: fc.subarray(UPDATES, { maxLength: 4 }),
    emits: fc.boolean(),
    hook: fc.constantFrom(...HOOKS),
    blocks: fc.array(fc.array(input, { maxLength: 12 }), { minLength: 2, maxLength: 2 }),
  })
  .map(({ schema, rules, key, updates, emits, hook, blocks }) => {
    const reduce = hook.source.includes("function reduce");
    const src: Record<string, unknown> = { group: "g", accepts: schema, rules };
    if (key !== undefined) src.key = key;
    if (!reduce && updates.length > 0) src.state = updates;
    if (emits || hook.source.includes("function transform")) src.emit = [{ to: "sink", data: hook.source.includes("function transform") ? undefined : { t: { substr: [{ var: "data.s" }, 0, 1] }, n: { var: "data.n" } } }];
    if (hook.source !== "") src.code = "./hooks.js";
    if (src.emit && (src.emit as Array<{ data?: unknown }>)[0].data === undefined) src.emit = [{ to: "sink" }];
    const channel = {
      channel: "prop",
      version: 1,
      limits: { maxOutputsPerInput: 256 },
      groups: { g: { validators: ["a"], threshold: 1 } },
      cells: { src, sink: { group: "g", accepts: { type: "object" }, state: [{ add: "seen", value: 1 }] } },
    };
    return { channel, hook: hook.name, blocks: blocks.map((b) => b.map((x) => ("text" in x ? x.text : x.value))) };
  });

/** The channel plan of a case (loaded through the real loader and sandbox check). */
export function planOf(c: PipelineCase): ChannelPlan {
  const source = HOOKS.find((h) => h.name === c.hook)!.source;
  const r = loadChannel(stringify(c.channel), { file: "prop.yaml" }, { readFile: () => source, checkCode });
  if (r.plan === undefined) throw new Error(`the generated channel does not load: ${r.problems.map((p) => `${p.code} ${p.message}`).join("; ")}`);
  return r.plan;
}

/**
 * Runs the case; returns canonical text of what validators compare. Throws
 * only if statecell does (which is what the property forbids).
 */
export function digestCase(c: PipelineCase): string {
  const plan = planOf(c);
  const cell = plan.cells.src;
  let runner: CodeRunner | undefined;
  if (cell.code !== undefined) runner = createCodeRunner({ name: "prop/src", source: cell.code.source, file: "hooks.js", limits: cell.limits });
  const modules: ExecuteModules = { code: () => runner };
  try {
    let state: CellState = {};
    let sink: CellState = {};
    const out: Json[] = [];
    c.blocks.forEach((raw, b) => {
      const header = { height: b + 1, time: 1_700_000_000_000 + b * 1000, hash: (b + 1).toString(16).padStart(64, "0") };
      const admission: Json[] = [];
      const inputs: BlockInput[] = [];
      for (const r of raw) {
        if (typeof r === "string") {
          const a = admitInput(plan, "src", r);
          if ("accepted" in a) admission.push(a.code);
          else inputs.push(a);
        } else inputs.push({ data: r as Json });
      }
      const r1 = executeBlock(plan, "src", state, inputs, header, modules);
      state = r1.state;
      const r2 = executeBlock(plan, "sink", sink, r1.outputs.map(outputInput), header);
      sink = r2.state;
      out.push({
        admission,
        verdicts: r1.verdicts.map((v) => (v.accepted ? "ok" : v.rule !== undefined ? `${v.code}:${v.rule}` : v.code)),
        root: r1.stateRoot,
        outputs: canonicalString(r1.outputs.map((o) => o.data) as Json),
        sink: r2.stateRoot,
        state: canonicalString(state),
      });
    });
    return canonicalString(out);
  } finally {
    runner?.dispose();
  }
}
