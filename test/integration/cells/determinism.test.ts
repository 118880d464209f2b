/**
 * Two independent executions of the same blocks, in two separate processes
 * started with different V8 hash seeds, time zones and locales, give the
 * same verdicts, canonical states, outputs and state roots, byte for byte
 * (docs/architecture.md, "What validators compare").
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const script = fileURLToPath(new URL("./run-blocks.ts", import.meta.url));

function runChild(hashSeed: number, env: Record<string, string>): string {
  const r = spawnSync(process.execPath, ["--no-node-snapshot", `--hash-seed=${hashSeed}`, "--import", "tsx", script], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

test("two processes compute identical verdicts, states and roots", () => {
  const a = runChild(1, { TZ: "UTC", LANG: "C" });
  const b = runChild(987654321, { TZ: "Pacific/Chatham", LANG: "tr_TR.UTF-8" });
  expect(a.length).toBeGreaterThan(10_000);
  expect(createHash("sha256").update(b).digest("hex")).toBe(createHash("sha256").update(a).digest("hex"));
  expect(b).toBe(a);
  // The run is not trivial: it accepts, rejects for several reasons, refuses hostile text, and chains cells.
  const blocks = JSON.parse(a) as Array<{
    admission: string[];
    readings: { verdicts: Array<{ accepted: boolean; code?: string }>; root: string; outputs: unknown[] };
    sums: { verdicts: Array<{ accepted: boolean }>; root: string };
  }>;
  const codes = new Set(blocks.flatMap((x) => [...x.admission, ...x.readings.verdicts.map((v) => (v.accepted ? "ok" : v.code))]));
  for (const c of ["ok", "CELL_RULE", "CELL_DUPLICATE_KEY", "CELL_FORBIDDEN_KEY", "CELL_TOO_DEEP", "CELL_BAD_NUMBER", "CELL_DUPLICATE_JSON_KEY", "CELL_NOT_JSON"]) {
    expect(codes).toContain(c);
  }
  expect(new Set(blocks.map((x) => x.readings.root)).size).toBe(blocks.length);
  expect(blocks.reduce((n, x) => n + x.sums.verdicts.filter((v) => v.accepted).length, 0)).toBeGreaterThan(100);
}, 120_000);
