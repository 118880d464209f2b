/**
 * Test helpers for cells: plans from YAML through the real loader (the
 * contract cells consumes), fake code runners, and small builders.
 */
import { requireChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import type { Json } from "../../../runtime/core/canonical.js";
import { admitInput, type BlockHeader, type BlockInput, type CodeRunner, type HookName, type Rejected } from "../../../runtime/cells/index.js";

/** A plan from channel YAML; `files` holds code files by path; hooks are found by name. */
export function planFromYaml(yaml: string, files: Record<string, string> = {}): ChannelPlan {
  return requireChannel(yaml, { file: "test/channel.yaml" }, {
    readFile: (p) => files[p] ?? files[p.replace(/^test\//, "")] ?? files[`./${p.replace(/^test\//, "")}`],
    checkCode: (source) => ({
      hooks: (["validate", "transform", "reduce"] as const).filter((h) => new RegExp(`function\\s+${h}\\b`).test(source)),
      problems: [],
    }),
  });
}

/** Header of block `height` (default time like the test runner's). */
export function header(height = 1, time = 1_700_000_000_000 + height * 1000): BlockHeader {
  return { height, time, hash: height.toString(16).padStart(64, "0") };
}

/** Admits `data` or fails the test. */
export function admit(plan: ChannelPlan, cell: string, data: unknown): BlockInput {
  const r = admitInput(plan, cell, data);
  if ("accepted" in r) throw new Error(`not admitted: ${(r as Rejected).code} ${(r as Rejected).message}`);
  return r;
}

/** A code runner made of plain functions, recording its calls. */
export function fakeRunner(hooks: Partial<{
  validate: (data: Json, index: number) => ReturnType<CodeRunner["validate"]>[number];
  transform: (data: Json, index: number) => ReturnType<CodeRunner["transform"]>[number];
  reduce: (state: Json, data: Json, index: number) => { state: Json } | { fault: "SANDBOX_THROW" | "SANDBOX_TIMEOUT"; message: string };
}>): CodeRunner & { calls: Array<{ hook: HookName; n: number }> } {
  const calls: Array<{ hook: HookName; n: number }> = [];
  return {
    calls,
    hooks: Object.keys(hooks) as HookName[],
    validate(items) {
      calls.push({ hook: "validate", n: items.length });
      return items.map((it) => hooks.validate!(it.data, it.ctx.index));
    },
    transform(items) {
      calls.push({ hook: "transform", n: items.length });
      return items.map((it) => hooks.transform!(it.data, it.ctx.index));
    },
    reduce(state, items) {
      calls.push({ hook: "reduce", n: items.length });
      let s = JSON.parse(JSON.stringify(state)) as Json;
      const results = items.map((it) => {
        const r = hooks.reduce!(s, it.data, it.ctx.index);
        if ("fault" in r) return r;
        s = r.state;
        return { ok: true as const };
      });
      return { state: s, results };
    },
  };
}
