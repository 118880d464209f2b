/**
 * `npm run bench`: runs every benchmark script in bench/ one after another
 * (never in parallel: they would measure each other), or only those named:
 * `npm run bench -- execute sandbox`. Each script prints its own figures and
 * a PASS/MISS line against its target.
 */
import { readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.ts$/, "")))
  .sort();

let failed = 0;
for (const s of scripts) {
  console.log(`\n## bench/${s}`);
  const r = spawnSync(process.execPath, ["--no-node-snapshot", "--expose-gc", "--import", "tsx", join(here, s)], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
console.log(`\n${scripts.length} benchmark(s) run, ${failed} failed to run`);
process.exit(failed === 0 ? 0 : 1);
