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
  out.push(dates());
  return JSON.stringify(out);
}

/** Date text without an offset, in every form V8 reads: the same time values whatever the process's TZ. */
const DATE_TEXTS = [
  "2024-01-01T10:00",
  "2024-07-01T10:00:00.250",
  "2024-01-01 10:00",
  "2024-01-01",
  "Jan 1 2024 10:00",
  "Jul 1 2024",
  "2024/07/01 23:30",
  "March 10 2024 02:30",
  "2024-01-01T10:00Z",
  "2024-01-01T10:00+02:00",
  "Mon, 01 Jan 2024 10:00:00 GMT",
  "Jan 1 2024 10:00 EST",
  "Jan 1 2024 10:00 (EST)",
  "not a date",
];

function dates(): unknown {
  const source = `function validate(d) {
    return { reject: JSON.stringify(d.texts.map((t) => [Date.parse(t), new Date(t).getTime(), new Date({ toString() { return t; } }).getTime()])) };
  }`;
  const r = createCodeRunner({ name: "determinism/dates", source, file: "dates.js", limits: { memoryMb: 32, timeMs: 1000 } });
  const block = { height: 1, time: 0, hash: "00".repeat(32) };
  const res = r.validate([{ data: { texts: DATE_TEXTS }, ctx: { block, signer: null, index: 0, state: {} } }]);
  r.dispose();
  return res;
}
