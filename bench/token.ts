/**
 * Signed token transfers committed per second by a 4-validator token group,
 * each validator in its own worker thread (so the group uses every core, as
 * four local processes would), messages sent between threads as JSON text as
 * a node's wire does (each validator checks every transfer's signature on its
 * own parsed copy), pending submissions offered as a node offers its mempool.
 * The whole pipeline is timed: proposal building with its signature checks,
 * re-execution and checks at the other three, consensus votes, and the
 * token state root of every block.
 *
 * The bound: every validator checks every transfer, so the group cannot commit
 * more than (node:crypto ed25519 verifies/s on one core) x cores / validators,
 * measured in the same run. Targets: >= 5,000 transfers/s and >= 0.75 of the bound.
 */
import { Worker, isMainThread, parentPort, workerData, type MessagePort } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import type { Json } from "../runtime/core/canonical.js";
import { keyPairFromName, keyPairFromSeed, verifyBytes } from "../runtime/core/keys.js";
import { sha256Bytes } from "../runtime/core/hash.js";
import { loadChannel } from "../runtime/definition/index.js";
import { cachingVerifier, createGroupDriver, MemoryBlockStore, MemorySignerStore, MemoryWal, validatorSet } from "../runtime/consensus/index.js";
import { signTokenOp, tokenConfig } from "../runtime/token/index.js";
import { genesisTokenChain, tokenApplication, type TokenBlockValue } from "../runtime/node/token-application.js";

const VALIDATORS = ["v1", "v2", "v3", "v4"];
const SENDERS = Number(process.env.BENCH_SENDERS ?? 2000);
const PER_SENDER = Number(process.env.BENCH_PER_SENDER ?? 10);
const TARGET = 5000;
const TARGET_RATIO = 0.75;

function channelText(senders: string[]): string {
  return `channel: bench-token
version: 1
groups:
  vals: { validators: [${VALIDATORS.join(", ")}], threshold: 3 }
schemas:
  S: { type: object }
cells:
  one: { group: vals, accepts: S }
limits: { maxBlockInputs: 1000 }
token:
  name: Bench
  symbol: BNC
  group: vals
  fee: 1
  feesTo: vals
  genesis:
${senders.map((k) => `    ${k}: 1000000`).join("\n")}
`;
}

function loadPlan(text: string) {
  const r = loadChannel(text, { file: "bench-token.yaml" });
  if (!r.plan) throw new Error(r.problems.map((p) => `${p.code}: ${p.message}`).join("\n"));
  return r.plan;
}

type FromMain = { kind: "peer"; index: number; port: MessagePort } | { kind: "start" };

if (!isMainThread && (workerData as { mode?: string }).mode === "verify") {
  // The signature bound's probe: verify distinct transfers (keys already built) for ~2 s once the main
  // thread says go (so every probe thread runs at once, and the process's CPU time over the window is theirs).
  const { sample, channel } = workerData as { sample: Array<{ data: Json; signer: string; signature: string }>; channel: string };
  const { canonicalBytes } = await import("../runtime/core/canonical.js");
  const msgs = sample.map((x) => canonicalBytes({ channel, cell: "token", data: x.data }));
  for (let i = 0; i < sample.length; i++) verifyBytes(sample[i].signer, msgs[i], sample[i].signature);
  parentPort!.once("message", () => {
    let n = 0;
    const t = performance.now();
    while (performance.now() - t < 2000) for (let i = 0; i < sample.length; i++) n += verifyBytes(sample[i].signer, msgs[i], sample[i].signature) ? 1 : 0;
    parentPort!.postMessage({ rate: (n / (performance.now() - t)) * 1000, n });
  });
  parentPort!.postMessage({ ready: true });
} else if (!isMainThread) {
  const { index, text, submissions, total } = workerData as { index: number; text: string; submissions: Json[]; total: number };
  const plan = loadPlan(text);
  const config = tokenConfig(plan, (n) => keyPairFromName(n).publicKey);
  const keys = VALIDATORS.map((v) => keyPairFromName(v));
  const set = validatorSet(plan.groups.vals, Object.fromEntries(VALIDATORS.map((v, i) => [v, keys[i].publicKey])));
  const inner = tokenApplication(plan, config);
  // Time spent inside the application per method (BENCH_PROFILE=1): where a validator's busy time goes.
  const spent: Record<string, number> = {};
  const app = process.env.BENCH_PROFILE
    ? (Object.fromEntries(
        Object.entries(inner).map(([k, f]) => [
          k,
          (...a: unknown[]) => {
            const t = performance.now();
            try {
              return (f as (...x: unknown[]) => unknown)(...a);
            } finally {
              spent[k] = (spent[k] ?? 0) + performance.now() - t;
            }
          },
        ]),
      ) as unknown as typeof inner)
    : inner;
  const peers = new Map<number, MessagePort>();
  let committed = 0;
  // As a node offers its mempool (group-host.ts): at most 2 x maxBlockInputs pending submissions at a time,
  // in arrival order, offered again after each commit without what the committed blocks carried.
  const window = 2 * plan.blockLimits.maxInputs;
  const carried = new Set<string>();
  let cursor = 0;
  let offerScheduled = false;
  const pendingWindow = (): Json[] => {
    while (cursor < submissions.length && carried.has((submissions[cursor] as { signature: string }).signature)) cursor++;
    const out: Json[] = [];
    for (let i = cursor; i < submissions.length && out.length < window; i++) if (!carried.has((submissions[i] as { signature: string }).signature)) out.push(submissions[i]);
    return out;
  };
  const offer = () => {
    if (offerScheduled) return;
    offerScheduled = true;
    setImmediate(() => {
      offerScheduled = false;
      driver.offer(pendingWindow());
    });
  };
  let blocks = 0;
  let t0 = 0;
  const driver = createGroupDriver(
    {
      consensus: {
        channel: plan.channel,
        cell: "token",
        validators: set,
        self: keys[index],
        app,
        timeouts: { propose: { base: 3000, delta: 500 }, prevote: { base: 3000, delta: 500 }, precommit: { base: 3000, delta: 500 }, commit: 0 },
        verifier: cachingVerifier(),
      },
      genesis: genesisTokenChain(config),
      gossipIntervalMs: 0,
    },
    {
      // As a node's wire (group-host.ts, wire.ts): a frame is JSON text, encoded once per broadcast and
      // parsed by each receiver into its own copy.
      transport: {
        broadcast: (m) => {
          const text = JSON.stringify(m);
          for (const p of peers.values()) p.postMessage(text);
        },
        send: (peer, m) => {
          const j = keys.findIndex((k) => k.publicKey === peer);
          peers.get(j)?.postMessage(JSON.stringify(m));
        },
      },
      timers: { schedule: (ms, fire) => void setTimeout(fire, ms) },
      clock: { now: () => Date.now() },
      signer: new MemorySignerStore(),
      wal: new MemoryWal(),
      blocks: new MemoryBlockStore(),
      events: {
        decided: (block) => {
          const v = block.value as unknown as TokenBlockValue;
          blocks++;
          for (const input of v.inputs) carried.add((input as { signature: string }).signature);
          offer();
          committed += v.verdicts.filter((x) => x.accepted).length;
          if (committed >= total) {
            if (process.env.BENCH_PROFILE) console.log(`validator ${index}: ${JSON.stringify(Object.fromEntries(Object.entries(spent).map(([k, x]) => [k, Math.round(x)])))} of ${Math.round(performance.now() - t0)} ms`);
            parentPort!.postMessage({ kind: "done", ms: performance.now() - t0, committed, blocks, root: v.stateRoot, height: v.height });
            driver.stop();
            setTimeout(() => process.exit(0), 50);
          }
        },
      },
    },
  );
  parentPort!.on("message", (m: FromMain) => {
    if (m.kind === "peer") {
      peers.set(m.index, m.port);
      m.port.on("message", (text: string) => driver.receive(keys[m.index].publicKey, JSON.parse(text) as unknown));
    } else {
      t0 = performance.now();
      driver.offer(pendingWindow());
      driver.start();
      // As a node admits what clients send it: every submission's signature checked once, in arrival order,
      // in slices so consensus messages are handled in between.
      let next = 0;
      const admitSome = () => {
        const end = Math.min(next + 100, submissions.length);
        for (; next < end; next++) app.admit(submissions[next]);
        if (next < submissions.length) setImmediate(admitSome);
      };
      setImmediate(admitSome);
    }
  });
  parentPort!.postMessage({ kind: "ready" });
} else {
  const cores = availableParallelism();
  // Senders are deterministic keys; each sends PER_SENDER transfers (nonces 1..PER_SENDER) to others.
  const senders = Array.from({ length: SENDERS }, (_, i) => keyPairFromSeed(sha256Bytes(new TextEncoder().encode(`bench-token-${i}`))));
  const plan = loadPlan(channelText(senders.map((k) => k.publicKey)));
  const submissions: Json[] = [];
  for (let n = 1; n <= PER_SENDER; n++) {
    for (let i = 0; i < SENDERS; i++) {
      const to = senders[(i * 7 + n) % SENDERS === i ? (i + 1) % SENDERS : (i * 7 + n) % SENDERS];
      submissions.push(signTokenOp(plan.channel, senders[i], { type: "transfer", from: senders[i].publicKey, to: to.publicKey, amount: BigInt(1 + ((i + n) % 50)), nonce: n }) as unknown as Json);
    }
  }
  const total = submissions.length;

  // The signature bound, on this machine, in this run: `cores` threads verifying distinct transfers at once
  // (on a shared machine that is what `verify rate x cores` really is), before and after the group's run.
  const boot = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const probe = async (): Promise<{ rate: number; cpuPerVerify: number }> => {
    const sample = submissions.slice(0, 500);
    const ws = Array.from({ length: cores }, () => new Worker(boot, { eval: true, workerData: { mode: "verify", sample, channel: plan.channel } }));
    await Promise.all(ws.map((w) => new Promise((res) => w.once("message", res))));
    const c0 = process.cpuUsage();
    const answers = ws.map((w) => new Promise<{ rate: number; n: number }>((res) => w.once("message", res)));
    for (const w of ws) w.postMessage("go");
    const got = await Promise.all(answers);
    const c = process.cpuUsage(c0);
    await Promise.all(ws.map((w) => w.terminate()));
    return { rate: got.reduce((a, b) => a + b.rate, 0), cpuPerVerify: (c.user + c.system) / 1e6 / got.reduce((a, b) => a + b.n, 0) };
  };
  const before = await probe();

  const text = channelText(senders.map((k) => k.publicKey));
  // A worker does not inherit the main thread's TypeScript loader: it registers tsx, then loads this file (boot).
  const workers = VALIDATORS.map((_, index) => new Worker(boot, { eval: true, workerData: { index, text, submissions, total } }));
  await Promise.all(workers.map((w) => new Promise<void>((res) => w.once("message", () => res()))));
  const { MessageChannel } = await import("node:worker_threads");
  for (let i = 0; i < workers.length; i++) {
    for (let j = i + 1; j < workers.length; j++) {
      const { port1, port2 } = new MessageChannel();
      workers[i].postMessage({ kind: "peer", index: j, port: port1 }, [port1]);
      workers[j].postMessage({ kind: "peer", index: i, port: port2 }, [port2]);
    }
  }
  const done = workers.map((w) => new Promise<{ ms: number; committed: number; blocks: number; root: string; height: number }>((res) => w.on("message", (m) => m.kind === "done" && res(m))));
  const timer = setTimeout(() => {
    console.log("MISS: the group did not commit every transfer within 300 s");
    process.exit(1);
  }, 300_000);
  const cpu0 = process.cpuUsage();
  for (const w of workers) w.postMessage({ kind: "start" });
  const results = await Promise.all(done);
  const cpu = process.cpuUsage(cpu0);
  clearTimeout(timer);
  const roots = new Set(results.map((r) => r.root));
  const slowest = Math.max(...results.map((r) => r.ms));
  const rate = (results[0].committed / slowest) * 1000;
  for (const w of workers) void w.terminate();
  const after = await probe();
  const aggregate = (before.rate + after.rate) / 2;
  const cpuPerVerify = (before.cpuPerVerify + after.cpuPerVerify) / 2;
  const bound = aggregate / VALIDATORS.length;
  const ratio = rate / bound;
  console.log(`transfers: ${total} signed by ${SENDERS} accounts, committed in ${results[0].blocks} blocks (height ${results[0].height}) by all ${VALIDATORS.length} validators; state roots agree: ${roots.size === 1}`);
  console.log(`ed25519 verify (node:crypto), ${cores} threads at once: ${Math.round(before.rate)}/s before the run, ${Math.round(after.rate)}/s after (${Math.round(aggregate / cores)}/s per core); bound = verify x cores / validators = ${Math.round(bound)} transfers/s`);
  // CPU time is less sensitive to the other work on a shared machine than the wall clock: the share of the
  // validators' CPU that the signature checks alone would take at the probe's rate is how close the group
  // comes to the bound when it has the cores to itself.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const verifySeconds = total * VALIDATORS.length * cpuPerVerify;
  console.log(`CPU: ${cpuSeconds.toFixed(1)} s over the run (${Math.round((cpuSeconds * 1e6) / total)} us per transfer, 4 validators together); the signature checks alone at the probe's CPU cost (${Math.round(cpuPerVerify * 1e6)} us a verify): ${verifySeconds.toFixed(1)} s (${((100 * verifySeconds) / cpuSeconds).toFixed(0)}% of it); the group had ${Math.min(100, (100 * cpuSeconds) / ((slowest / 1000) * cores)).toFixed(0)}% of the ${cores} cores' time (the rest: idle, or other work on the machine)`);
  console.log(`committed: ${Math.round(rate)} transfers/s (${slowest.toFixed(0)} ms for the slowest validator); ratio to the bound: ${ratio.toFixed(2)}`);
  const pass = rate >= TARGET && ratio >= TARGET_RATIO && roots.size === 1;
  console.log(`${pass ? "PASS" : "MISS"}: target >= ${TARGET} transfers/s and >= ${TARGET_RATIO} of the bound`);
  process.exit(0);
}
