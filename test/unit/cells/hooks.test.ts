import { describe, expect, test } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { executeBlock, stateRootOf, type Rejected } from "../../../runtime/cells/index.js";
import { fakeRunner, header, planFromYaml } from "./helpers.js";

const channel = (cell: string, code: string) =>
  planFromYaml(
    `
channel: hooks
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
${cell}
    code: ./hooks.js
  out:
    group: g
    accepts: { type: object }
`,
    { "hooks.js": code },
  );

const keyed = `  c:
    group: g
    accepts: { type: object, required: [id], properties: { id: { type: string }, n: { type: number } } }
    key: { var: data.id }
    rules:
      - name: small
        require: { "<": [ { var: data.n }, 100 ] }
        message: "{data.n} is not small"`;

const data = (id: string, n: number) => ({ data: { id, n } });

describe("code hooks", () => {
  test("validate runs in one batch while nothing has changed, then input by input against the state the earlier inputs left", () => {
    const plan = channel(`${keyed}\n    state:\n      - add: count\n        value: 1`, "function validate(data, ctx) { return true }");
    const runner = fakeRunner({ validate: (d) => ((d as { n: number }).n % 2 === 0 ? { ok: true } : { ok: false, reason: "odd" }) });
    const r = executeBlock(plan, "c", { count: 10 }, [data("a", 2), { data: { id: 1 } }, data("b", 3), data("c", 4)], header(), { code: () => runner });
    // One batch of the three that passed the schema; after "a" changed the state, b and c run alone.
    expect(runner.calls).toEqual([
      { hook: "validate", n: 3 },
      { hook: "validate", n: 1 },
      { hook: "validate", n: 1 },
    ]);
    expect(r.verdicts.map((v) => v.accepted)).toEqual([true, false, false, true]);
    expect(r.verdicts[2]).toEqual({ accepted: false, code: "CELL_CODE_REJECT", message: "odd" });
    expect(r.state.count).toBe(12);
  });

  test("batching is invisible: a validate hook's cap of two holds within one block", () => {
    const plan = channel(`${keyed}\n    state:\n      - add: count\n        value: 1`, "function validate(data, ctx) { return true }");
    const cap = {
      hooks: ["validate"] as const,
      validate: (items: ReadonlyArray<{ data: Json; ctx: { state: Json } }>) =>
        items.map((it) => (((it.ctx.state as { count?: number }).count ?? 0) < 2 ? { ok: true as const } : { ok: false as const, reason: "at most two" })),
      transform: () => [],
      reduce: (s: Json) => ({ state: s, results: [] }),
    };
    const one = executeBlock(plan, "c", {}, [data("a", 1), data("b", 1), data("c", 1)], header(1), { code: () => cap });
    expect(one.verdicts.map((v) => (v.accepted ? "ok" : v.code))).toEqual(["ok", "ok", "CELL_CODE_REJECT"]);
    // The same inputs in three blocks of one give the same verdicts and root.
    let state = {};
    const split = [data("a", 1), data("b", 1), data("c", 1)].map((input) => {
      const r = executeBlock(plan, "c", state, [input], header(1), { code: () => cap });
      state = r.state;
      return r.verdicts[0].accepted ? "ok" : (r.verdicts[0] as Rejected).code;
    });
    expect(split).toEqual(["ok", "ok", "CELL_CODE_REJECT"]);
    expect(stateRootOf(state)).toBe(one.stateRoot);
  });

  test("validate sees the user fields as ctx.state and reads records through the records option", () => {
    const plan = channel(keyed, "function validate(data, ctx) { return true }");
    const states: Json[] = [];
    let record: Json | undefined;
    const capture = {
      hooks: ["validate"] as const,
      validate(items: ReadonlyArray<{ data: Json; ctx: { state: Json } }>, opts?: { records?: (key: string, item: number) => Json | undefined }) {
        for (const i of items) states.push(i.ctx.state);
        record = opts?.records?.("a", 0);
        return items.map(() => ({ ok: true as const }));
      },
      transform: () => [],
      reduce: (s: Json) => ({ state: s, results: [] }),
    };
    const b1 = executeBlock(plan, "c", {}, [data("a", 1)], header(1), { code: () => capture });
    executeBlock(plan, "c", b1.state, [data("b", 1), data("c", 1)], header(2), { code: () => capture });
    // Block 1: one call; block 2: a batch of both, then "c" alone once "b" added its record.
    expect(states).toEqual([{}, {}, {}, {}]);
    expect(record).toEqual({ id: "a", n: 1 });
    expect(structuredClone(states[0])).toEqual(states[0]); // plain: the sandbox can copy it
  });

  test("hooks get the state in canonical key order, whatever order it was built in", () => {
    const plan = channel(`${keyed}
    state:
      - set: m.{data.id}
        value: 1`, "function validate() { return true }");
    let seen: string[] = [];
    const capture = {
      hooks: ["validate"] as const,
      validate(items: ReadonlyArray<{ data: Json; ctx: { state: Json } }>) {
        const m = (items[0].ctx.state as { m?: Record<string, Json> }).m;
        if (m) seen = Object.keys(m);
        return items.map(() => ({ ok: true as const }));
      },
      transform: () => [],
      reduce: (s: Json) => ({ state: s, results: [] }),
    };
    const b1 = executeBlock(plan, "c", {}, [data("zeta", 1), data("alpha", 1), data("mid", 1)], header(1), { code: () => capture });
    expect(Object.keys(b1.state.m as object)).toEqual(["zeta", "alpha", "mid"]);
    executeBlock(plan, "c", b1.state, [data("x", 1)], header(2), { code: () => capture });
    expect(seen).toEqual(["alpha", "mid", "zeta"]);
  });

  test("a validate fault becomes the verdict code", () => {
    const plan = channel(keyed, "function validate() {}");
    const runner = fakeRunner({ validate: (_d, i) => (i === 1 ? { fault: "SANDBOX_TIMEOUT", message: "validate ran over 50 ms" } : { ok: true }) });
    const r = executeBlock(plan, "c", {}, [data("a", 1), data("b", 1)], header(), { code: () => runner });
    expect(r.verdicts[1]).toEqual({ accepted: false, code: "SANDBOX_TIMEOUT", message: "validate ran over 50 ms" });
  });

  test("reduce folds input by input, after the rules, so each input's rules see what the one before left", () => {
    const plan = channel(keyed, "function reduce(state, data) { return state }");
    const runner = fakeRunner({ reduce: (s, d) => ({ state: { total: ((s as { total?: number }).total ?? 0) + (d as { n: number }).n } }) });
    const r = executeBlock(plan, "c", {}, [data("a", 1), data("b", 500), data("c", 2)], header(), { code: () => runner });
    expect(runner.calls).toEqual([
      { hook: "reduce", n: 1 },
      { hook: "reduce", n: 1 },
    ]);
    expect((r.verdicts[1] as Rejected).rule).toBe("small");
    expect(r.state.total).toBe(3);
    expect(Object.keys(r.state.records ?? {}).sort()).toEqual(["a", "c"]);
  });

  test("a reduce fault rejects that input only; its key stays free for a later input", () => {
    const plan = channel(keyed, "function reduce(state, data) { return state }");
    const runner = fakeRunner({
      reduce: (s, d, i) =>
        i === 1 ? { fault: "SANDBOX_THROW", message: "boom" } : { state: { seen: [...((s as { seen?: string[] }).seen ?? []), (d as { id: string }).id] } },
    });
    const r = executeBlock(plan, "c", {}, [data("a", 1), data("dup", 1), data("dup", 2)], header(), { code: () => runner });
    expect(r.passes).toBe(1);
    expect(r.verdicts[1]).toEqual({ accepted: false, code: "SANDBOX_THROW", message: "boom" });
    expect(r.verdicts[2]).toEqual({ accepted: true });
    expect(r.state.seen).toEqual(["a", "dup"]);
    expect(r.state.records?.dup).toEqual({ id: "dup", n: 2 });
  });

  test("transform outputs go through emit mappings; a transform fault drops the input's state effects", () => {
    const plan = channel(
      `${keyed}
    state:
      - add: count
        value: 1
    emit:
      - to: out
        data: { doubled: { "*": [ { var: data.v }, 2 ] } }`,
      "function transform(data) { return [] }",
    );
    const runner = fakeRunner({
      transform: (d, i) => (i === 1 ? { fault: "SANDBOX_MEMORY", message: "over 32 MB" } : { outputs: [{ v: (d as { n: number }).n }, { v: 0 }] }),
    });
    const r = executeBlock(plan, "c", {}, [data("a", 5), data("b", 6), data("c", 7)], header(), { code: () => runner });
    expect(r.verdicts.map((v) => (v.accepted ? "ok" : v.code))).toEqual(["ok", "SANDBOX_MEMORY", "ok"]);
    expect(r.state.count).toBe(2);
    expect(Object.keys(r.state.records ?? {}).sort()).toEqual(["a", "c"]);
    expect(r.outputs.map((o) => [o.input, o.data])).toEqual([
      [0, { doubled: 10 }],
      [0, { doubled: 0 }],
      [2, { doubled: 14 }],
      [2, { doubled: 0 }],
    ]);
    // One batch while nothing has changed, then b and c alone against the state a left.
    expect(runner.calls.map((c) => c.n)).toEqual([3, 1, 1]);
  });

  test("a cell with code but no runner is a caller error", () => {
    const plan = channel(keyed, "function validate() { return true }");
    expect(() => executeBlock(plan, "c", {}, [data("a", 1)], header())).toThrow(expect.objectContaining({ code: "CELL_NO_CODE_RUNNER" }));
  });
});
