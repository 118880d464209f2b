/**
 * The whole pipeline against random channels and hostile inputs: admission,
 * limits, schema, rules, keys, state updates, emits and sandboxed hooks.
 * executeBlock never throws for any input (a stranger's data only ever gets
 * verdicts), and two executions in separate processes, started with other
 * hash seeds, time zones and locales, give the same bytes.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { expect, test } from "vitest";
import { caseArbitrary, digestCase } from "./pipeline-cases.js";

const SEED = 20261201;
const RUNS = 120;

test("executeBlock never throws on generated channels and hostile inputs", () => {
  fc.assert(
    fc.property(caseArbitrary, (c) => {
      const d = digestCase(c);
      expect(d.length).toBeGreaterThan(2);
    }),
    { seed: SEED + 1, numRuns: RUNS },
  );
}, 300_000);

test("two processes give the same verdicts, roots, outputs and states, byte for byte", () => {
  const script = fileURLToPath(new URL("./pipeline-digests.ts", import.meta.url));
  const run = (hashSeed: number, env: Record<string, string>): string[] => {
    const r = spawnSync(process.execPath, ["--no-node-snapshot", `--hash-seed=${hashSeed}`, "--import", "tsx", script, String(SEED), String(RUNS)], {
      encoding: "utf8",
      env: { ...process.env, ...env },
      maxBuffer: 512 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr.slice(0, 2000)}`);
    return r.stdout.trimEnd().split("\n");
  };
  const a = run(7, { TZ: "UTC", LANG: "C" });
  const b = run(123456789, { TZ: "America/New_York", LANG: "tr_TR.UTF-8" });
  expect(a).toHaveLength(RUNS);
  expect(b).toEqual(a);
  // The cases are not trivial: they accept, reject for many reasons, and refuse hostile text.
  const codes = new Set(a.flatMap((line) => (JSON.parse(line) as Array<{ verdicts: string[]; admission: string[] }>).flatMap((x) => [...x.verdicts, ...x.admission]).map((v) => v.split(":")[0])));
  for (const code of ["ok", "CELL_RULE", "CELL_BAD_TEXT", "CELL_BAD_NUMBER", "CELL_SCHEMA"]) expect(codes).toContain(code);
  expect(codes.size).toBeGreaterThan(8);
}, 300_000);
