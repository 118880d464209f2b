/**
 * `npm start`, exactly as a newcomer types it, with STATECELL_DIR naming a
 * temporary folder (the default of `statecell up --dir`, so the project's own
 * `.statecell/` is left alone): the network comes up, commit lines for both
 * cells of the sensor pipeline and refusal lines with their rule appear, the
 * dashboard URL it prints answers the dashboard's page and the API there
 * lists the channel, and SIGTERM to npm stops every node it started.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { alive, logTails, ROOT, waitFor } from "./network.js";
const dir = mkdtempSync(join(tmpdir(), "statecell-start-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm start", () => {
  it("shows a network committing, with refusals, serves the dashboard and the API it prints, and stops every node on SIGTERM", async () => {
    const child = spawn("npm", ["start"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, STATECELL_DIR: dir, npm_config_update_notifier: "false" } });
    let text = "";
    child.stdout.on("data", (b: Buffer) => (text += b.toString()));
    child.stderr.on("data", (b: Buffer) => (text += b.toString()));
    const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
    let pids: number[] = [];
    try {
      const commits = (cell: string) => [...text.matchAll(new RegExp(`air-quality/${cell}\\s+commit\\s+height\\s+(\\d+)\\s+(\\d+) inputs\\s+(\\d+) rejected`, "g"))];
      // The whole ready block (it may arrive in several chunks): up to the line that ends it.
      await waitFor(() => /ready in .* s:[\s\S]*Ctrl-C stops every node/.test(text), 200_000, () => `not ready:\n${text}\n${logTails(dir)}`);
      expect(text).toMatch(/edge-1\s+api http:\/\/127\.0\.0\.1:\d+\s+peer ws:\/\/127\.0\.0\.1:\d+/);
      pids = (JSON.parse(readFileSync(join(dir, "up.json"), "utf8")) as { nodes: Array<{ pid: number }> }).nodes.map((n) => n.pid);
      expect(pids.length).toBe(7);
      await waitFor(
        () => commits("readings").filter((m) => Number(m[2]) > 0).length >= 3 && commits("districts").some((m) => Number(m[2]) > 0) && /refused \S+ rule \S+: /.test(text),
        60_000,
        () => `no commits with inputs and refusals yet:\n${text}`,
      );
      // Heights only grow, one line per height.
      const heights = commits("readings").map((m) => Number(m[1]));
      expect(new Set(heights).size).toBe(heights.length);
      // The dashboard URL as printed: its page, and the API beside it listing the running channel.
      const url = /^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/ /m.exec(text);
      expect(url, text).not.toBeNull();
      const page = await fetch(`${url![1]}/`, { signal: AbortSignal.timeout(10_000) });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain("<title>statecell node</title>");
      expect(html).toContain('src="/dashboard/app.js"');
      const app = await fetch(`${url![1]}/dashboard/app.js`, { signal: AbortSignal.timeout(10_000) });
      expect(app.status).toBe(200);
      const api = await fetch(`${url![1]}/v1/channels`, { signal: AbortSignal.timeout(10_000) });
      expect(api.status).toBe(200);
      const listed = ((await api.json()) as { channels: Array<{ channel: string; status: string; cells: Array<{ cell: string; height: number }> }> }).channels;
      const aq = listed.find((c) => c.channel === "air-quality");
      expect(aq, JSON.stringify(listed)).toBeDefined();
      expect(aq!.status).toBe("running");
      // The node the URL names hosts some of the pipeline's cells, each committing.
      expect(aq!.cells.length, JSON.stringify(aq)).toBeGreaterThan(0);
      expect(aq!.cells.every((c) => c.height > 0), JSON.stringify(aq)).toBe(true);
    } finally {
      child.kill("SIGTERM");
    }
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 20_000))]);
    expect(code, text).not.toBe("timeout");
    try {
      await waitFor(() => pids.every((p) => !alive(p)), 15_000, () => `nodes still running after npm start was stopped: ${pids.filter(alive).join(", ")}`);
    } finally {
      for (const p of pids.filter(alive)) process.kill(p, "SIGKILL");
    }
  }, 290_000);
});
