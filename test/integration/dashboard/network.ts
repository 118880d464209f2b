/**
 * A local network of real node processes for operator tests: keys, a
 * network file and one node file per validator (with an operator token) in
 * a temp folder, each node started with `statecell node --config`, its
 * lines in nodes/NAME/node.log. Ports are free ones on 127.0.0.1.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../../runtime/cli/free-port.js";
import { writeLocalNetwork } from "../../../runtime/cli/local-network.js";

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, "..", "..", "..");
export const BIN = join(ROOT, "bin", "statecell.js");
export const TOKEN = "test-operator-token-0123456789abcdef-XYZ";


export interface TestNode {
  name: string;
  api: string;
  config: string;
  log: string;
  child?: ChildProcess;
}

/** Writes the layout for validators `names` hosting `channels` (files) in `dir`, with the writer `statecell up` uses. */
export async function layoutNetwork(dir: string, names: readonly string[], channels: readonly string[], opts: { token?: boolean } = {}): Promise<TestNode[]> {
  const ports: Record<string, { api: number; peer: number }> = {};
  for (const n of names) ports[n] = { api: await freePort(), peer: await freePort() };
  const net = writeLocalNetwork(dir, { network: "statecell-test", ports, hostedOf: () => [...channels], ...(opts.token === false ? {} : { token: TOKEN }) });
  return names.map((n) => ({ name: n, api: net.validators[n].api, config: net.configs[n], log: join(dir, "nodes", n, "node.log") }));
}

export function startNode(n: TestNode, extra: string[] = []): ChildProcess {
  const fd = openSync(n.log, "a");
  n.child = spawn(process.execPath, [BIN, "node", "--config", n.config, ...extra], { stdio: ["ignore", fd, fd] });
  return n.child;
}

export async function ready(api: string): Promise<boolean> {
  try {
    return (await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

export async function stopNodes(nodes: readonly TestNode[]): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      const c = n.child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
      if (c.exitCode === null) c.kill("SIGKILL");
    }),
  );
}

/** Runs the CLI; its exit code and output. */
export function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    c.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    c.on("exit", (code) => res({ code, out }));
  });
}
