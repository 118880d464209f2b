/**
 * The dashboard end to end: `statecell up` starts four real node processes
 * for a two-cell channel; headless Chromium (Debian's, driven by
 * playwright-core) opens the dashboard one node serves at `/`; data is
 * submitted over the client API; the page shows the commit and the
 * rejection with its rule's plain-English text and the input that caused
 * it; one validator is killed (its pid from up.json) and the page marks it
 * offline. Screenshots go to test-artifacts/ (desktop and phone width).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..", "..");
const CHANNEL = join(here, "meters.yaml");
const ARTIFACTS = join(root, "test-artifacts");
const CHROMIUM = "/usr/bin/chromium";

interface UpNode {
  name: string;
  pid: number;
  api: string;
}

let dir: string;
let up: ChildProcess | undefined;
let upOut = "";
let nodes: UpNode[] = [];
let browser: Browser | undefined;

function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const started = Date.now();
  return new Promise((res, rej) => {
    const t = setInterval(() => {
      if (cond()) {
        clearInterval(t);
        res();
      } else if (Date.now() - started > ms) {
        clearInterval(t);
        rej(new Error(`timed out waiting for ${what}; up printed:\n${upOut}`));
      }
    }, 200);
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
}

async function submit(api: string, inputs: unknown[]): Promise<Array<{ id: string; status: string; rule?: string }>> {
  const r = await fetch(`${api}/v1/channels/meters/cells/readings/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs }) });
  expect(r.status).toBe(200);
  return ((await r.json()) as { results: Array<{ id: string; status: string; rule?: string }> }).results;
}

describe.skipIf(!existsSync(CHROMIUM))("the dashboard in headless Chromium", () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), "statecell-dash-"));
    up = spawn(process.execPath, [join(root, "bin", "statecell.js"), "up", CHANNEL, "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
    up.stdout!.on("data", (b: Buffer) => (upOut += b.toString()));
    up.stderr!.on("data", (b: Buffer) => (upOut += b.toString()));
    await waitFor(() => /ready in/.test(upOut) || up!.exitCode !== null, 120_000, "the network to be ready");
    expect(upOut).toMatch(/ready in/);
    nodes = (JSON.parse(readFileSync(join(dir, "up.json"), "utf8")) as { nodes: UpNode[] }).nodes;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    if (up !== undefined && up.exitCode === null) {
      const exited = new Promise((r) => up!.once("exit", r));
      up.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (up.exitCode === null) up.kill("SIGKILL");
    }
    for (const n of nodes) {
      try {
        process.kill(n.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("shows the pipeline, a commit, a rejection explained, and a validator going offline", async () => {
    const first = nodes.find((n) => n.name === "v-1")!;
    const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${first.api}/`);

    // The overview: the channel and its pipeline of two cells, live over the feed.
    await page.getByTestId("channel-meters").waitFor({ timeout: 15_000 });
    await page.getByTestId("cell-node-readings").waitFor();
    await page.getByTestId("cell-node-streets").waitFor();
    await expect.poll(() => page.getByTestId("live").textContent(), { timeout: 15_000 }).toBe("live");
    await shot(page, "overview");

    await page.goto(`${first.api}/#/channel/meters`);
    await page.getByTestId("group-utility").waitFor();
    expect(await page.getByTestId("group-utility").textContent()).toContain("tolerates 1 offline, 1 Byzantine");
    for (const v of ["v-1", "v-2", "v-3", "v-4"]) expect(await page.getByTestId(`validator-${v}`).first().getAttribute("data-online")).toBe("true");

    // One plausible reading, one that breaks the rule.
    const results = await submit(first.api, [
      { data: { meter: "m-17", street: "elm", litres: 230 } },
      { data: { meter: "m-18", street: "elm", litres: 9100 } },
    ]);
    expect(results[0].status).toBe("pending");
    expect(results[1]).toMatchObject({ status: "rejected", rule: "plausible-use" });

    // The rejection appears with its rule, the rule's plain-English text and the input.
    const rejection = page.getByTestId("rejection").first();
    await rejection.waitFor({ timeout: 10_000 });
    const text = (await rejection.textContent()) ?? "";
    expect(text).toContain("rule plausible-use");
    expect(text).toContain("requires: data.litres is at most 5000");
    expect(text).toContain("9100 litres is more than a household can use in a day");
    expect(text).toContain('"meter":"m-18"');

    // The commit: the accepted reading shows up in the cell's blocks.
    await page.goto(`${first.api}/#/channel/meters/cell/readings`);
    await page.getByTestId("block").first().waitFor({ timeout: 20_000 });
    expect(await page.getByTestId("block").first().locator("td").nth(1).textContent()).toBe("1");
    const status = (await (await fetch(`${first.api}/v1/inputs/${results[0].id}`)).json()) as { status: string };
    expect(status.status).toBe("committed");
    await shot(page, "cell");

    // A validator stops: the page marks it offline, the others stay online.
    await page.goto(`${first.api}/#/channel/meters`);
    const victim = nodes.find((n) => n.name === "v-4")!;
    process.kill(victim.pid, "SIGKILL");
    await expect.poll(() => page.getByTestId("validator-v-4").first().getAttribute("data-online"), { timeout: 20_000 }).toBe("false");
    expect(await page.getByTestId("validator-v-2").first().getAttribute("data-online")).toBe("true");
    await shot(page, "offline");

    // At a phone's width the page still fits: nothing wider than the viewport.
    await page.setViewportSize({ width: 390, height: 844 });
    // (The function runs in the page; its globals are the browser's.)
    const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, "phone");
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
