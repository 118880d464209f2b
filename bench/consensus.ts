/**
 * Decisions per second of the pure consensus core for a 4-validator group:
 * all four nodes in one thread, messages handed over in order, no network,
 * no delays, no failures. Also counts ed25519 signatures made and checked per
 * decision (each node has its own verification cache, as real nodes do).
 *
 * Target: >= 100 decisions/s for the whole group on one core. The bound is
 * ed25519: per decision 9 signatures (1 proposal, 4 prevotes, 4 precommits)
 * and, per node, 8 checks of the others' messages (measured here: ~37k
 * signs/s, ~12.8k checks/s: ~2.8 ms of crypto per decision for the group).
 *
 * Then the same group through the group driver (runtime/consensus/driver.ts)
 * with in-process ports and in-memory stores, as runLocalGroup and the
 * simulator run it: what the driver adds to the core (port calls, the signer
 * record and WAL writes, the block store).
 */
import { hashJson } from "../runtime/core/hash.js";
import { keyPairFromName } from "../runtime/core/keys.js";
import type { Json } from "../runtime/core/canonical.js";
import {
  cachingVerifier,
  createGroupDriver,
  createState,
  GENESIS_HASH,
  MemoryBlockStore,
  MemorySignerStore,
  MemoryWal,
  step,
  validatorSet,
  type Application,
  type ConsensusConfig,
  type ConsensusEvent,
  type ConsensusState,
  type CachingVerifier,
  type GroupDriver,
} from "../runtime/consensus/index.js";

const TARGET = 100;
const HEIGHTS = Number(process.env.BENCH_HEIGHTS ?? 400);

const app: Application<number> = {
  buildValue: ({ height, prevHash, time }) => ({ height, prevHash, time, inputs: [] }),
  validateValue: (ctx, v) => typeof v === "object" && v !== null && !Array.isArray(v) && v.height === ctx.height && v.prevHash === ctx.prevHash,
  valueId: (v: Json) => hashJson("bench-block", v),
  applyValue: (s) => s + 1,
};

function run(heights: number): { ms: number; decided: number; checks: number; signs: number } {
  const names = ["n0", "n1", "n2", "n3"];
  const keys = names.map((n) => keyPairFromName(`bench-${n}`));
  const set = validatorSet(
    { name: "bench", validators: names, threshold: { written: "2/3", quorum: 3, size: 4, safetyFaults: 1, livenessFaults: 1 } },
    Object.fromEntries(names.map((n, i) => [n, keys[i].publicKey])),
  );
  const verifiers: CachingVerifier[] = [];
  const states: Array<ConsensusState<number>> = keys.map((k) => {
    const verifier = cachingVerifier();
    verifiers.push(verifier);
    const config: ConsensusConfig<number> = {
      channel: "bench",
      cell: "cell",
      validators: set,
      self: k,
      app,
      timeouts: { propose: { base: 1000, delta: 100 }, prevote: { base: 1000, delta: 100 }, precommit: { base: 1000, delta: 100 }, commit: 0 },
      verifier,
    };
    return createState(config, { height: 1, prevHash: GENESIS_HASH, app: 0, signer: null });
  });
  const queue: Array<{ to: number; ev: ConsensusEvent }> = keys.map((_, i) => ({ to: i, ev: { kind: "start", now: 0 } }));
  let decided = 0;
  let signs = 0;
  let now = 0;
  const t0 = performance.now();
  for (let qi = 0; qi < queue.length && decided < heights; qi++) {
    const { to, ev } = queue[qi];
    const r = step(states[to], ev);
    states[to] = r.state;
    for (const e of r.effects) {
      if (e.kind === "broadcast") {
        for (let j = 0; j < keys.length; j++) if (j !== to) queue.push({ to: j, ev: { kind: "message", frame: e.message, now: ++now } });
      } else if (e.kind === "persist") {
        signs++;
      } else if (e.kind === "schedule-timeout" && e.timeout.step === "commit") {
        queue.push({ to, ev: { kind: "timeout", timeout: e.timeout, now: ++now } });
      } else if (e.kind === "decide" && to === 0) {
        decided++;
      }
    }
  }
  const ms = performance.now() - t0;
  return { ms, decided, checks: verifiers.reduce((a, v) => a + v.checks, 0), signs };
}

/** The same group, each node a group driver; the queue runs deliveries and 0 ms timers in order. */
function runDrivers(heights: number): { ms: number; decided: number } {
  const names = ["n0", "n1", "n2", "n3"];
  const keys = names.map((n) => keyPairFromName(`bench-${n}`));
  const set = validatorSet(
    { name: "bench", validators: names, threshold: { written: "2/3", quorum: 3, size: 4, safetyFaults: 1, livenessFaults: 1 } },
    Object.fromEntries(names.map((n, i) => [n, keys[i].publicKey])),
  );
  const queue: Array<() => void> = [];
  let decided = 0;
  let now = 0;
  const drivers: Array<GroupDriver<number>> = keys.map((k, i) =>
    createGroupDriver(
      {
        consensus: {
          channel: "bench",
          cell: "cell",
          validators: set,
          self: k,
          app,
          timeouts: { propose: { base: 1000, delta: 100 }, prevote: { base: 1000, delta: 100 }, precommit: { base: 1000, delta: 100 }, commit: 0 },
          verifier: cachingVerifier(),
        },
        genesis: 0,
        gossipIntervalMs: 0,
      },
      {
        transport: {
          send: () => {},
          broadcast: (m) => {
            for (let j = 0; j < keys.length; j++) if (j !== i) queue.push(() => drivers[j].receive(k.publicKey, m));
          },
        },
        // Only the commit wait (0 ms) fires: no round times out in a run without faults.
        timers: { schedule: (ms, fire) => ms === 0 && queue.push(fire) },
        clock: { now: () => ++now },
        signer: new MemorySignerStore(),
        wal: new MemoryWal(),
        blocks: new MemoryBlockStore(),
        events: { decided: () => i === 0 && decided++ },
      },
    ),
  );
  const t0 = performance.now();
  for (const d of drivers) d.start();
  for (let qi = 0; qi < queue.length && decided < heights; qi++) queue[qi]();
  return { ms: performance.now() - t0, decided };
}

run(20); // warm up
const r = run(HEIGHTS);
const rate = (r.decided / r.ms) * 1000;
console.log(`consensus core, 4 validators in one thread, ${r.decided} decisions in ${r.ms.toFixed(0)} ms`);
console.log(`decisions/s: ${rate.toFixed(0)} (${(r.ms / r.decided).toFixed(2)} ms each)`);
console.log(`ed25519 per decision: ${(r.signs / r.decided).toFixed(1)} signatures made, ${(r.checks / r.decided).toFixed(1)} checks (${(r.checks / r.decided / 4).toFixed(1)} per node)`);
runDrivers(20); // warm up
const d = runDrivers(HEIGHTS);
const driverRate = (d.decided / d.ms) * 1000;
console.log(`through the group driver (in-memory stores): ${d.decided} decisions in ${d.ms.toFixed(0)} ms, ${driverRate.toFixed(0)} decisions/s (${(d.ms / d.decided).toFixed(2)} ms each)`);
console.log(`target >= ${TARGET} decisions/s: ${Math.min(rate, driverRate) >= TARGET ? "PASS" : "MISS"}`);
