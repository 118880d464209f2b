/**
 * Code cells with real isolates: reduce refusals, named refusals, ctx.channel,
 * and batching that changes nothing but the number of calls (a block in one
 * call against the same inputs in blocks of one).
 */
import { readFileSync, existsSync } from "node:fs";
import { afterAll, describe, expect, test } from "vitest";
import { executeBlock, type BlockInput, type CellState, type CodeRunner, type Verdict } from "../../../runtime/cells/index.js";
import { createCodeRunner, type CodeRunner as SandboxRunner } from "../../../runtime/sandbox/index.js";
import { runTestFiles } from "../../../runtime/testing/index.js";
import type { ChannelPlan } from "../../../runtime/definition/index.js";
import { admit, header, planFromYaml } from "./helpers.js";

const runners: SandboxRunner[] = [];
afterAll(() => {
  for (const r of runners) r.dispose();
});

/** A channel with one code cell `c` (hooks in `code`), its real runner, and a spy counting the runner's calls. */
function codeCell(code: string, cell = "", params = "params: { max: 10 }"): { plan: ChannelPlan; runner: CodeRunner; calls: string[] } {
  const plan = planFromYaml(
    `
channel: code-cells
version: 1
${params}
groups: { g: { validators: [a], threshold: 1 } }
cells:
  c:
    group: g
    accepts: { type: object, required: [id, n], properties: { id: { type: string }, n: { type: number } } }
${cell}
`,
    { "hooks.js": code },
  );
  const real = createCodeRunner({ name: "code-cells/c", source: code, file: "hooks.js", limits: { memoryMb: 32, timeMs: 200 } });
  runners.push(real);
  const calls: string[] = [];
  const runner: CodeRunner = {
    hooks: real.hooks,
    tracksReads: real.tracksReads,
    validate: (items, o) => (calls.push(`validate ${items.length}`), real.validate(items, o)),
    transform: (items, o) => (calls.push(`transform ${items.length}`), real.transform(items, o)),
    reduce: (s, items, o) => (calls.push(`reduce ${items.length}`), real.reduce(s, items, o)),
    fold: (s, items, o) => (calls.push(`fold ${items.length}`), real.fold!(s, items, o)),
  };
  return { plan, runner, calls };
}

const codeLine = (extra = "") => `    code: ./hooks.js\n${extra}`;

function inputs(plan: ChannelPlan, list: Array<[string, number]>): BlockInput[] {
  return list.map(([id, n]) => admit(plan, "c", { id, n }));
}

/** Verdicts and final root of the inputs as one block, and as blocks of one with the same header. */
function oneAndSplit(plan: ChannelPlan, runner: CodeRunner, list: BlockInput[], start: CellState = {}): { one: Verdict[]; split: Verdict[]; oneRoot: string; splitRoot: string; state: CellState } {
  const r = executeBlock(plan, "c", start, list, header(1), { code: () => runner });
  let state = start;
  let splitRoot = "";
  const split = list.map((input) => {
    const s = executeBlock(plan, "c", state, [input], header(1), { code: () => runner });
    state = s.state;
    splitRoot = s.stateRoot;
    return s.verdicts[0];
  });
  return { one: r.verdicts, split, oneRoot: r.stateRoot, splitRoot: list.length === 0 ? r.stateRoot : splitRoot, state: r.state };
}

const show = (v: Verdict): string => (v.accepted ? "ok" : `${v.code}${v.rule ? `:${v.rule}` : ""}`);

describe("reduce refusals", () => {
  const REDUCE = `function reduce(s, d) {
  s.total = (s.total || 0) + d.n;
  s.last = { id: d.id };
  if (d.n > 10) return { reject: "amount " + d.n + " is over 10" };
  return s;
}`;

  test("a reduce hook refuses one input with its reason, and the state stays as it was before it (even after the hook changed it)", () => {
    const { plan, runner, calls } = codeCell(REDUCE, codeLine());
    const list = inputs(plan, [["a", 1], ["b", 50], ["c", 2]]);
    const { one, split, oneRoot, splitRoot, state } = oneAndSplit(plan, runner, list);
    expect(one.map(show)).toEqual(["ok", "CELL_CODE_REJECT", "ok"]);
    expect(one[1]).toEqual({ accepted: false, code: "CELL_CODE_REJECT", message: "amount 50 is over 10" });
    expect(state).toMatchObject({ total: 3, last: { id: "c" } });
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
    // The block of three is one call; the blocks of one, one each.
    expect(calls).toEqual(["reduce 3", "reduce 1", "reduce 1", "reduce 1"]);
  });

  test("an object with more keys than reject is a state, not a refusal", () => {
    const { plan, runner } = codeCell(`function reduce(s, d) { return { reject: "no", n: d.n }; }`, codeLine());
    const r = executeBlock(plan, "c", {}, inputs(plan, [["a", 1]]), header(1), { code: () => runner });
    expect(r.verdicts[0].accepted).toBe(true);
    expect(r.state).toEqual({ reject: "no", n: 1 });
  });
});

describe("named refusals (code: { file, rejects })", () => {
  const cell = `    code:
      file: ./hooks.js
      rejects:
        too-big: "the amount is over the channel's max"
        odd-id: "ids of odd length are not taken"
`;
  const CODE = `function validate(d) { return d.id.length % 2 === 0 || { reject: d.id.length > 2 ? "odd-id" : "short and odd" }; }
function reduce(s, d, ctx) { if (d.n > ctx.channel.params.max) return { reject: "too-big" }; s.n = (s.n || 0) + d.n; return s; }`;

  test("a declared name gives CELL_CODE_REJECT with the name as rule and the declared sentence; other text is the message", () => {
    const { plan, runner } = codeCell(CODE, cell);
    const list = inputs(plan, [["ab", 1], ["abc", 1], ["a", 1], ["cd", 11], ["ef", 2]]);
    const { one, split, oneRoot, splitRoot, state } = oneAndSplit(plan, runner, list);
    expect(one).toEqual([
      { accepted: true },
      { accepted: false, code: "CELL_CODE_REJECT", rule: "odd-id", message: "ids of odd length are not taken" },
      { accepted: false, code: "CELL_CODE_REJECT", message: "short and odd" },
      { accepted: false, code: "CELL_CODE_REJECT", rule: "too-big", message: "the amount is over the channel's max" },
      { accepted: true },
    ]);
    expect(state).toMatchObject({ n: 3 });
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
  });

  test("a channel's tests expect named refusals, and coverage counts them (test/fixtures/hooks/impressions.yaml)", () => {
    const report = runTestFiles(["test/fixtures/hooks/impressions.yaml"], { readFile: (p) => (existsSync(p) ? readFileSync(p, "utf8") : undefined) });
    expect(report.tests.map((t) => [t.name, t.passed])).toEqual([
      ["an impression of a listed ad is billed", true],
      ["an ad that is not in params.ads is refused by name", true],
      ["a fourth impression of one ad to one viewer in a minute is refused, in one block", true],
      ["the next minute starts a new count", true],
      ["a blocked viewer is refused with the hook's own reason", true],
    ]);
    const refusals = report.coverage.filter((c) => c.kind === "refusal").map((c) => [c.rule, c.rejected]);
    expect(refusals).toEqual([
      ["unknown-ad", 1],
      ["too-frequent", 1],
    ]);
  });
});

describe("ctx.channel", () => {
  test("hooks read channel.params as a deep-frozen copy made once per runner: writes fail, later host changes are not seen", () => {
    const CODE = `function validate(d, ctx) {
  "use strict";
  let wrote = true;
  try { ctx.channel.params.limits.max = 0; } catch (e) { wrote = false; }
  if (wrote || !Object.isFrozen(ctx.channel.params.limits)) return { reject: "params are writable" };
  if (ctx.channel.name !== "code-cells" || ctx.channel.version !== 1) return { reject: "wrong channel" };
  return d.n <= ctx.channel.params.limits.max || { reject: "over " + ctx.channel.params.limits.max };
}`;
    const { plan, runner } = codeCell(CODE, codeLine(), "params: { limits: { max: 10 } }");
    const r = executeBlock(plan, "c", {}, inputs(plan, [["a", 5], ["b", 11]]), header(1), { code: () => runner });
    expect(r.verdicts.map((v) => (v.accepted ? "ok" : v.message))).toEqual(["ok", "over 10"]);
  });

  test("the runner copies ctx.channel into the isolate once: the same params object changed in place later is not seen", () => {
    const runner = createCodeRunner({ name: "code-cells/p", source: "function validate(d, ctx) { return ctx.channel.params.max === 10 || { reject: 'max is ' + ctx.channel.params.max }; }", file: "p.js", limits: { memoryMb: 32, timeMs: 200 } });
    runners.push(runner);
    const params = { max: 10 };
    const channel = { name: "p", version: 1, hash: "00", params };
    const item = { data: 1, ctx: { block: header(1), signer: null, index: 0, state: null } };
    expect(runner.validate([item], { channel })).toEqual([{ ok: true }]);
    params.max = 99;
    // Another header object for the same channel and params: nothing is sent again.
    expect(runner.validate([item], { channel: { ...channel } })).toEqual([{ ok: true }]);
    // Other params: sent again.
    expect(runner.validate([item], { channel: { ...channel, params: { max: 5 } } })).toEqual([{ ok: false, reason: "max is 5" }]);
    // Without a channel, ctx.channel stays the last one given.
    expect(runner.validate([item])).toEqual([{ ok: false, reason: "max is 5" }]);
  });
});

describe("batching with real isolates", () => {
  test("a validate filter in front of declarative state updates is one call per block", () => {
    const { plan, runner, calls } = codeCell(`function validate(d) { return d.n < 100 || { reject: "big" }; }`, `${codeLine()}    state:\n      - add: count\n      - set: seen.{data.id}\n        value: { var: data.n }\n`);
    const list = inputs(plan, [["a", 1], ["b", 200], ["c", 3], ["d", 4]]);
    const r = executeBlock(plan, "c", {}, list, header(1), { code: () => runner });
    expect(r.verdicts.map(show)).toEqual(["ok", "CELL_CODE_REJECT", "ok", "ok"]);
    expect(calls).toEqual(["validate 4"]);
    expect(r.state).toMatchObject({ count: 3, seen: { a: 1, c: 3, d: 4 } });
  });

  test("a validate that reads ctx.state sees what the earlier inputs of the block left (a cap of two)", () => {
    const { plan, runner, calls } = codeCell(`function validate(d, ctx) { return (ctx.state.count || 0) < 2 || { reject: "at most two" }; }`, `${codeLine()}    state:\n      - add: count\n`);
    const list = inputs(plan, [["a", 1], ["b", 1], ["c", 1], ["d", 1]]);
    const { one, split, oneRoot, splitRoot } = oneAndSplit(plan, runner, list);
    expect(one.map(show)).toEqual(["ok", "ok", "CELL_CODE_REJECT", "CELL_CODE_REJECT"]);
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
    // The batch, then the inputs after the first change alone.
    expect(calls.slice(0, 4)).toEqual(["validate 4", "validate 1", "validate 1", "validate 1"]);
  });

  test("a validate reading a record that an earlier input of the block adds runs again; the others keep the batch's result", () => {
    const { plan, runner, calls } = codeCell(
      `function validate(d, ctx) { if (d.id.startsWith("re-")) return ctx.record(d.id.slice(3)) === undefined || { reject: "taken" }; return true; }`,
      `    key: { var: data.id }\n${codeLine()}`,
    );
    const list = inputs(plan, [["a", 1], ["re-a", 1], ["b", 1], ["re-z", 1]]);
    const { one, split, oneRoot, splitRoot } = oneAndSplit(plan, runner, list);
    expect(one.map(show)).toEqual(["ok", "CELL_CODE_REJECT", "ok", "ok"]);
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
    expect(calls.slice(0, 2)).toEqual(["validate 4", "validate 1"]);
  });

  test("validate and reduce over a block are one call, validate seeing the fold's state, and give what blocks of one give", () => {
    const { plan, runner, calls } = codeCell(
      `function validate(d) { return d.n >= 0 || { reject: "negative" }; }
function reduce(s, d, ctx) { const t = s.t || (s.t = {}); t[d.id] = (t[d.id] || 0) + d.n; s.before = ctx.state.t ? Object.keys(ctx.state.t).length : 0; return s; }`,
      codeLine(),
    );
    const list = inputs(plan, [["a", 1], ["b", -1], ["a", 2], ["c", 3]]);
    const { one, split, oneRoot, splitRoot, state } = oneAndSplit(plan, runner, list);
    expect(one.map(show)).toEqual(["ok", "CELL_CODE_REJECT", "ok", "ok"]);
    expect(state).toMatchObject({ t: { a: 3, c: 3 }, before: 1 });
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
    expect(calls.slice(0, 1)).toEqual(["fold 4"]);
  });

  test("a reduce state the host could not store is refused for that input alone, in a block as in blocks of one", () => {
    const { plan, runner } = codeCell(
      `function reduce(s, d) {
  if (d.id === "big") s.v = 2 ** 60;
  else if (d.id === "proto") s.w = { constructor: 1 };
  else if (d.id === "rec") s.records = { forged: true };
  else { s.v = d.n; s.sawRecords = "records" in s; }
  return s;
}`,
      codeLine(),
    );
    const list = inputs(plan, [["big", 1], ["a", 2], ["proto", 1], ["rec", 1], ["b", 3]]);
    const { one, split, oneRoot, splitRoot, state } = oneAndSplit(plan, runner, list);
    expect(one.map(show)).toEqual(["SANDBOX_OUTPUT", "ok", "SANDBOX_OUTPUT", "ok", "ok"]);
    expect(state).toEqual({ v: 3, sawRecords: false });
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
  });
});


describe("a fold through validate and reduce", () => {
  const CAPPED = `function validate(d, ctx) { const t = ctx.state.t || {}; return (t[d.id] || 0) < 2 || { reject: "full" }; }
function reduce(s, d) { const t = s.t || (s.t = {}); t[d.id] = (t[d.id] || 0) + 1; return s; }`;

  test("a validate reading what reduce keeps (a cap of two per id) holds inside one block, in one call", () => {
    const { plan, runner, calls } = codeCell(CAPPED, codeLine());
    const list = inputs(plan, [["a", 1], ["a", 1], ["b", 1], ["a", 1], ["b", 1], ["b", 1]]);
    const { one, split, oneRoot, splitRoot, state } = oneAndSplit(plan, runner, list);
    expect(one.map(show)).toEqual(["ok", "ok", "ok", "CELL_CODE_REJECT", "ok", "CELL_CODE_REJECT"]);
    expect(state).toEqual({ t: { a: 2, b: 2 } });
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
    expect(calls[0]).toBe("fold 6");
  });

  test("validate gets its own copy of the data, the data itself: keys in order, nested values, and its writes reach neither reduce nor the block", () => {
    // validate writes its text before changing its copy, and refuses inputs marked "show" with that text;
    // reduce keeps the text of the data it is handed.
    const { plan, runner, calls } = codeCell(
      `function validate(d) {
  const seen = JSON.stringify(d);
  d.n = -1; d.added = true; delete d.id;
  if (Array.isArray(d.list)) d.list.push("more");
  if (d.deep) d.deep.inner.x = "changed";
  return !seen.includes("show") || { reject: seen };
}
function reduce(s, d) { (s.seen || (s.seen = [])).push(JSON.stringify(d)); return s; }`,
      codeLine(),
    );
    const datas = [
      { id: "a", n: 1, list: [1, "two", { three: [3] }], deep: { inner: { x: "kept", y: null }, z: false } },
      { z: "last", "10": "ten", "2": "two", id: "b", n: 2.5, deep: { inner: { x: "é😀" } } },
      { id: "show", n: 3, "1": 1, list: [], deep: { inner: { x: "shown" } } },
    ];
    const list = datas.map((d) => admit(plan, "c", d));
    const texts = list.map((input) => JSON.stringify(input.data));
    const { one, split, oneRoot, splitRoot, state } = oneAndSplit(plan, runner, list);
    expect(one.map(show)).toEqual(["ok", "ok", "CELL_CODE_REJECT"]);
    expect(one[2].accepted ? "" : one[2].message).toContain(texts[2]);
    expect(state).toEqual({ seen: [texts[0], texts[1]] });
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
    expect(calls[0]).toBe("fold 3");
  });

  test("a reduce storing an object whose size is under the state limit keeps it, however large its growth bound", () => {
    // 40,000 ones: about 80,000 characters of JSON, far under the 2,097,152 of 32 MB, but 24 apiece
    // by the fast path's bound (960,000): both inputs must still be kept, in a block as in blocks of one.
    const { plan, runner } = codeCell(`function reduce(s, d) { s[d.id] = { ones: new Array(40000).fill(1) }; return s; }`, codeLine());
    const list = inputs(plan, [["a", 1], ["b", 1], ["c", 1]]);
    const { one, split, oneRoot, splitRoot, state } = oneAndSplit(plan, runner, list);
    expect(one.map(show)).toEqual(["ok", "ok", "ok"]);
    expect(Object.keys(state).sort()).toEqual(["a", "b", "c"]);
    expect((state.c as { ones: number[] }).ones.length).toBe(40000);
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
  });

  test("an input whose key is taken runs validate only: validate's refusal comes first, else the key's", () => {
    const { plan, runner, calls } = codeCell(
      `function validate(d) { return d.n !== 9 || { reject: "nines" }; }
function reduce(s, d) { s.n = (s.n || 0) + d.n; return s; }`,
      `    key: { var: data.id }\n${codeLine()}`,
    );
    const list = inputs(plan, [["a", 1], ["b", 2], ["a", 9], ["a", 3], ["c", 4]]);
    const { one, split, oneRoot, splitRoot, state } = oneAndSplit(plan, runner, list, {});
    expect(one.map(show)).toEqual(["ok", "ok", "CELL_CODE_REJECT", "CELL_DUPLICATE_KEY", "ok"]);
    expect(state).toMatchObject({ n: 7 });
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
    // The fold stops before the second "a" (its key depends on whether the first is accepted).
    expect(calls.slice(0, 2)).toEqual(["fold 2", "fold 3"]);
  });

  test("a hook reading a record an earlier input of the fold adds gets the record, as in blocks of one", () => {
    const { plan, runner } = codeCell(
      `function validate(d, ctx) { return !d.id.startsWith("re-") || ctx.record(d.id.slice(3)) !== undefined || { reject: "no such record" }; }
function reduce(s, d, ctx) { s.seen = (s.seen || 0) + (ctx.record("a") === undefined ? 0 : 1); return s; }`,
      `    key: { var: data.id }\n${codeLine()}`,
    );
    const list = inputs(plan, [["a", 1], ["re-a", 1], ["re-b", 1], ["b", 1], ["re-b", 2]]);
    const { one, split, oneRoot, splitRoot, state } = oneAndSplit(plan, runner, list);
    // re-a finds the record a stored earlier in the block; the first re-b finds none, the second the one b stored.
    expect(one.map(show)).toEqual(["ok", "ok", "CELL_CODE_REJECT", "ok", "ok"]);
    expect(state).toMatchObject({ seen: 3 });
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
  });
});

describe("hostile hooks in a fold", () => {
  test("a reduce reading ctx.state after changing the state gets the state before the input, even when it catches what stops the fast run and would loop", () => {
    const { plan, runner } = codeCell(
      `function reduce(s, d, ctx) {
  s.n = (s.n || 0) + d.n;
  let before;
  try { before = ctx.state.n || 0; } catch (e) { while (true) {} }
  s.before = before;
  return s;
}`,
      codeLine(),
    );
    const list = inputs(plan, [["a", 1], ["b", 2], ["c", 3]]);
    const { one, split, oneRoot, splitRoot, state } = oneAndSplit(plan, runner, list);
    expect(one.map(show)).toEqual(["ok", "ok", "ok"]);
    expect(state).toEqual({ n: 6, before: 3 });
    expect(split).toEqual(one);
    expect(splitRoot).toBe(oneRoot);
  });

  test("refusal reasons are checked text: a lone surrogate faults SANDBOX_OUTPUT, a long one is clipped, a non-text reject is a state", () => {
    const { plan, runner } = codeCell(
      `function reduce(s, d) {
  if (d.id === "half") return { reject: "bad \\uD800 text" };
  if (d.id === "long") return { reject: "x".repeat(5000) };
  if (d.id === "num") return { reject: 5 };
  s.n = (s.n || 0) + 1;
  return s;
}`,
      codeLine(),
    );
    const list = inputs(plan, [["half", 1], ["long", 1], ["ok", 1], ["num", 1]]);
    const { one, split, state } = oneAndSplit(plan, runner, list);
    expect(one.map(show)).toEqual(["SANDBOX_OUTPUT", "CELL_CODE_REJECT", "ok", "ok"]);
    expect((one[1] as { message: string }).message.length).toBeLessThanOrEqual(1003);
    expect(state).toEqual({ reject: 5 });
    expect(split).toEqual(one);
  });
});

describe("the block budget in a fold", () => {
  test("inputs the proposer cut for the block budget are refused so in a fold, whether they run both hooks or validate only", () => {
    const { plan, runner } = codeCell(
      `function validate(d) { return true; }
function reduce(s, d) { s.n = (s.n || 0) + d.n; return s; }`,
      `    key: { var: data.id }\n${codeLine()}`,
    );
    const list = inputs(plan, [["a", 1], ["b", 2], ["a", 3], ["c", 4]]);
    const r = executeBlock(plan, "c", {}, list, header(1), { code: () => runner, hookOptions: { verify: { timedOut: [], blockBudget: [2, 3] } } });
    expect(r.verdicts.map(show)).toEqual(["ok", "ok", "SANDBOX_BLOCK_BUDGET", "SANDBOX_BLOCK_BUDGET"]);
    expect(r.state).toMatchObject({ n: 3 });
  });
});
