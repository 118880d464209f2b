#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx so `npm ci` alone is enough
// (no build step), and adds --no-node-snapshot, which isolated-vm 5 needs on
// Node 20. Re-executes itself once with those flags.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "runtime", "cli", "main.ts");
const args = ["--no-node-snapshot", "--import", "tsx", entry, ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { stdio: "inherit" });
if (r.error) {
  console.error(`statecell: could not start: ${r.error.message}`);
  process.exit(2);
}
process.exit(r.status ?? (r.signal ? 1 : 0));
