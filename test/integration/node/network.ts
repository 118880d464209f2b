/**
 * Helpers of the node integration tests: a local network started with the
 * real `statecell up` (one process per validator on 127.0.0.1, up.json),
 * nodes restarted with the real `statecell node --config`, and clients that
 * speak the real API (HTTP and the WebSocket stream). Nothing here stands in
 * for a part of the product.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import WebSocket from "ws";
import type { Json } from "../../../runtime/core/canonical.js";
import { inputId } from "../../../runtime/ledger/input-id.js";

export const ROOT = resolve(import.meta.dirname, "..", "..", "..");
const MAIN = join(ROOT, "runtime", "cli", "main.ts");

export interface UpNode {
  name: string;
  pid: number;
  api: string;
  peer: string;
  config: string;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until `cond` holds (polled every 100 ms), or throws with `what()` after
 * `ms`. A `cond` that throws (a node slow to answer on a loaded machine) is
 * asked again; its last error is in the message. Assertion failures are not
 * retried: they are answers, not delays.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      if (await cond()) return;
    } catch (e) {
      if (e instanceof Error && e.name === "AssertionError") throw e;
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what()}${last === undefined ? "" : ` (last error: ${String(last)})`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The last lines of every node's log in `dir` (for a failure's message). */
export function logTails(dir: string, lines = 8): string {
  const nodes = join(dir, "nodes");
  if (!existsSync(nodes)) return "(no nodes folder)";
  return readdirSync(nodes)
    .map((n) => {
      const f = join(nodes, n, "node.log");
      const text = existsSync(f) ? readFileSync(f, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "(no log)";
      return `--- ${n}\n${text}`;
    })
    .join("\n");
}

export interface UpNetwork {
  dir: string;
  nodes: UpNode[];
  byName(name: string): UpNode;
  output(): string;
  /** SIGTERM to `statecell up` (it stops the nodes it started); resolves when it exited. */
  stop(): Promise<void>;
  /** Nodes started again by the test (`restart`), stopped by `stop` too. */
  restarted: ChildProcess[];
}

function cli(args: string[], log: string | "pipe"): ChildProcess {
  const stdio = log === "pipe" ? "pipe" : openSync(log, "a");
  return spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", MAIN, ...args], { cwd: ROOT, stdio: ["ignore", stdio, stdio] });
}

/** Runs `statecell ARGS` as its own process; resolves its exit code and what it printed. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", MAIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  return new Promise((res) => child.once("exit", (code) => res({ code, out })));
}

/** `statecell up FILES --dir DIR`, resolved once every node is ready and up.json is written. */
export async function up(files: readonly string[], dir: string, readyMs = 200_000): Promise<UpNetwork> {
  const child = cli(["up", ...files, "--dir", dir], "pipe");
  let text = "";
  child.stdout!.on("data", (b: Buffer) => (text += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (text += b.toString()));
  const exited = new Promise<void>((res) => child.once("exit", () => res()));
  let gone = false;
  void exited.then(() => (gone = true));
  const restarted: ChildProcess[] = [];
  try {
    await waitFor(() => gone || /wrote .*up\.json/.test(text), readyMs, () => `statecell up not ready:\n${text}\n${logTails(dir)}`);
    if (gone) throw new Error(`statecell up exited:\n${text}`);
  } catch (e) {
    child.kill("SIGTERM");
    throw e;
  }
  const nodes = (JSON.parse(readFileSync(join(dir, "up.json"), "utf8")) as { nodes: UpNode[] }).nodes;
  return {
    dir,
    nodes,
    restarted,
    byName: (name) => nodes.find((n) => n.name === name)!,
    output: () => text,
    async stop() {
      for (const r of restarted) if (r.exitCode === null) r.kill("SIGTERM");
      if (!gone) child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      await Promise.all(restarted.map((r) => (r.exitCode !== null || r.signalCode !== null ? undefined : new Promise((res) => r.once("exit", res)))));
      for (const n of nodes) if (alive(n.pid)) process.kill(n.pid, "SIGKILL");
    },
  };
}

/** `statecell node --config FILE` for a node of `net` that was stopped; its output goes to the node's log. */
export function restart(net: UpNetwork, node: UpNode): ChildProcess {
  const child = cli(["node", "--config", node.config], join(net.dir, "nodes", node.name, "node.log"));
  net.restarted.push(child);
  node.pid = child.pid!; // the node's process from now on (kill tests kill it by this pid)
  return child;
}

export async function getJson<T = Record<string, unknown>>(url: string): Promise<{ status: number; body: T }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  return { status: r.status, body: (await r.json()) as T };
}

export interface Head {
  height: number;
  hash: string;
  stateRoot: string;
}

export async function head(api: string, channel: string, cell: string): Promise<Head> {
  return (await getJson<Head>(`${api}/v1/channels/${channel}/cells/${cell}`)).body;
}

export interface ApiBlock {
  height: number;
  hash: string;
  value: { inputs: Json[]; verdicts: Array<{ accepted: boolean; code?: string }> };
}

/** Blocks 1..height of a cell at one node, as the API serves them (8 requests in flight). */
export async function blocksAt(api: string, channel: string, cell: string, height: number): Promise<ApiBlock[]> {
  const out: ApiBlock[] = new Array<ApiBlock>(height);
  let next = 1;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next <= height) {
        const h = next++;
        const r = await getJson<ApiBlock>(`${api}/v1/channels/${channel}/cells/${cell}/blocks/${h}`);
        if (r.status !== 200) throw new Error(`block ${h} of ${channel}/${cell} at ${api}: ${r.status}`);
        out[h - 1] = r.body;
      }
    }),
  );
  return out;
}

/** Block hashes 1..height of a cell at one node (its chain). */
export async function chain(api: string, channel: string, cell: string, height: number): Promise<string[]> {
  return (await blocksAt(api, channel, cell, height)).map((b) => b.hash);
}

/** Ids of the inputs blocks accepted, with how many times each was accepted. */
export function acceptedIds(blocks: readonly ApiBlock[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const b of blocks) b.value.inputs.forEach((input, i) => {
    if (b.value.verdicts[i].accepted) {
      const id = inputId(input);
      out.set(id, (out.get(id) ?? 0) + 1);
    }
  });
  return out;
}

/**
 * Waits until every id in `ids` is accepted in the chain of `cell` at `api`,
 * each exactly once; resolves with the height that was read.
 */
export async function committedOnce(api: string, channel: string, cell: string, ids: Iterable<string>, ms: number): Promise<number> {
  const want = [...ids];
  let missing = want.length;
  let height = 0;
  await waitFor(
    async () => {
      height = (await head(api, channel, cell)).height;
      const got = acceptedIds(await blocksAt(api, channel, cell, height));
      for (const [id, n] of got) {
        if (n === 1) continue;
        const e = new Error(`input ${id} accepted ${n} times in ${channel}/${cell} at ${api}`);
        e.name = "AssertionError"; // an answer, not a delay: waitFor does not retry it
        throw e;
      }
      missing = want.filter((id) => !got.has(id)).length;
      return missing === 0;
    },
    ms,
    () => `${missing} of ${want.length} inputs not committed in ${channel}/${cell} at ${api} (height ${height})`,
  );
  return height;
}

export async function headOrNull(api: string, channel: string, cell: string): Promise<Head | null> {
  try {
    return await head(api, channel, cell);
  } catch {
    return null;
  }
}

export interface Result {
  id: string;
  status: "pending" | "rejected" | "committed";
  code?: string;
  rule?: string;
  message?: string;
}

/** A stream client: submits batches and collects input and commit events. */
export class StreamClient {
  readonly ws: WebSocket;
  private ref = 0;
  private readonly waiting = new Map<number, (r: Result[]) => void>();
  /** id -> final status seen in an input event. */
  readonly final = new Map<string, { status: string; height?: number; index?: number; code?: string }>();
  readonly commits: Array<{ cell: string; height: number; inputs: number; time: number; at: number }> = [];
  /** The token's Transfer and Approval events, as sent. */
  readonly tokenEvents: Array<Record<string, unknown>> = [];
  private onSubscribed: (() => void) | undefined;

  private constructor(api: string) {
    this.ws = new WebSocket(`${api.replace(/^http/, "ws")}/v1/stream`);
    this.ws.on("error", () => undefined);
    this.ws.on("message", (m) => {
      const e = JSON.parse(String(m)) as { type: string; ref?: number; results?: Result[]; id?: string; status?: string; height?: number; index?: number; code?: string; cell?: string; inputs?: number; time?: number };
      if (e.type === "results") {
        this.waiting.get(e.ref!)?.(e.results!);
        this.waiting.delete(e.ref!);
      } else if (e.type === "input") this.final.set(e.id!, { status: e.status!, height: e.height, index: e.index, code: e.code });
      else if (e.type === "subscribed") this.onSubscribed?.();
      else if (e.type === "Transfer" || e.type === "Approval") this.tokenEvents.push(e as unknown as Record<string, unknown>);
      else if (e.type === "commit") this.commits.push({ cell: e.cell!, height: e.height!, inputs: e.inputs!, time: e.time!, at: Date.now() });
      else if (e.type === "error") {
        this.waiting.get(e.ref!)?.([]);
        this.waiting.delete(e.ref!);
      }
    });
  }

  static async open(api: string, subscribe?: { channels: string[]; events: string[] }): Promise<StreamClient> {
    const c = new StreamClient(api);
    await new Promise<void>((res, rej) => {
      c.ws.once("open", () => res());
      c.ws.once("error", rej);
    });
    if (subscribe) {
      const done = new Promise<void>((res) => (c.onSubscribed = res));
      c.ws.send(JSON.stringify({ type: "subscribe", ...subscribe }));
      await done;
    }
    return c;
  }

  submit(channel: string, cell: string, inputs: unknown[]): Promise<Result[]> {
    const ref = ++this.ref;
    return new Promise((res) => {
      this.waiting.set(ref, res);
      this.ws.send(JSON.stringify({ type: "submit", ref, channel, cell, inputs }));
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** GET /v1/inputs/{id} at `api`. */
export async function inputStatus(api: string, id: string): Promise<{ status: number; body: { status?: string; height?: number; index?: number; code?: string } }> {
  return getJson(`${api}/v1/inputs/${id}`);
}
