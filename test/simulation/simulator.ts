/**
 * The seeded simulator: a whole group in one process on a virtual clock.
 * Every node runs the shipped group driver (runtime/consensus/driver.ts) with
 * the real consensus core; the simulator only provides its ports: a network
 * that delays, drops, duplicates and reorders messages and can be
 * partitioned, timers on the virtual clock, and stores that a crash can
 * interrupt in the middle of a write (losing or tearing it). Byzantine
 * validators run the same driver behind a transport that forges and
 * equivocates, and a block store that lies to those who catch up from it.
 * Faults come from the schedule (schedule.ts); checks run at the end
 * (checker.ts). One seed, one run.
 */
import { keyPairFromName, type KeyPair } from "../../runtime/core/keys.js";
import type { Json } from "../../runtime/core/canonical.js";
import type { GroupPlan } from "../../runtime/definition/plan.js";
import {
  cachingVerifier,
  createGroupDriver,
  GENESIS_HASH,
  MemorySignerStore,
  MemoryWal,
  signMessage,
  validatorSet,
  type CertifiedBlock,
  type ConsensusConfig,
  type ConsensusMessage,
  type GroupDriver,
  type GroupMessage,
  type GroupPorts,
  type Proposal,
  type TornWrite,
  type ValidatorSet,
  type Vote,
} from "../../runtime/consensus/index.js";
import { kvSimApp, type SimApp } from "./sim-app.js";
import { Rng } from "./prng.js";
import { makeSchedule, scheduledFaults, type Misbehaviour, type Schedule, type ScheduleOptions } from "./schedule.js";
import { checkRun, type Fork } from "./checker.js";

export const CHANNEL = "sim";
export const CELL = "counter";
const T0 = 1_700_000_000_000;
/** Liveness bound: after the last heal, every honest node commits within this many rounds. */
export const LIVENESS_ROUNDS = 8;
const MAX_EVENTS = 400_000;

const KEYS: KeyPair[] = Array.from({ length: 7 }, (_, i) => keyPairFromName(`sim-validator-${i}`));

export interface RunOptions extends ScheduleOptions {
  /** Mutation test only: honest nodes ignore their locks. */
  disableLocking?: boolean;
  /** The replicated application (default: the key/value app, kv-app.ts). */
  app?: SimApp<unknown>;
}

export interface LedgerEntry {
  block: CertifiedBlock;
  valueId: string;
  app: unknown;
  round: number;
  source: "consensus" | "catch-up";
}

export interface RunResult {
  seed: number;
  n: number;
  quorum: number;
  mode: Schedule["mode"];
  /** Scheduled faults plus message drops, duplicates and Byzantine messages. */
  faults: number;
  faultKinds: Record<string, number>;
  /** Longest honest chain. */
  blocks: number;
  violations: string[];
  forks: Fork[];
  evidence: number;
  drops: Record<string, number>;
  badPeers: number;
  /** Catch-up requests the drivers sent, and responses they served. */
  catchupRequested: number;
  catchupServed: number;
  /** Crashes that landed inside a signer-store or WAL write and lost or tore it. */
  cutWrites: number;
  events: number;
  virtualMs: number;
  signatureChecks: number;
}

type Item =
  | { kind: "deliver"; to: number; from: number; frame: GroupMessage }
  | { kind: "timer"; ep: number; epoch: number; fire: () => void }
  | { kind: "crash"; ep: number; torn: "clean" | "lose" | "tear" }
  | { kind: "restart"; ep: number }
  | { kind: "pause"; ep: number; until: number }
  | { kind: "unpause"; ep: number }
  | { kind: "input" }
  | { kind: "heal" };

/** Thrown by a port when a scheduled crash lands in it: the node dies in the middle of that call. */
const CRASH = Object.freeze({ crash: "the simulated process died here" });
/** A pending crash lands in one of the node's next 1..4 port calls (writes, sends, timers). */
const CRASH_WITHIN = 3;

interface Queued {
  at: number;
  seq: number;
  item: Item;
}

/** A node (or, in fork mode, one persona of a Byzantine node) on the network. */
export interface Endpoint {
  ep: number;
  index: number;
  name: string;
  key: KeyPair;
  honest: boolean;
  side: number;
  driver: GroupDriver<unknown>;
  store: MemorySignerStore;
  wal: MemoryWal;
  ledger: LedgerEntry[];
  up: boolean;
  /** Stopped by a fault of its own (a violation): never restarted. */
  broken: boolean;
  epoch: number;
  crashing: "clean" | "lose" | "tear" | null;
  /** Port calls left before the pending crash lands. */
  crashIn: number;
  pausedUntil: number;
  deferred: Item[];
  skew: number;
  /** Indices of validators this node disconnected (bad peers). */
  disconnected: Set<number>;
  pool: Json[];
  misbehaviour: Misbehaviour[];
}

class Heap {
  private a: Queued[] = [];
  get size(): number {
    return this.a.length;
  }
  push(q: Queued): void {
    const a = this.a;
    a.push(q);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p], a[i])) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): Queued {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

/** 0: honest message, 1: conflicting one, 2: both; fixed per (sender, height, round, type, recipient). */
function splitSide(seed: number, from: number, m: ConsensusMessage, to: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const x of [from, m.height, m.round, m.type === "proposal" ? 0 : m.type === "prevote" ? 1 : 2, to]) {
    h = Math.imul(h ^ x, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
  }
  const r = h % 8;
  return r < 4 ? 0 : r < 7 ? 1 : 2;
}

function less(x: Queued, y: Queued): boolean {
  return x.at !== y.at ? x.at < y.at : x.seq < y.seq;
}

/** The group plan of a simulated group. */
export function simGroup(n: number, quorum: number): { group: GroupPlan; keys: Record<string, string>; set: ValidatorSet } {
  const names = Array.from({ length: n }, (_, i) => `v${i}`);
  const keys = Object.fromEntries(names.map((nm, i) => [nm, KEYS[i].publicKey]));
  const group: GroupPlan = {
    name: "sim",
    validators: names,
    threshold: { written: quorum, quorum, size: n, safetyFaults: Math.max(0, 2 * quorum - n - 1), livenessFaults: n - quorum },
  };
  return { group, keys, set: validatorSet(group, keys) };
}

/** Runs the schedule of `seed` and checks it. */
export function runSchedule(seed: number, opts: RunOptions = {}): RunResult {
  return new Simulation(makeSchedule(seed, opts), opts).run();
}

export class Simulation {
  readonly rng: Rng;
  readonly eps: Endpoint[] = [];
  readonly set: ValidatorSet;
  readonly group: GroupPlan;
  readonly keys: Record<string, string>;
  readonly verifier = cachingVerifier(200_000);
  readonly simApp: SimApp<unknown>;
  private heap = new Heap();
  private seq = 0;
  now = 0;
  private events = 0;
  readonly faultKinds: Record<string, number> = {};
  readonly drops: Record<string, number> = {};
  readonly violations: string[] = [];
  /** validator/height/round/type -> what an honest validator signed there. */
  private signed = new Map<string, string>();
  private evidence = 0;
  private badPeers = 0;
  private cutWrites = 0;
  private inputSeq = 0;
  private healed = false;
  private target = 0;
  private deadline = Infinity;

  constructor(
    readonly schedule: Schedule,
    readonly opts: RunOptions,
  ) {
    this.rng = new Rng(schedule.seed ^ 0x5eed);
    this.simApp = opts.app ?? kvSimApp;
    const g = simGroup(schedule.n, schedule.quorum);
    this.set = g.set;
    this.group = g.group;
    this.keys = g.keys;
    const byz = new Set(schedule.byzantine);
    for (let i = 0; i < schedule.n; i++) {
      if (schedule.mode === "fork" && byz.has(i)) {
        this.addEndpoint(i, false, 0);
        this.addEndpoint(i, false, 1);
      } else this.addEndpoint(i, !byz.has(i), schedule.sides[i]);
    }
  }

  private addEndpoint(index: number, honest: boolean, side: number): void {
    const s = this.schedule;
    const config: ConsensusConfig<unknown> = {
      channel: CHANNEL,
      cell: CELL,
      validators: this.set,
      self: KEYS[index],
      app: this.simApp.app,
      timeouts: s.timeouts,
      verifier: this.verifier,
      ...(honest && this.opts.disableLocking ? { test: { unsafeDisableLocking: true } } : {}),
    };
    const e = {
      ep: this.eps.length,
      index,
      name: `v${index}${s.mode === "fork" && !honest ? (side === 0 ? "L" : "R") : ""}`,
      key: KEYS[index],
      honest,
      side,
      store: new MemorySignerStore(),
      wal: new MemoryWal(),
      ledger: [],
      up: true,
      broken: false,
      epoch: 0,
      crashing: null,
      crashIn: 0,
      pausedUntil: 0,
      deferred: [],
      skew: s.skew[index] + (side === 1 && !honest ? 7 : 0),
      disconnected: new Set(),
      pool: [],
      misbehaviour: honest ? [] : s.misbehaviour,
    } as Omit<Endpoint, "driver"> as Endpoint;
    e.driver = createGroupDriver({ consensus: config, genesis: this.simApp.genesis, gossipIntervalMs: s.rebroadcast, catchupIntervalMs: 100 }, this.ports(e));
    this.eps.push(e);
  }

  /** The ports of one endpoint: the network, the virtual clock, and stores a crash can cut. */
  private ports(e: Endpoint): GroupPorts<unknown> {
    return {
      transport: {
        send: (peer, message) => {
          this.io(e);
          const index = this.set.index.get(peer);
          const to = this.eps.find((x) => x.index === index && x.side === e.side && x.ep !== e.ep) ?? this.eps.find((x) => x.index === index && x.ep !== e.ep);
          if (to) this.send(e.ep, to.ep, message);
        },
        broadcast: (message, relay) => {
          this.io(e);
          if (e.honest && !relay) this.trackSigned(e, message);
          this.broadcast(e, message, relay);
        },
      },
      timers: {
        schedule: (ms, fire) => {
          this.io(e);
          this.push(this.now + ms, { kind: "timer", ep: e.ep, epoch: e.epoch, fire });
        },
      },
      clock: { now: () => this.clock(e) },
      signer: {
        load: () => e.store.load(),
        save: (record) => {
          this.io(e, (mode) => e.store.crashDuring(record, mode));
          e.store.save(record);
        },
      },
      wal: {
        append: (entry) => {
          this.io(e, (mode) => e.wal.crashDuring(entry, mode));
          e.wal.append(entry);
        },
        entries: (height) => e.wal.entries(height),
        truncateBelow: (height) => {
          this.io(e);
          e.wal.truncateBelow(height);
        },
      },
      blocks: {
        head: () => {
          const last = e.ledger[e.ledger.length - 1];
          return last ? { height: e.ledger.length, valueId: last.valueId, state: last.app } : null;
        },
        append: (block, valueId, state) => {
          this.io(e);
          e.ledger.push({ block, valueId, app: state, round: block.certificate.round, source: "consensus" });
        },
        read: (fromHeight, max) => {
          const real = e.ledger.slice(fromHeight - 1, fromHeight - 1 + max).map((l) => l.block);
          return e.misbehaviour.includes("bad-catchup") ? this.forgeBlocks(fromHeight, real) : real;
        },
      },
      events: {
        decided: (_block, _id, source) => {
          e.ledger[e.ledger.length - 1].source = source;
        },
        evidence: () => {
          this.evidence++;
        },
        drop: (reason) => {
          this.drops[reason] = (this.drops[reason] ?? 0) + 1;
        },
        badPeer: (peer, _reason, detail) => {
          this.badPeers++;
          const index = peer === undefined ? undefined : this.set.index.get(peer);
          if (index === undefined) return;
          const honest = this.eps.find((x) => x.index === index && x.honest);
          if (honest) this.violations.push(`${e.name} disconnected honest ${honest.name}: ${detail}`);
          e.disconnected.add(index);
        },
      },
    };
  }

  /**
   * A port call: where a pending crash lands (after `crashIn` more calls). A
   * write it lands in is lost or half written, as the schedule says; then the
   * node is down and the call throws, so nothing after it runs.
   */
  private io(e: Endpoint, tear?: (mode: TornWrite) => void): void {
    if (e.crashing === null) return;
    if (e.crashIn > 0) {
      e.crashIn--;
      return;
    }
    if (tear && e.crashing !== "clean") {
      tear(e.crashing);
      this.cutWrites++;
    }
    this.down(e);
    throw CRASH;
  }

  private down(e: Endpoint): void {
    e.crashing = null;
    e.up = false;
    e.epoch++;
    e.deferred = [];
    e.pausedUntil = 0;
  }

  /** Calls into a node's driver: a crash makes it return early; anything else it throws is a violation. */
  private call(e: Endpoint, f: () => void): void {
    try {
      f();
    } catch (err) {
      if (err === CRASH) return;
      const what = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
      this.violations.push(`${e.name} stopped: ${what}`);
      this.down(e);
      e.broken = true;
    }
  }

  private push(at: number, item: Item): void {
    this.heap.push({ at, seq: this.seq++, item });
  }

  private fault(kind: string, k = 1): void {
    this.faultKinds[kind] = (this.faultKinds[kind] ?? 0) + k;
  }

  run(): RunResult {
    const s = this.schedule;
    for (const c of s.crashes) {
      this.push(c.at, { kind: "crash", ep: c.node, torn: c.torn });
      this.push(c.restartAt, { kind: "restart", ep: c.node });
    }
    for (const p of s.pauses) {
      this.push(p.start, { kind: "pause", ep: p.node, until: p.end });
      this.push(p.end, { kind: "unpause", ep: p.node });
    }
    this.push(s.inputEvery, { kind: "input" });
    this.push(s.healAt, { kind: "heal" });
    for (const e of this.eps) this.call(e, () => e.driver.start());

    while (this.heap.size > 0) {
      const q = this.heap.pop();
      this.now = q.at;
      if (++this.events > MAX_EVENTS) {
        this.violations.push(`event cap: more than ${MAX_EVENTS} events by t=${this.now}ms`);
        break;
      }
      if (this.now > this.deadline) {
        const stuck = this.honest().filter((e) => e.ledger.length < this.target);
        this.violations.push(
          `liveness: ${stuck.map((e) => `${e.name} at height ${e.ledger.length + 1} round ${e.driver.state?.round ?? 0}`).join(", ")} made no commit within ${LIVENESS_ROUNDS} rounds of the last heal (t=${s.healAt}ms, target height ${this.target})`,
        );
        break;
      }
      this.handle(q.item);
      if (this.healed && s.mode !== "fork" && this.honest().every((e) => e.ledger.length >= this.target)) break;
      if (this.healed && s.mode === "fork") break;
    }
    this.fault("scheduled", scheduledFaults(s));
    const check = checkRun(this);
    this.violations.push(...check.violations);
    const faults = Object.values(this.faultKinds).reduce((a, b) => a + b, 0);
    return {
      seed: s.seed,
      n: s.n,
      quorum: s.quorum,
      mode: s.mode,
      faults,
      faultKinds: this.faultKinds,
      blocks: Math.max(0, ...this.honest().map((e) => e.ledger.length)),
      violations: this.violations,
      forks: check.forks,
      evidence: this.evidence,
      drops: this.drops,
      badPeers: this.badPeers,
      catchupRequested: this.eps.reduce((a, e) => a + e.driver.counters.catchupRequested, 0),
      catchupServed: this.eps.reduce((a, e) => a + e.driver.counters.catchupServed, 0),
      cutWrites: this.cutWrites,
      events: this.events,
      virtualMs: this.now,
      signatureChecks: this.verifier.checks,
    };
  }

  honest(): Endpoint[] {
    return this.eps.filter((e) => e.honest);
  }

  private clock(e: Endpoint): number {
    return T0 + this.now + e.skew;
  }

  private blocked(from: number, to: number): boolean {
    const a = this.eps[from];
    const b = this.eps[to];
    if (this.schedule.mode === "fork") return a.side !== b.side;
    for (const p of this.schedule.partitions) {
      if (this.now >= p.start && this.now < p.end && p.blocked[a.index][b.index]) return true;
    }
    return false;
  }

  private handle(item: Item): void {
    switch (item.kind) {
      case "deliver": {
        const e = this.eps[item.to];
        if (!e.up || this.blocked(item.from, item.to) || e.disconnected.has(this.eps[item.from].index)) return;
        if (e.pausedUntil > this.now) {
          e.deferred.push(item);
          return;
        }
        const from = this.eps[item.from].key.publicKey;
        this.call(e, () => e.driver.receive(from, item.frame));
        return;
      }
      case "timer": {
        const e = this.eps[item.ep];
        if (!e.up || item.epoch !== e.epoch) return;
        if (e.pausedUntil > this.now) {
          e.deferred.push(item);
          return;
        }
        this.call(e, item.fire);
        return;
      }
      case "crash": {
        const e = this.eps[item.ep];
        if (!e.up) return;
        // The crash lands inside one of the node's next port calls, between two of its effects or in a write (see io).
        e.crashing = item.torn;
        e.crashIn = this.rng.int(0, CRASH_WITHIN);
        this.fault(`crash-${item.torn}`);
        return;
      }
      case "restart":
        return this.restart(this.eps[item.ep]);
      case "pause":
        this.eps[item.ep].pausedUntil = item.until;
        return;
      case "unpause": {
        const e = this.eps[item.ep];
        e.pausedUntil = 0;
        const later = e.deferred;
        e.deferred = [];
        for (const d of later) this.handle(d);
        return;
      }
      case "input": {
        const input = this.simApp.makeInput(this.rng, this.inputSeq++);
        for (const e of this.eps) {
          if (this.schedule.mode === "fork" && !e.honest && e.side === 1 && this.rng.chance(0.5)) continue;
          e.pool.push(input);
          if (e.up && e.pausedUntil <= this.now) this.offerInputs(e);
        }
        if (!this.healed || this.now < this.schedule.healAt + 5000) this.push(this.now + this.rng.int(1, 2 * this.schedule.inputEvery), { kind: "input" });
        return;
      }
      case "heal":
        return this.onHeal();
    }
  }

  private onHeal(): void {
    this.healed = true;
    const honest = this.honest();
    const h0 = Math.max(0, ...honest.map((e) => e.ledger.length));
    // Stress runs (mutation test) go on for many blocks: more chances to hit a lock violation.
    this.target = h0 + (this.opts.stress ? 25 : 1);
    const rMax = Math.max(0, ...honest.map((e) => e.driver.state?.round ?? 0));
    const t = this.schedule.timeouts;
    const net = this.schedule.net;
    const hop = net.delayMax + (net.spike > 0 ? net.spikeMax : 0);
    let bound = t.commit + 2 * this.schedule.rebroadcast;
    for (let r = rMax; r < rMax + LIVENESS_ROUNDS * (this.opts.stress ? 10 : 1); r++) {
      bound += t.propose.base + r * t.propose.delta + t.prevote.base + r * t.prevote.delta + t.precommit.base + r * t.precommit.delta + 4 * hop + this.schedule.rebroadcast;
    }
    this.deadline = this.now + bound;
  }

  private offerInputs(e: Endpoint): void {
    const done = new Set<string>();
    for (const l of e.ledger) for (const id of this.simApp.inputIdsOf(l.block.value)) done.add(id);
    e.pool = e.pool.filter((i) => !done.has(this.simApp.inputId(i)));
    this.call(e, () => e.driver.offer(e.pool));
  }

  private restart(e: Endpoint): void {
    if (e.up && e.crashing) {
      // The crash never met a port call: it lands now.
      this.down(e);
      e.driver.stop();
    }
    if (e.up || e.broken) return;
    e.up = true;
    this.call(e, () => e.driver.start());
    if (e.up) this.offerInputs(e);
  }

  private trackSigned(e: Endpoint, m: ConsensusMessage): void {
    const k = `${e.name}/${m.height}/${m.round}/${m.type}`;
    const v = `${m.valueId}/${m.type === "proposal" ? m.validRound : ""}`;
    const had = this.signed.get(k);
    if (had === undefined) this.signed.set(k, v);
    else if (had !== v) this.violations.push(`honest ${e.name} signed two ${m.type}s at height ${m.height} round ${m.round}: ${had} and ${v}`);
  }

  /** What a Byzantine endpoint signs fresh is what `mutate` makes of it; relays go out unchanged. */
  private broadcast(e: Endpoint, m: ConsensusMessage, relay: boolean): void {
    for (const to of this.eps) {
      if (to.index === e.index) continue;
      if (!e.honest && !relay) {
        for (const frame of this.mutate(e, m, to.ep)) this.send(e.ep, to.ep, frame as GroupMessage);
      } else this.send(e.ep, to.ep, m);
    }
  }

  private send(from: number, to: number, frame: GroupMessage): void {
    if (this.blocked(from, to)) {
      if (this.schedule.mode !== "fork") this.fault("partitioned");
      return;
    }
    const net = this.schedule.net;
    if (net.drop > 0 && this.rng.chance(net.drop)) {
      this.fault("dropped");
      return;
    }
    const link = this.schedule.linkLatency?.[this.eps[from].index][this.eps[to].index] ?? 0;
    const delay = () => link + this.rng.int(net.delayMin, net.delayMax) + (net.spike > 0 && this.rng.chance(net.spike) ? this.rng.int(0, net.spikeMax) : 0);
    this.push(this.now + delay(), { kind: "deliver", to, from, frame });
    if (net.duplicate > 0 && this.rng.chance(net.duplicate)) {
      this.fault("duplicated");
      this.push(this.now + delay(), { kind: "deliver", to, from, frame });
    }
  }

  /** What a Byzantine validator sends one recipient instead of `m`. */
  private mutate(e: Endpoint, m: ConsensusMessage, to: number): unknown[] {
    const b = e.misbehaviour;
    const rng = this.rng;
    if (b.includes("silent") && rng.chance(0.3)) return this.byz("silent", []);
    if (b.includes("amnesia") && m.type !== "proposal") {
      // The amnesia attack: forgets its lock and votes for the round's first proposal whatever
      // its own rules say. Harmless while correct validators keep their locks.
      const fresh = this.freshProposal(e, m);
      if (fresh === null || fresh === m.valueId) return [m];
      const { signature: _s, ...rest } = m;
      return this.byz("amnesia", [signMessage<Vote>({ ...(rest as Omit<Vote, "signature">), valueId: fresh }, e.key)]);
    }
    if (b.includes("equivocate")) {
      // Splits the recipients of each (height, round, type) in two sides, one told m, the other a
      // conflicting message: what an attacker does to make correct validators disagree; a few get both.
      const side = splitSide(this.schedule.seed, e.ep, m, to);
      if (side === 0) return [m];
      const alt = this.conflicting(e, m, false);
      return this.byz("equivocate", side === 1 ? [alt] : [m, alt]);
    }
    if (b.includes("garbage") && rng.chance(0.3)) return this.byz("garbage", [this.conflicting(e, m, true)]);
    if (b.includes("forge") && rng.chance(0.3)) {
      const other = this.set.keys[rng.int(0, this.set.size - 1)];
      const forged = rng.chance(0.5) ? { ...m, signature: rng.hex64() + rng.hex64() } : { ...m, validator: other };
      return this.byz("forge", [forged, m]);
    }
    if (b.includes("malformed") && rng.chance(0.2)) {
      const junk = rng.pick<unknown>([null, 42, "prevote", [m], { ...m, height: -1 }, { ...m, round: 1e12 }, { ...m, extra: true }, { ...m, valueId: "nil" }, { type: "precommit" }]);
      return this.byz("malformed", [junk, m]);
    }
    return [m];
  }

  /** Id of the first proposal of m's round this node saw (null: none). */
  private freshProposal(e: Endpoint, m: ConsensusMessage): string | null {
    const state = e.driver.state;
    if (!state || m.height !== state.height) return null;
    return state.rounds[m.round]?.proposals[0]?.valueId ?? null;
  }

  private byz<T>(kind: string, out: T): T {
    this.fault(`byzantine-${kind}`);
    return out;
  }

  private alts = new Map<string, ConsensusMessage>();

  /** A validly signed message that conflicts with `m` (another value, or a garbage one); one per original, to sign less. */
  private conflicting(e: Endpoint, m: ConsensusMessage, garbage: boolean): ConsensusMessage {
    const k = `${m.signature}${garbage}`;
    let alt = this.alts.get(k);
    if (!alt) {
      alt = this.makeConflicting(e, m, garbage);
      this.alts.set(k, alt);
    }
    return alt;
  }

  private makeConflicting(e: Endpoint, m: ConsensusMessage, garbage: boolean): ConsensusMessage {
    if (m.type === "proposal") {
      const v = m.value as Record<string, Json> & { time: number };
      const value = garbage ? this.simApp.garble(v, this.rng) : { ...v, time: v.time + 1 + this.rng.int(0, 50) };
      const id = this.simApp.app.valueId(value);
      const { signature: _s, ...rest } = m;
      // A fresh proposal (validRound -1) that ignores the proof-of-lock the honest one carried.
      return signMessage<Proposal>({ ...rest, validRound: -1, value: value as unknown as Json, valueId: id }, e.key);
    }
    const { signature: _s, ...rest } = m;
    const valueId = garbage || m.valueId === null ? this.rng.hex64() : null;
    return signMessage<Vote>({ ...(rest as Omit<Vote, "signature">), valueId }, e.key);
  }

  /** Blocks with broken certificates, as a lying peer's block store gives them to its driver to serve. */
  private forgeBlocks(fromHeight: number, real: CertifiedBlock[]): CertifiedBlock[] {
    this.fault("byzantine-bad-catchup");
    const rng = this.rng;
    const base = (real[0] as CertifiedBlock | undefined) ?? {
      height: fromHeight,
      value: { height: fromHeight, time: 1, prevHash: GENESIS_HASH, inputs: [], verdicts: [], root: rng.hex64() },
      certificate: { channel: CHANNEL, cell: CELL, height: fromHeight, round: 0, valueId: rng.hex64(), signatures: [] },
    };
    const cert = base.certificate;
    const pick = rng.int(0, 3);
    const forged =
      pick === 0
        ? { ...base, certificate: { ...cert, signatures: cert.signatures.slice(0, Math.max(0, this.set.quorum - 1)) } }
        : pick === 1
          ? { ...base, value: { ...(base.value as Record<string, Json>), time: 12345 } }
          : pick === 2
            ? { ...base, certificate: { ...cert, signatures: cert.signatures.map((s) => ({ ...s, signature: rng.hex64() + rng.hex64() })) } }
            : { ...base, certificate: { ...cert, signatures: [...cert.signatures, ...cert.signatures] } };
    return [forged];
  }
}
