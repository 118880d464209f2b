/** The fixed workload of the determinism test (shared by the worker and the test itself). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createCodeRunner, type HookItem } from "../../../runtime/sandbox/index.js";

export function determinismRun(): string {
  const file = fileURLToPath(new URL("../../fixtures/code/mixed-math.js", import.meta.url));
  const r = createCodeRunner({ name: "determinism", source: readFileSync(file, "utf8"), file: "mixed-math.js", limits: { memoryMb: 32, timeMs: 1000 } });
  const out: unknown[] = [];
  for (let height = 1; height <= 3; height++) {
    const block = { height, time: 1_700_000_000_000 + height * 1000, hash: (height * 17).toString(16).padStart(2, "0").repeat(32) };
    const its: HookItem[] = Array.from({ length: 50 }, (_, i) => ({ data: { id: i }, ctx: { block, signer: null, index: i, state: {} } }));
    out.push(r.validate(its), r.transform(its), r.reduce({}, its));
  }
  r.dispose();
  return JSON.stringify(out);
}
