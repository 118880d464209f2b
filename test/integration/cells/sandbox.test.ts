/**
 * executeBlock with the real sandbox (isolated-vm) behind modules.code:
 * batched hooks, a rejecting validate, a reduce fold, a transform feeding
 * emits, and a hook that runs out of time, which rejects only its input and
 * makes the block recompute without it.
 */
import { afterAll, expect, test } from "vitest";
import { requireChannel } from "../../../runtime/definition/index.js";
import { checkCode, createCodeRunner, type CodeRunner } from "../../../runtime/sandbox/index.js";
import { executeBlock, type Rejected } from "../../../runtime/cells/index.js";
import { outputInput } from "../../../runtime/cells/index.js";

const code = `
function validate(data, ctx) {
  if (data.n < 0) return { reject: "negative numbers are not counted" };
  return true;
}
function reduce(state, data, ctx) {
  if (data.n === 13) { while (true) {} }
  return { total: (state.total || 0) + data.n, last: data.id, seen: (state.seen || 0) + 1 };
}
`;
const tcode = `
function transform(data, ctx) {
  if (data.n === 7) throw new Error("seven is unlucky");
  return [{ id: data.id, half: data.n / 2 }, { id: data.id + "-b", half: 0 }];
}
`;
const files: Record<string, string> = { "cells/sum.js": code, "cells/split.js": tcode };
const plan = requireChannel(
  `
channel: sbx
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  sum:
    group: g
    direct: true
    accepts: { type: object, required: [id, n], properties: { id: { type: string }, n: { type: number } } }
    key: { var: data.id }
    code: ./sum.js
    limits: { memoryMb: 32, timeMs: 30 }
  split:
    group: g
    accepts: { type: object }
    code: ./split.js
    emit:
      - to: sum
        when: { ">": [ { var: data.half }, 0 ] }
        data: { id: { var: data.id }, n: { var: data.half } }
`,
  { file: "cells/sbx.yaml" },
  { readFile: (p) => files[p], checkCode },
);

const runners = new Map<string, CodeRunner>();
const code_ = (cell: string): CodeRunner => {
  let r = runners.get(cell);
  if (!r) {
    const c = plan.cells[cell].code!;
    r = createCodeRunner({ name: `sbx/${cell}`, source: c.source, file: c.resolved, limits: plan.cells[cell].limits });
    runners.set(cell, r);
  }
  return r;
};
afterAll(() => runners.forEach((r) => r.dispose()));
const header = { height: 1, time: 1_700_000_001_000, hash: "ab".repeat(32) };

test("validate rejects, reduce folds, a timeout in reduce rejects only that input", () => {
  const r = executeBlock(
    plan,
    "sum",
    {},
    [{ data: { id: "a", n: 1 } }, { data: { id: "b", n: -5 } }, { data: { id: "c", n: 13 } }, { data: { id: "c", n: 2 } }],
    header,
    { code: code_ },
  );
  expect(r.verdicts[0]).toEqual({ accepted: true });
  expect(r.verdicts[1]).toEqual({ accepted: false, code: "CELL_CODE_REJECT", message: "negative numbers are not counted" });
  expect((r.verdicts[2] as Rejected).code).toBe("SANDBOX_TIMEOUT");
  // The timed-out "c" left no record, so the second "c" is not a duplicate key.
  expect(r.verdicts[3]).toEqual({ accepted: true });
  expect(r.state.total).toBe(3);
  expect(r.state.seen).toBe(2);
  expect(r.state.records?.c).toEqual({ id: "c", n: 2 });
}, 60_000);

test("transform outputs go through emit mappings; a throwing transform rejects only its input", () => {
  const r = executeBlock(plan, "split", {}, [{ data: { id: "x", n: 4 } }, { data: { id: "y", n: 7 } }, { data: { id: "z", n: 6 } }], header, { code: code_ });
  expect(r.verdicts.map((v) => (v.accepted ? "ok" : v.code))).toEqual(["ok", "SANDBOX_THROW", "ok"]);
  expect(r.outputs.map((o) => [o.to, o.input, o.data])).toEqual([
    ["sum", 0, { id: "x", n: 2 }],
    ["sum", 2, { id: "z", n: 3 }],
  ]);
  const down = executeBlock(plan, "sum", {}, r.outputs.map(outputInput), header, { code: code_ });
  expect(down.state.total).toBe(5);
}, 60_000);
