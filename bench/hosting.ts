/**
 * Memory per hosted channel: one node (this process: real ledger, real
 * drivers, real isolates) hosting 1, then 100 channels added through the
 * hot path (node.channels.add), each committing blocks and a few inputs.
 * Two kinds, measured in turn, each in a fresh data folder:
 * - rules: one cell with a schema, a rule and a state update (no code);
 * - code:  the same and a second cell with a code hook (one isolate each).
 * Each channel's group is this node alone (threshold 1), so blocks commit
 * without peers. Memory is RSS after a full GC (isolates live outside the
 * JS heap); per channel = (RSS at 100 - RSS at 1) / 99.
 * Targets: under 10 MB a channel without code cells, under 15 MB with one.
 *
 * Run: npm run bench -- hosting   (BENCH_CHANNELS=N to change the 100)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadChannel, type ChannelPlan } from "../runtime/definition/index.js";
import { checkCode } from "../runtime/sandbox/index.js";
import { createKeyFile } from "../runtime/node/config/index.js";
import { silentLogger } from "../runtime/node/log.js";
import { startNode, type RunningNode } from "../runtime/node/node.js";
import { readFileSync } from "node:fs";
import { soloChannel } from "../test/fixtures/node/solo-channel.js";

const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 100);
const SETTLE_MS = 3_000;
const TARGET_MB = { rules: 10, code: 15 } as const;
const gc = (globalThis as { gc?: () => void }).gc;

function channelText(name: string, code: boolean): string {
  const state = `    state:
      - add: total
        value: { var: data.litres }
`;
  if (!code) return soloChannel(name, { rule: true, extra: state });
  return soloChannel(name, {
    rule: true,
    extra: `${state}    emit:
      - to: scored
`,
    after: `  scored:
    group: solo
    accepts:
      type: object
      required: [meter, litres]
      properties:
        meter: { type: string }
        litres: { type: integer }
    code: ./score.js
    limits: { memoryMb: 16, timeMs: 20 }
`,
  });
}

const SCORE_JS = `function validate(data) {
  return data.litres >= 0 ? true : { reject: "negative" };
}
`;

function rssMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().rss / (1 << 20);
}

function plan(file: string): ChannelPlan {
  const r = loadChannel(readFileSync(file, "utf8"), { file }, { readFile: (p) => readFileSync(p, "utf8"), checkCode });
  if (!r.plan) throw new Error(r.problems.map((p) => p.message).join("\n"));
  return r.plan;
}

async function feed(node: RunningNode, channel: string, n: number): Promise<void> {
  const subs = Array.from({ length: n }, (_, i) => ({ data: { meter: `m-${i}`, litres: 100 + i } }));
  await node.core.submit(channel, "readings", subs);
}

async function measure(kind: "rules" | "code"): Promise<{ base: number; full: number; perChannel: number; seconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), `statecell-hosting-${kind}-`));
  try {
    const { publicKey } = createKeyFile(join(dir, "solo.key"));
    writeFileSync(join(dir, "network.yaml"), `network: bench\nvalidators:\n  solo:\n    key: ${publicKey}\n    peer: ws://127.0.0.1:9\n    api: http://127.0.0.1:9\n`);
    writeFileSync(join(dir, "score.js"), SCORE_JS);
    mkdirSync(join(dir, "channels"));
    const files: string[] = [];
    for (let i = 0; i < CHANNELS; i++) {
      const f = join(dir, "channels", `ch-${String(i).padStart(3, "0")}.yaml`);
      writeFileSync(f, channelText(`ch-${String(i).padStart(3, "0")}`, kind === "code"));
      files.push(f);
    }
    // The code file sits beside the channels.
    writeFileSync(join(dir, "channels", "score.js"), SCORE_JS);
    const node = await startNode(
      { file: join(dir, "node.yaml"), identity: join(dir, "solo.key"), listen: { api: { host: "127.0.0.1", port: 0 }, peer: { host: "127.0.0.1", port: 0 } }, network: join(dir, "network.yaml"), channels: [files[0]], data: join(dir, "data") },
      { log: silentLogger },
    );
    await feed(node, "ch-000", 20);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const base = rssMb();
    const t0 = performance.now();
    for (let i = 1; i < CHANNELS; i++) {
      node.channels.add(plan(files[i]));
      await feed(node, `ch-${String(i).padStart(3, "0")}`, 20);
    }
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const heights = node.hosts.map((h) => h.chain.height);
    const full = rssMb();
    const committing = heights.filter((h) => h > 0).length;
    await node.stop();
    if (committing < node.hosts.length) console.log(`  note: ${node.hosts.length - committing} of ${node.hosts.length} cells had not committed yet`);
    return { base, full, perChannel: (full - base) / Math.max(1, CHANNELS - 1), seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (gc === undefined) console.log("  note: run with --expose-gc (npm run bench does) for figures after a full GC");
let missed = 0;
for (const kind of ["rules", "code"] as const) {
  const m = await measure(kind);
  const ok = m.perChannel < TARGET_MB[kind];
  if (!ok) missed++;
  console.log(
    `hosting ${CHANNELS} channels (${kind === "rules" ? "rules only" : "one code cell"}): RSS ${m.base.toFixed(0)} MB with 1, ${m.full.toFixed(0)} MB with ${CHANNELS}; ${m.perChannel.toFixed(2)} MB per channel (target < ${TARGET_MB[kind]} MB) ${ok ? "PASS" : "MISS"}; added in ${m.seconds.toFixed(1)} s`,
  );
}
console.log(missed === 0 ? "hosting: all targets met" : `hosting: ${missed} target(s) missed`);
process.exit(0);
