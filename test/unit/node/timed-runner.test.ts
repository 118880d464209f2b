/**
 * A node times its cells' hooks through timedRunner. The wrapper must keep
 * everything the runner offers: without `tracksReads` and `fold`, a code
 * cell's block ran its hooks one input per isolate call on every node, while
 * the code-cell benchmark, which uses the bare runner, batched them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { executeBlock, outputInput, type BlockInput, type CellState } from "../../../runtime/cells/index.js";
import { requireChannel } from "../../../runtime/definition/index.js";
import { timedRunner } from "../../../runtime/node/metrics.js";
import { checkCode, createCodeRunner } from "../../../runtime/sandbox/index.js";

const ROOT = join(import.meta.dirname, "../../..");
const file = join(ROOT, "channels/air-quality.yaml");
const plan = requireChannel(readFileSync(file, "utf8"), { file }, { readFile: (p) => readFileSync(p, "utf8"), checkCode });
const source = readFileSync(join(ROOT, "channels/air-quality/districts.js"), "utf8");
const runner = createCodeRunner({ name: "air-quality/districts", source, file: "districts.js", limits: { memoryMb: 32, timeMs: 50 } });
afterAll(() => runner.dispose());

const districts = ["cen", "nor", "sou", "Bad"];
// What the readings cell emits, as the districts cell receives it.
const inputs: BlockInput[] = Array.from({ length: 200 }, (_, i) => outputInput({ from: "readings", to: "districts", input: i, data: { district: districts[i % 4], sensor: `s-${i}`, pm25: 5 + (i % 40) }, signer: null }));
const header = { height: 1, time: 1_700_000_001_000, hash: "ab".repeat(32) };

describe("timedRunner", () => {
  it("keeps every member of the runner it wraps", () => {
    const timed = timedRunner(runner, () => undefined);
    for (const k of ["hooks", "tracksReads", "validate", "transform", "reduce", "fold", "heap", "dispose", "disposed"] as const) {
      expect(timed[k as keyof typeof timed], k).toEqual(k === "hooks" || k === "tracksReads" || k === "disposed" ? runner[k] : expect.any(Function));
    }
    expect(timed.tracksReads).toBe(true);
  });

  it("a block of the districts cell through the timed runner is batched as through the bare one, with the same result", () => {
    let calls = 0;
    const timed = timedRunner(runner, () => calls++);
    const bare = executeBlock(plan, "districts", {} as CellState, inputs, header, { code: () => runner });
    const viaTimed = executeBlock(plan, "districts", {} as CellState, inputs, header, { code: () => timed });
    expect(viaTimed.verdicts).toEqual(bare.verdicts);
    expect(viaTimed.stateRoot).toBe(bare.stateRoot);
    expect(bare.verdicts.filter((v) => !v.accepted)).toHaveLength(50);
    // 200 inputs through validate and reduce: a few folds, not one call per input and hook.
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(4);
  });
});
