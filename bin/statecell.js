#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx so `npm ci` alone is enough
// (no build step), and adds --no-node-snapshot, which isolated-vm 5 needs on
// Node 20. The CLI runs as a child; SIGINT and SIGTERM are passed on to it, so
// stopping the launcher stops what it runs (a node, a network from `up`); the
// CLI also stops by itself when the launcher is killed with SIGKILL, which
// cannot be passed on (runtime/cli/orphan-watch.ts).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "runtime", "cli", "main.ts");
const args = ["--no-node-snapshot", "--import", "tsx", entry, ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { stdio: "inherit", env: { ...process.env, STATECELL_LAUNCHER_PID: String(process.pid) } });
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    if (child.exitCode === null) child.kill(sig);
  });
}
child.on("error", (e) => {
  console.error(`statecell: could not start: ${e.message}`);
  process.exit(2);
});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
