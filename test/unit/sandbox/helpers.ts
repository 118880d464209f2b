/** Shared helpers of the sandbox tests: fixtures, items and a runner factory. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Json } from "../../../runtime/core/index.js";
import { createCodeRunner, type CodeRunner, type HookItem, type SandboxLimits } from "../../../runtime/sandbox/index.js";

export const FIXTURES = fileURLToPath(new URL("../../fixtures/code/", import.meta.url));

export function fixture(name: string): string {
  return readFileSync(FIXTURES + name, "utf8");
}

export const BLOCK = { height: 3, time: 1_700_000_003_000, hash: "7e".repeat(32) };

/** Items with ctx.index = position, one shared block and state. */
export function items(datas: Json[], state: Json = {}, block = BLOCK): HookItem[] {
  return datas.map((data, index) => ({ data, ctx: { block, signer: null, index, state } }));
}

const open: CodeRunner[] = [];

/**
 * A generous default budget: the test machine is shared, and a 50 ms budget
 * can expire on a trivial hook during a neighbour's burst. Tests about
 * timeouts pass their own limits.
 */
export const ROOMY: SandboxLimits = { memoryMb: 32, timeMs: 1000 };

/** A runner over a fixture file or inline source; disposed by `disposeAll`. */
export function runner(source: string, limits: SandboxLimits = ROOMY, file = "hooks.js"): CodeRunner {
  const r = createCodeRunner({ name: `test/${file}`, source, file, limits });
  open.push(r);
  return r;
}

export function disposeAll(): void {
  for (const r of open.splice(0)) r.dispose();
}

/**
 * A records reader that counts, per item position, how often a hook started
 * on that input (hooks call `ctx.record("start")` first): counting runs
 * proves how much work a call did without timing it.
 */
export function startCounter(): { records: (key: string, item: number) => Json | undefined; starts: number[] } {
  const starts: number[] = [];
  return {
    starts,
    records: (key, item) => {
      if (key === "start") starts[item] = (starts[item] ?? 0) + 1;
      return undefined;
    },
  };
}

/** True if s has no lone surrogate (String.prototype.isWellFormed, which the ES2023 typings lack). */
export function wellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}
