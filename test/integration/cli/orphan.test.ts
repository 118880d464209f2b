/**
 * The bin launcher runs the CLI as a child; SIGKILL of the launcher cannot be
 * passed on, so the CLI watches its parent and stops itself. A real L0
 * process started through bin/statecell.js is gone shortly after its launcher
 * is killed with SIGKILL (it would otherwise keep its port and its store).
 */
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../../runtime/cli/free-port.js";
import { watchLauncher } from "../../../runtime/cli/orphan-watch.js";

const BIN = resolve(import.meta.dirname, "../../../bin/statecell.js");
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("the CLI under the bin launcher", () => {
  const dir = mkdtempSync(join(tmpdir(), "statecell-orphan-"));
  let orphan = 0;
  afterAll(() => {
    if (orphan > 0 && alive(orphan)) process.kill(orphan, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("watches only the launcher that named itself, and stops once its parent changes", async () => {
    let parent = 41;
    let stopped = 0;
    const stop = watchLauncher({ STATECELL_LAUNCHER_PID: "41" }, () => parent, () => void stopped++);
    await new Promise((r) => setTimeout(r, 600));
    expect(stopped).toBe(0);
    parent = 1;
    await new Promise((r) => setTimeout(r, 600));
    expect(stopped).toBe(1);
    stop();
    // Not under the launcher (no variable, or started by another process that inherited it): nothing.
    expect(watchLauncher({}, () => 41, () => void stopped++)).toBeTypeOf("function");
    watchLauncher({ STATECELL_LAUNCHER_PID: "41" }, () => 7, () => void stopped++);
    await new Promise((r) => setTimeout(r, 600));
    expect(stopped).toBe(1);
  });

  it("a long-running command stops when its launcher is killed with SIGKILL", async () => {
    const config = join(dir, "l0.yaml");
    writeFileSync(config, stringify({ identity: "l0.key", listen: `127.0.0.1:${await freePort()}`, dataDir: "data" }));
    const launcher = spawn(process.execPath, [BIN, "l0", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    launcher.stdout!.on("data", (b) => (text += String(b)));
    const end = Date.now() + 60_000;
    while (!/^ready$/m.test(text) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(text).toMatch(/^ready$/m);
    orphan = Number(execFileSync("ps", ["-o", "pid=", "--ppid", String(launcher.pid)], { encoding: "utf8" }).trim().split(/\s+/)[0]);
    expect(alive(orphan)).toBe(true);
    launcher.kill("SIGKILL");
    const gone = Date.now() + 20_000;
    while (alive(orphan) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    expect(alive(orphan)).toBe(false);
  }, 90_000);
});
