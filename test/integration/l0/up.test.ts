/**
 * `statecell up` with an L0: real processes (four nodes and `statecell l0`),
 * up.json lists the L0 as { pid, api, config }, the nodes' files name it, the
 * channel's snapshots reach it, and SIGTERM stops the L0 with the nodes.
 * Also the usage of `export` and `verify`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { l0Client } from "../../../runtime/l0/index.js";
import { main } from "../../../runtime/cli/main.js";
import { FIXTURES, until } from "./network.js";

const MAIN = resolve(import.meta.dirname, "../../../runtime/cli/main.ts");
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("statecell up starts an L0", () => {
  it("lists it in up.json, configures the nodes to send to it, and stops it on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "statecell-up-l0-"));
    const child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", MAIN, "up", join(FIXTURES, "alpha.yaml"), "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (b) => (text += String(b)));
    child.stderr.on("data", (b) => (text += String(b)));
    const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
    try {
      await until("up ready", () => (/wrote .*up\.json/.test(text) ? true : /not ready|stopped before|exited/.test(text) ? Promise.reject(new Error(text)) : undefined), 150_000, 250);
      const up = JSON.parse(readFileSync(join(dir, "up.json"), "utf8")) as { nodes: Array<{ name: string; config: string }>; l0: { pid: number; api: string; config: string } };
      expect(up.l0.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(up.l0.config).toBe(join(dir, "l0", "l0.yaml"));
      expect(alive(up.l0.pid)).toBe(true);
      expect(text).toMatch(/l0 +api http:\/\/127\.0\.0\.1:\d+ +key [0-9a-f]{64}/);
      const info = await l0Client(up.l0.api).info();
      expect(info.ok).toBe(true);
      if (!info.ok) return;
      for (const n of up.nodes) expect(parse(readFileSync(n.config, "utf8")).l0).toEqual({ url: up.l0.api, key: info.info.key });
      await until("alpha's snapshots at L0", async () => {
        const r = await l0Client(up.l0.api).channel("alpha");
        return r.ok && ((r.channel as unknown as { head: { height: number } | null }).head?.height ?? 0) >= 1 ? true : undefined;
      }, 120_000, 500);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      await until("l0 stopped", () => (!alive(up.l0.pid) ? true : undefined), 20_000);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe("export and verify usage", () => {
  it("exit 2 with what to give; help lists them; a missing file or an unreachable node exit 1 with a code and a fix", async () => {
    let t = "";
    const out = (s: string) => void (t += s);
    expect(await main(["export", "--channel", "x"], out)).toBe(2);
    expect(t).toMatch(/give --node URL, --channel NAME and --out FILE/);
    t = "";
    expect(await main(["verify"], out)).toBe(2);
    expect(t).toMatch(/name the export file/);
    t = "";
    expect(await main(["verify", "x.jsonl", "--format", "yaml"], out)).toBe(2);
    t = "";
    expect(await main(["--help"], out)).toBe(0);
    expect(t).toMatch(/export --node URL --channel NAME --out FILE/);
    expect(t).toMatch(/verify FILE \[CHANNEL\.yaml\.\.\.\]/);
    t = "";
    expect(await main(["help", "verify"], out)).toBe(0);
    expect(t).toMatch(/first divergence/);
    t = "";
    expect(await main(["verify", "/nonexistent/x.jsonl"], out)).toBe(1);
    expect(t).toMatch(/CLI_FILE_NOT_FOUND/);
    t = "";
    expect(await main(["export", "--node", "http://127.0.0.1:1", "--channel", "alpha", "--out", join(tmpdir(), "never.jsonl")], out)).toBe(1);
    expect(t).toMatch(/CLI_EXPORT_UNREACHABLE: .*\n  fix: /);
    const dir = mkdtempSync(join(tmpdir(), "statecell-verify-"));
    try {
      writeFileSync(join(dir, "junk.jsonl"), "not json\n");
      t = "";
      expect(await main(["verify", join(dir, "junk.jsonl"), "--format", "json"], out)).toBe(1);
      expect(JSON.parse(t)).toMatchObject({ ok: false, code: "CLI_VERIFY_DIVERGENCE", divergence: { line: 1, what: "the line is not JSON text" } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
