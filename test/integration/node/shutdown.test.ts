/**
 * Graceful shutdown of real node processes (`statecell up` of a four-node
 * channel): SIGTERM under load stops admission (503 NODE_SHUTTING_DOWN),
 * lets the group finish its block or abandons the round when it cannot,
 * flushes, and exits 0; every submission answered `pending` is there when
 * the node starts again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..", "..");
const BIN = join(root, "bin", "statecell.js");
const CHANNEL = join(root, "test", "integration", "dashboard", "meters.yaml");

interface UpNode {
  name: string;
  pid: number;
  api: string;
  config: string;
}

let dir: string;
let up: ChildProcess | undefined;
let upOut = "";
let nodes: UpNode[] = [];
const started: ChildProcess[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; up printed:\n${upOut}`);
    await sleep(100);
  }
}

async function ready(api: string): Promise<boolean> {
  try {
    return (await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200;
  } catch {
    return false;
  }
}

/** The head height of `meters/readings` at `api` (-1 when it does not answer). */
async function height(api: string): Promise<number> {
  try {
    const r = await fetch(`${api}/v1/channels/meters/cells/readings`, { signal: AbortSignal.timeout(1000) });
    return ((await r.json()) as { height: number }).height;
  } catch {
    return -1;
  }
}

type Answer = { kind: "ok"; id: string; status: string } | { kind: "refused"; status: number; code: string } | { kind: "down" };

/** Submits one reading; what came back. */
async function send(api: string, n: number): Promise<Answer> {
  try {
    const r = await fetch(`${api}/v1/channels/meters/cells/readings/inputs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: { meter: `m-${n}`, street: "oak", litres: n % 400 } }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await r.json()) as { results?: Array<{ id: string; status: string }>; code?: string };
    if (r.status === 200 && body.results) return { kind: "ok", id: body.results[0].id, status: body.results[0].status };
    return { kind: "refused", status: r.status, code: body.code ?? "" };
  } catch {
    return { kind: "down" };
  }
}

/** Submits with `parallel` requests in flight until `stop()`; every answer in order of arrival. */
function load(api: string, parallel: number, stop: () => boolean, answers: Answer[]): Promise<void> {
  let n = Math.floor(Math.random() * 1e6) * 1000;
  const worker = async () => {
    while (!stop()) {
      const a = await send(api, n++);
      answers.push(a);
      if (a.kind === "down") await sleep(50);
    }
  };
  return Promise.all(Array.from({ length: parallel }, worker)).then(() => undefined);
}

function logLines(name: string): Array<Record<string, unknown>> {
  return readFileSync(join(dir, "nodes", name, "node.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function startNode(n: UpNode): ChildProcess {
  // Its lines go on in the same node.log.
  const log = openSync(join(dir, "nodes", n.name, "node.log"), "a");
  const child = spawn(process.execPath, [BIN, "node", "--config", n.config], { stdio: ["ignore", log, log] });
  started.push(child);
  return child;
}

describe("graceful shutdown on SIGTERM", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "statecell-stop-"));
    up = spawn(process.execPath, [BIN, "up", CHANNEL, "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
    up.stdout!.on("data", (b: Buffer) => (upOut += b.toString()));
    up.stderr!.on("data", (b: Buffer) => (upOut += b.toString()));
    await until(() => /ready in/.test(upOut) || up!.exitCode !== null, 120_000, "the network");
    expect(upOut).toMatch(/ready in/);
    nodes = (JSON.parse(readFileSync(join(dir, "up.json"), "utf8")) as { nodes: UpNode[] }).nodes;
  }, 150_000);

  afterAll(async () => {
    for (const c of started) if (c.exitCode === null) c.kill("SIGKILL");
    if (up !== undefined && up.exitCode === null) {
      const exited = new Promise((r) => up!.once("exit", r));
      up.kill("SIGTERM");
      await Promise.race([exited, sleep(15_000)]);
      if (up.exitCode === null) up.kill("SIGKILL");
    }
    for (const n of nodes) {
      try {
        process.kill(n.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("under load: stops admission, finishes the block, exits 0, and loses no acknowledged input", async () => {
    const v1 = nodes.find((n) => n.name === "v-1")!;
    const answers: Answer[] = [];
    let stopLoad = false;
    const loading = load(v1.api, 6, () => stopLoad, answers);
    await until(() => answers.filter((a) => a.kind === "ok").length >= 30, 30_000, "some accepted submissions");
    process.kill(v1.pid, "SIGTERM");
    await until(() => /node v-1 exited \(code 0\)/.test(upOut), 20_000, "v-1 to exit 0");
    stopLoad = true;
    await loading;

    const lines = logLines("v-1");
    const msgs = lines.map((l) => l.msg);
    expect(msgs).toContain("admission stopped");
    const done = lines.find((l) => l.msg === "shutdown complete")!;
    expect(done).toMatchObject({ signal: "SIGTERM" });
    expect(done.finished as number).toBeGreaterThanOrEqual(1);
    expect(msgs.indexOf("admission stopped")).toBeLessThan(msgs.indexOf("node stopped"));
    // Refusals while draining carry the code; nothing else went wrong.
    for (const a of answers) if (a.kind === "refused") expect(a).toMatchObject({ status: 503, code: "NODE_SHUTTING_DOWN" });

    // Started again, the node knows every input it answered `pending` or `committed`.
    const again = startNode(v1);
    // Its ledger answers for its inputs as soon as its API is up (catching up with its peers is not needed for that).
    await until(async () => (await fetch(`${v1.api}/healthz`).catch(() => undefined))?.status === 200, 90_000, "v-1 to restart");
    const acked = answers.filter((a): a is Extract<Answer, { kind: "ok" }> => a.kind === "ok" && a.status !== "rejected");
    expect(acked.length).toBeGreaterThanOrEqual(30);
    for (const a of acked) {
      const r = await fetch(`${v1.api}/v1/inputs/${a.id}`);
      expect(r.status, a.id).toBe(200);
      expect(["pending", "committed"]).toContain(((await r.json()) as { status: string }).status);
    }
    expect(again.exitCode).toBeNull();
  }, 120_000);

  it("without a quorum: refuses submissions with NODE_SHUTTING_DOWN during the grace, abandons the round, exits 0", async () => {
    const v1 = nodes.find((n) => n.name === "v-1")!;
    const child = started[started.length - 1];
    // v-1 was restarted by the test above: let it catch up first, or the blocks it catches up on during
    // the grace would count as finished and leave no round to abandon.
    const v2 = nodes.find((n) => n.name === "v-2")!;
    await until(async () => { const h = await height(v1.api); return h > 0 && h === (await height(v2.api)); }, 60_000, "v-1 to catch up with v-2");
    for (const name of ["v-3", "v-4"]) process.kill(nodes.find((n) => n.name === name)!.pid, "SIGKILL");
    await until(async () => !(await ready(v1.api)), 20_000, "v-1 to lose its quorum");
    const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const t0 = Date.now();
    child.kill("SIGTERM");
    let refused: Answer | undefined;
    for (let n = 0; n < 200 && refused === undefined; n++) {
      const a = await send(v1.api, 5_000_000 + n);
      if (a.kind === "refused") refused = a;
      if (a.kind === "down") break;
    }
    expect(refused).toMatchObject({ status: 503, code: "NODE_SHUTTING_DOWN" });
    expect(await exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const msgs = logLines("v-1").map((l) => l.msg);
    expect(msgs).toContain("round abandoned at shutdown");
    expect(msgs[msgs.length - 1]).toBe("shutdown complete");
  }, 60_000);
});
