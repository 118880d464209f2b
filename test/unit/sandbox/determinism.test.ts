/**
 * Two processes, same hook file, same inputs: byte-identical results,
 * including ctx.random(), Math.random, Date and float math.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { determinismRun } from "./determinism-run.js";

const run = promisify(execFile);
const worker = fileURLToPath(new URL("./determinism-worker.ts", import.meta.url));

describe("determinism across processes", () => {
  it("gives byte-identical results in two separate processes and in this one", async () => {
    // Different time zones on purpose: local-time Date methods and date text without an offset
    // (Date.parse("2024-01-01T10:00")) must not leak the machine's zone.
    const [a, b, c] = await Promise.all(
      ["UTC", "Asia/Kolkata", "America/New_York"].map((tz) =>
        run(process.execPath, ["--no-node-snapshot", "--import", "tsx", worker], { env: { ...process.env, TZ: tz }, maxBuffer: 1 << 24 }),
      ),
    );
    expect(a.stdout.length).toBeGreaterThan(1000);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).toBe(a.stdout);
    expect(determinismRun()).toBe(a.stdout);
    const parsed = JSON.parse(a.stdout) as unknown[][];
    // Sanity: randomness really varies between inputs, and some inputs were rejected by it.
    expect(JSON.stringify(parsed[0])).toContain("unlucky");
  });
});
