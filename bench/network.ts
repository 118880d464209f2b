/**
 * Validator processes on 127.0.0.1, measured end to end: committed inputs/s
 * and submission-to-commit latency (p50, p99) on
 * - the one-cell meter channel (schema + 5 rules, test/fixtures/node/meter.yaml)
 *   on 4 validator processes, and
 * - the two-cell air-quality pipeline on 7 (edge group of 4, city group of 5),
 * each against its execution bound, measured in the same run: this machine's
 * single-process `executeBlock` rate of the cell(s) x cores / validators
 * (for the pipeline: cores / (4 / rate(readings) + 5 / rate(districts)), the
 * CPU every validator's execution of one input and its output takes).
 *
 * Clients send over GET /v1/stream (batches of submissions per message) to
 * every node of the first cell's group, open loop at a fixed offered rate,
 * and watch `input` events at one node: latency is the time from sending a
 * submission to receiving its committed event. Target: 20,000 inputs/s
 * committed with p99 under 300 ms on the one-cell channel.
 *
 * Offered rates go up (BENCH_RATES); after the first one the network does not
 * keep up with (under 90% committed, or a backlog that does not drain in 60 s)
 * the higher ones are skipped: their inputs would only queue behind it.
 *
 * Run: npm run bench -- network   (BENCH_SECONDS=8 per offered rate, BENCH_RATES=200,1000,5000,20000,
 * BENCH_NETWORKS=meter,air-quality: which of the two networks to run; BENCH_KEEP=1 keeps the meter
 * network's folder, with its node logs)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { WebSocket } from "ws";
import type { Json } from "../runtime/core/canonical.js";
import { loadChannel, type ChannelPlan } from "../runtime/definition/index.js";
import { admitInput, executeBlock, type BlockInput, type CellState } from "../runtime/cells/index.js";
import { checkCode, createCodeRunner, type CodeRunner } from "../runtime/sandbox/index.js";
import { identify } from "../runtime/ledger/input-id.js";

const ROOT = resolve(import.meta.dirname, "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const RATES = (process.env.BENCH_RATES ?? "200,1000,5000,20000").split(",").map(Number);
const NETWORKS = new Set((process.env.BENCH_NETWORKS ?? "meter,air-quality").split(","));
const TARGET = { rate: 20_000, p99: 300 };
const CORES = availableParallelism();

function readText(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}

function plan(file: string): ChannelPlan {
  const path = join(ROOT, file);
  const r = loadChannel(readText(path)!, { file: path }, { readFile: readText, checkCode });
  if (!r.plan) throw new Error(`${file} does not load`);
  return r.plan;
}

// ------------------------------------------------------------ execution bound

/** Inputs/s of `executeBlock` for `cell`, blocks of `perBlock`, state growing as it would. */
function executeRate(p: ChannelPlan, cell: string, make: (n: number) => Json | BlockInput, perBlock = 500, ms = 1500, runner?: CodeRunner): number {
  let n = 0;
  let state: CellState = {};
  let done = 0;
  const t0 = performance.now();
  for (let b = 1; performance.now() - t0 < ms; b++) {
    const inputs: BlockInput[] = [];
    for (let i = 0; i < perBlock; i++) {
      const raw = make(n++);
      if (p.cells[cell].upstream.length > 0) {
        inputs.push(raw as BlockInput); // an output of the upstream cell, as deliveries hand it over
        continue;
      }
      const a = admitInput(p, cell, raw);
      if ("accepted" in a) throw new Error(`bench input not admitted: ${a.message}`);
      inputs.push(a);
    }
    const r = executeBlock(p, cell, state, inputs, { height: b, time: 1_900_000_000_000 + b, hash: b.toString(16).padStart(64, "0") }, runner ? { code: () => runner } : {});
    state = r.state;
    done += perBlock;
  }
  return done / ((performance.now() - t0) / 1000);
}

// ------------------------------------------------------------ the network

interface UpNode {
  name: string;
  api: string;
  pid: number;
}

/**
 * CPU seconds (user + system) the node processes have used so far, from
 * /proc (Linux; NaN elsewhere). CPU per committed input moves far less with
 * the machine's load than inputs/s do, so it is what compares two runs on a
 * shared machine.
 */
function cpuSeconds(nodes: readonly UpNode[]): number {
  let ticks = 0;
  for (const n of nodes) {
    const stat = readText(`/proc/${n.pid}/stat`);
    if (stat === undefined) return NaN;
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  }
  return ticks / 100; // USER_HZ
}

async function up(file: string, dir: string): Promise<{ nodes: UpNode[]; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", join(ROOT, "runtime", "cli", "main.ts"), "up", file, "--dir", dir], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  let text = "";
  child.stdout!.on("data", (b: Buffer) => (text += b.toString()));
  const t0 = Date.now();
  while (!/wrote .*up\.json/.test(text)) {
    if (child.exitCode !== null || Date.now() - t0 > 180_000) throw new Error(`statecell up did not get ready:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { nodes: (JSON.parse(readFileSync(join(dir, "up.json"), "utf8")) as { nodes: UpNode[] }).nodes, child };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

function open(api: string): Promise<WebSocket> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`${api.replace(/^http/, "ws")}/v1/stream`, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    ws.once("open", () => res(ws));
    ws.once("error", rej);
  });
}

interface Measured {
  offered: number;
  sent: number;
  acked: number;
  refused: Record<string, number>;
  committed: number;
  committedPerSecond: number;
  p50: number;
  p99: number;
  /** CPU the node processes used per committed input, in µs (all of them together). */
  cpuPerInput: number;
  /** Blocks of the cell committed while measuring, and how many of them carried inputs. */
  blocks: number;
  fullBlocks: number;
  /** Most inputs one block carried. */
  maxInputs: number;
  /** Outputs committed in the downstream cell per second (pipeline only). */
  downstreamPerSecond?: number;
}

/**
 * Inputs made so far over all measurements: each rate sends new inputs. (Starting from 0 again
 * re-sent the previous rate's first inputs, which the nodes answer as known and never commit again,
 * so they counted as not committed and a rate looked saturated when it was not.)
 */
let made = 0;

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Offers `rate` inputs/s for SECONDS to the `entry` nodes (batches every 10 ms,
 * spread over them), then waits up to 15 s for what was acknowledged to commit.
 */
async function measure(nodes: readonly UpNode[], entry: UpNode[], watch: UpNode, channel: string, cell: string, make: (n: number) => Json, rate: number, downstream?: { at: UpNode; cell: string }): Promise<Measured> {
  const streams = await Promise.all(entry.map((n) => open(n.api)));
  const watcher = await open(watch.api);
  watcher.send(JSON.stringify({ type: "subscribe", channels: [channel], events: ["input", "commit"] }));
  let down: WebSocket | undefined;
  let downCommitted = 0;
  let downFirst = 0;
  let downLast = 0;
  if (downstream) {
    down = await open(downstream.at.api);
    down.send(JSON.stringify({ type: "subscribe", channels: [channel], events: ["commit"] }));
    down.on("message", (d) => {
      const e = JSON.parse(String(d)) as { type: string; cell?: string; inputs?: number; rejected?: number };
      if (e.type === "commit" && e.cell === downstream.cell && (e.inputs ?? 0) > 0) {
        if (downFirst === 0) downFirst = performance.now();
        downLast = performance.now();
        downCommitted += (e.inputs ?? 0) - (e.rejected ?? 0);
      }
    });
  }
  await new Promise((r) => setTimeout(r, 300));
  const cpu0 = cpuSeconds(nodes);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const refused: Record<string, number> = {};
  let acked = 0;
  let committed = 0;
  let firstSend = 0;
  let lastCommit = 0;
  let blocks = 0;
  let fullBlocks = 0;
  let maxInputs = 0;
  watcher.on("message", (d) => {
    const e = JSON.parse(String(d)) as { type: string; id?: string; status?: string; cell?: string; inputs?: number };
    if (e.type === "commit" && e.cell === cell && firstSend > 0) {
      blocks++;
      if ((e.inputs ?? 0) > 0) fullBlocks++;
      maxInputs = Math.max(maxInputs, e.inputs ?? 0);
    }
    if (e.type !== "input" || e.cell !== cell) return;
    const t = sentAt.get(e.id!);
    if (t === undefined) return;
    sentAt.delete(e.id!);
    if (e.status === "committed") {
      committed++;
      lastCommit = performance.now();
      latencies.push(lastCommit - t);
    }
  });
  for (const ws of streams) {
    ws.on("message", (d) => {
      const m = JSON.parse(String(d)) as { type: string; results?: Array<{ id: string; status: string; code?: string }> };
      if (m.type !== "results") return;
      for (const r of m.results!) {
        if (r.status === "rejected") {
          refused[r.code ?? "?"] = (refused[r.code ?? "?"] ?? 0) + 1;
          sentAt.delete(r.id);
        } else acked++;
      }
    });
  }
  let n = made;
  let sent = 0;
  let turn = 0;
  const perTick = rate / 100;
  let owed = 0;
  firstSend = performance.now();
  const end = firstSend + SECONDS * 1000;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      if (now >= end) {
        made = n;
        return done();
      }
      owed += perTick;
      const k = Math.floor(owed);
      owed -= k;
      if (k > 0) {
        const inputs: Json[] = [];
        const at = performance.now();
        for (let i = 0; i < k; i++) {
          const sub = { data: make(n++) } as Json;
          sentAt.set(identify(sub).id, at);
          inputs.push(sub);
        }
        streams[turn++ % streams.length].send(JSON.stringify({ type: "submit", ref: turn, channel, cell, inputs }));
        sent += k;
      }
      setTimeout(tick, Math.max(0, 10 - (performance.now() - now)));
    };
    tick();
  });
  const settleUntil = performance.now() + 60_000;
  while (committed < acked && performance.now() < settleUntil) await new Promise((r) => setTimeout(r, 100));
  if (downstream) {
    const until = performance.now() + 30_000;
    while (downCommitted < committed && performance.now() < until) await new Promise((r) => setTimeout(r, 100));
  }
  const cpu = cpuSeconds(nodes) - cpu0;
  for (const ws of [...streams, watcher, ...(down ? [down] : [])]) ws.terminate();
  latencies.sort((a, b) => a - b);
  const span = (lastCommit - firstSend) / 1000;
  const m: Measured = { offered: rate, sent, acked, refused, committed, committedPerSecond: committed / Math.max(span, SECONDS), p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), blocks, fullBlocks, maxInputs, cpuPerInput: (cpu * 1e6) / Math.max(1, committed) };
  if (downstream) m.downstreamPerSecond = downCommitted / Math.max((downLast - firstSend) / 1000, SECONDS);
  return m;
}

/** The network did not keep up: under 90% of what was sent committed, or refusals for a full pool. */
function overloaded(m: Measured): boolean {
  return m.committed < 0.9 * m.sent || (m.refused.POOL_FULL ?? 0) > 0;
}

function line(label: string, m: Measured, bound: number): string {
  const refused = Object.entries(m.refused).map(([c, k]) => `${c} ${k}`).join(", ");
  return `  ${label} offered ${m.offered.toLocaleString("en")}/s: committed ${Math.round(m.committedPerSecond).toLocaleString("en")} inputs/s (${m.committed.toLocaleString("en")} of ${m.sent.toLocaleString("en")} sent, ${m.acked.toLocaleString("en")} acknowledged${refused ? `, refused: ${refused}` : ""}), latency p50 ${m.p50.toFixed(0)} ms, p99 ${m.p99.toFixed(0)} ms; node CPU ${Math.round(m.cpuPerInput)} µs per committed input; ${m.fullBlocks} blocks with inputs (of ${m.blocks}, at most ${m.maxInputs} inputs); ${((100 * m.committedPerSecond) / bound).toFixed(0)}% of the execution bound${m.downstreamPerSecond !== undefined ? `; downstream cell committed ${Math.round(m.downstreamPerSecond).toLocaleString("en")} outputs/s` : ""}`;
}

// ------------------------------------------------------------ run

const meter = plan("test/fixtures/node/meter.yaml");
const air = plan("channels/air-quality.yaml");
const stamp = Date.now();
const meterInput = (n: number): Json => ({ meter: `m-${n % 5000}`, seq: Math.floor(n / 5000), kwh: 1 + (n % 97), at: stamp });
const airInput = (n: number): Json => ({ sensor: `${["cen", "nor", "sou", "eas", "wes"][n % 5]}-${n % 4000}`, pm25: 5 + (n % 300) / 10, pm10: 40 + (n % 300) / 10, at: stamp - 60_000 + n });
const rMeter = executeRate(meter, "readings", meterInput);
const rReadings = executeRate(air, "readings", airInput);
const code = air.cells.districts.code!;
const runner = createCodeRunner({ name: "air-quality/districts", source: code.source, file: code.path, limits: air.cells.districts.limits, maxOutputChars: air.outputLimits.perInputBytes });
const rDistricts = executeRate(air, "districts", (n) => ({ data: { district: ["cen", "nor", "sou", "eas", "wes"][n % 5], sensor: `cen-${n % 4000}`, pm25: 10 + (n % 50) }, signer: null, source: { cell: "readings" } }), 500, 1500, runner);
runner.dispose();
const boundMeter = (rMeter * CORES) / 4;
const boundAir = CORES / (4 / rReadings + 5 / rDistricts);
console.log(`network: ${CORES} cores, load average ${loadavg()[0].toFixed(1)} at the start`);
console.log(`  executeBlock, one process: meter ${Math.round(rMeter).toLocaleString("en")} inputs/s; air-quality readings ${Math.round(rReadings).toLocaleString("en")}/s, districts ${Math.round(rDistricts).toLocaleString("en")}/s`);
console.log(`  execution bound: meter on 4 validators ${Math.round(boundMeter).toLocaleString("en")} inputs/s; air-quality on 4 + 5 ${Math.round(boundAir).toLocaleString("en")} inputs/s`);

let pass = false;
if (NETWORKS.has("meter")) {
  const dir = mkdtempSync(join(tmpdir(), "statecell-bench-meter-"));
  const net = await up("test/fixtures/node/meter.yaml", dir);
  try {
    console.log("  one-cell meter channel, 4 validator processes:");
    for (const rate of RATES) {
      const m = await measure(net.nodes, net.nodes, net.nodes[0], "meter", "readings", meterInput, rate);
      console.log(line("meter", m, boundMeter));
      if (rate >= TARGET.rate && m.committedPerSecond >= TARGET.rate && m.p99 < TARGET.p99) pass = true;
      if (overloaded(m)) {
        console.log(`  (saturated at ${rate.toLocaleString("en")}/s offered: higher rates skipped)`);
        break;
      }
    }
  } finally {
    await stop(net.child);
    if (process.env.BENCH_KEEP) console.log(`  kept ${dir} (node logs in nodes/*/node.log)`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
if (NETWORKS.has("air-quality")) {
  const dir = mkdtempSync(join(tmpdir(), "statecell-bench-air-"));
  const net = await up("channels/air-quality.yaml", dir);
  try {
    console.log("  two-cell air-quality pipeline, 7 validator processes (edge 4, city 5):");
    const edge = net.nodes.filter((n) => n.name.startsWith("edge-"));
    const city = net.nodes.find((n) => n.name === "city-1")!;
    for (const rate of RATES) {
      const m = await measure(net.nodes, edge, edge[0], "air-quality", "readings", airInput, rate, { at: city, cell: "districts" });
      console.log(line("air-quality", m, boundAir));
      if (overloaded(m)) {
        console.log(`  (saturated at ${rate.toLocaleString("en")}/s offered: higher rates skipped)`);
        break;
      }
    }
  } finally {
    await stop(net.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`  load average ${loadavg()[0].toFixed(1)} at the end`);
console.log(`${pass ? "PASS" : "MISS"} one-cell channel: ${TARGET.rate.toLocaleString("en")} inputs/s committed with p99 under ${TARGET.p99} ms`);
