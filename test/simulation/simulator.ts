/**
 * The seeded simulator: a whole group in one process on a virtual clock.
 * Every node runs the real consensus core (`step`) and a small driver that
 * executes its effects the way a node would (persist before send, timers,
 * WAL, ledger, catch-up), over a network that delays, drops, duplicates and
 * reorders messages and can be partitioned. Faults come from the schedule
 * (schedule.ts); checks run at the end (checker.ts). One seed, one run.
 */
import { keyPairFromName, type KeyPair } from "../../runtime/core/keys.js";
import type { Json } from "../../runtime/core/canonical.js";
import type { GroupPlan } from "../../runtime/definition/plan.js";
import {
  cachingVerifier,
  createState,
  GENESIS_HASH,
  gossipMessages,
  MemorySignerStore,
  MemoryWal,
  restore,
  signMessage,
  step,
  validatorSet,
  type CertifiedBlock,
  type ConsensusConfig,
  type ConsensusEffect,
  type ConsensusEvent,
  type ConsensusMessage,
  type ConsensusState,
  type Proposal,
  type TimeoutRef,
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
  events: number;
  virtualMs: number;
  signatureChecks: number;
}

type Payload = { kind: "msg"; frame: unknown } | { kind: "catchup-req"; fromHeight: number } | { kind: "catchup-resp"; blocks: unknown[] };

type Item =
  | { kind: "deliver"; to: number; from: number; payload: Payload }
  | { kind: "timeout"; ep: number; epoch: number; timeout: TimeoutRef }
  | { kind: "crash"; ep: number; torn: "clean" | "lose" | "tear" }
  | { kind: "restart"; ep: number }
  | { kind: "pause"; ep: number; until: number }
  | { kind: "unpause"; ep: number }
  | { kind: "input" }
  | { kind: "tick" }
  | { kind: "heal" };

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
  config: ConsensusConfig<unknown>;
  state: ConsensusState<unknown>;
  store: MemorySignerStore;
  wal: MemoryWal;
  ledger: LedgerEntry[];
  up: boolean;
  epoch: number;
  crashing: "clean" | "lose" | "tear" | null;
  pausedUntil: number;
  deferred: Item[];
  skew: number;
  lastHeightAt: number;
  lastCatchupAt: number;
  sent: ConsensusMessage[];
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
    const ep: Endpoint = {
      ep: this.eps.length,
      index,
      name: `v${index}${s.mode === "fork" && !honest ? (side === 0 ? "L" : "R") : ""}`,
      key: KEYS[index],
      honest,
      side,
      config,
      state: createState(config, { height: 1, prevHash: GENESIS_HASH, app: this.simApp.genesis, signer: null }),
      store: new MemorySignerStore(),
      wal: new MemoryWal(),
      ledger: [],
      up: true,
      epoch: 0,
      crashing: null,
      pausedUntil: 0,
      deferred: [],
      skew: s.skew[index] + (side === 1 && !honest ? 7 : 0),
      lastHeightAt: 0,
      lastCatchupAt: -Infinity,
      sent: [],
      disconnected: new Set(),
      pool: [],
      misbehaviour: honest ? [] : s.misbehaviour,
    };
    this.eps.push(ep);
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
    this.push(this.schedule.rebroadcast, { kind: "tick" });
    this.push(s.healAt, { kind: "heal" });
    for (const e of this.eps) this.stepNode(e, { kind: "start", now: this.clock(e) });

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
          `liveness: ${stuck.map((e) => `${e.name} at height ${e.ledger.length + 1} round ${e.state.round}`).join(", ")} made no commit within ${LIVENESS_ROUNDS} rounds of the last heal (t=${s.healAt}ms, target height ${this.target})`,
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
        if (!e.up || this.blocked(item.from, item.to) || e.disconnected.has(item.from)) return;
        if (e.pausedUntil > this.now) {
          e.deferred.push(item);
          return;
        }
        this.deliver(e, item.from, item.payload);
        return;
      }
      case "timeout": {
        const e = this.eps[item.ep];
        if (!e.up || item.epoch !== e.epoch) return;
        if (e.pausedUntil > this.now) {
          e.deferred.push(item);
          return;
        }
        this.stepNode(e, { kind: "timeout", timeout: item.timeout, now: this.clock(e) });
        return;
      }
      case "crash": {
        const e = this.eps[item.ep];
        if (!e.up) return;
        // The crash lands inside the node's next step, between two of its effects (see execute).
        e.crashing = item.torn;
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
      case "tick": {
        for (const e of this.eps) {
          if (!e.up || e.pausedUntil > this.now || this.now - e.lastHeightAt < this.schedule.rebroadcast) continue;
          for (const m of gossipMessages(e.state)) this.broadcast(e, m, true);
        }
        this.push(this.now + this.schedule.rebroadcast, { kind: "tick" });
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
    const rMax = Math.max(0, ...honest.map((e) => e.state.round));
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
    this.stepNode(e, { kind: "inputs", inputs: e.pool, now: this.clock(e) });
  }

  private deliver(e: Endpoint, from: number, p: Payload): void {
    if (p.kind === "msg") {
      this.stepNode(e, { kind: "message", frame: p.frame, now: this.clock(e), from: String(from) });
    } else if (p.kind === "catchup-req") {
      const blocks = e.ledger.slice(p.fromHeight - 1, p.fromHeight - 1 + 8).map((l) => l.block as unknown);
      if (e.misbehaviour.includes("bad-catchup")) this.send(e.ep, from, { kind: "catchup-resp", blocks: this.forgeBlocks(p.fromHeight, blocks) });
      else if (blocks.length > 0) this.send(e.ep, from, { kind: "catchup-resp", blocks });
    } else {
      for (const b of p.blocks) {
        if (!e.up || e.disconnected.has(from)) return;
        this.stepNode(e, { kind: "certified-block", block: b, now: this.clock(e), from: String(from) });
      }
    }
  }

  stepNode(e: Endpoint, ev: ConsensusEvent): void {
    const r = step(e.state, ev);
    e.state = r.state;
    this.execute(e, r.effects);
  }

  /** Executes effects in order; a pending crash lands before effect k, tearing it if it is a write. */
  private execute(e: Endpoint, effects: ConsensusEffect[]): void {
    const k = e.crashing ? this.rng.int(0, effects.length) : effects.length;
    for (let i = 0; i < k; i++) this.effect(e, effects[i]);
    if (e.crashing) {
      const torn = e.crashing;
      const cut = effects[k];
      if (cut && torn !== "clean") {
        if (cut.kind === "persist") e.store.crashDuring(cut.record, torn);
        if (cut.kind === "wal") e.wal.crashDuring(cut.entry, torn);
      }
      e.crashing = null;
      e.up = false;
      e.epoch++;
      e.deferred = [];
      e.pausedUntil = 0;
    }
  }

  private restart(e: Endpoint): void {
    if (e.up && e.crashing) this.execute(e, []); // the crash never met a step: it lands now
    if (e.up) return;
    e.up = true;
    e.sent = [];
    const last = e.ledger[e.ledger.length - 1];
    const point = { height: e.ledger.length + 1, prevHash: last ? last.valueId : GENESIS_HASH, app: last ? last.app : this.simApp.genesis, signer: e.store.load() };
    const entries = e.wal.entries(point.height);
    for (const w of entries) {
      if (w.event.kind === "message" && (w.event.frame as ConsensusMessage).validator === e.key.publicKey) e.sent.push(w.event.frame as ConsensusMessage);
    }
    const r = restore(e.config, point, entries, this.clock(e));
    e.state = r.state;
    e.lastHeightAt = this.now;
    this.execute(e, r.effects);
    if (e.up) this.offerInputs(e);
  }

  private effect(e: Endpoint, f: ConsensusEffect): void {
    switch (f.kind) {
      case "persist":
        e.store.save(f.record);
        return;
      case "wal":
        e.wal.append(f.entry);
        return;
      case "broadcast":
        if (e.honest) this.trackSigned(e, f.message);
        e.sent.push(f.message);
        this.broadcast(e, f.message, false);
        return;
      case "schedule-timeout":
        this.push(this.now + f.duration, { kind: "timeout", ep: e.ep, epoch: e.epoch, timeout: f.timeout });
        return;
      case "decide": {
        const h = f.block.height;
        if (h !== e.ledger.length + 1) {
          this.violations.push(`${e.name} decided height ${h} with ${e.ledger.length} blocks stored`);
          return;
        }
        const prev = e.ledger.length > 0 ? e.ledger[e.ledger.length - 1].app : this.simApp.genesis;
        e.ledger.push({ block: f.block, valueId: f.valueId, app: this.simApp.app.applyValue(prev, f.block.value), round: f.block.certificate.round, source: f.source });
        e.wal.truncateBelow(h + 1);
        e.lastHeightAt = this.now;
        e.sent = e.sent.filter((m) => m.height > h);
        return;
      }
      case "evidence":
        this.evidence++;
        return;
      case "request-catchup": {
        if (this.now - e.lastCatchupAt < 100) return;
        e.lastCatchupAt = this.now;
        const index = this.set.index.get(f.peer);
        const peer = this.eps.find((x) => x.index === index && x.side === e.side && x.ep !== e.ep) ?? this.eps.find((x) => x.index === index);
        if (peer) this.send(e.ep, peer.ep, { kind: "catchup-req", fromHeight: f.fromHeight });
        return;
      }
      case "bad-peer": {
        const peer = Number(f.peer);
        this.badPeers++;
        if (this.eps[peer]?.honest) this.violations.push(`${e.name} disconnected honest ${this.eps[peer].name}: ${f.detail}`);
        e.disconnected.add(peer);
        return;
      }
      case "drop":
        this.drops[f.reason] = (this.drops[f.reason] ?? 0) + 1;
        return;
    }
  }

  private trackSigned(e: Endpoint, m: ConsensusMessage): void {
    const k = `${e.name}/${m.height}/${m.round}/${m.type}`;
    const v = `${m.valueId}/${m.type === "proposal" ? m.validRound : ""}`;
    const had = this.signed.get(k);
    if (had === undefined) this.signed.set(k, v);
    else if (had !== v) this.violations.push(`honest ${e.name} signed two ${m.type}s at height ${m.height} round ${m.round}: ${had} and ${v}`);
  }

  private broadcast(e: Endpoint, m: ConsensusMessage, again: boolean): void {
    for (const to of this.eps) {
      if (to.index === e.index) continue;
      if (!e.honest && !again) {
        for (const frame of this.mutate(e, m, to.ep)) this.send(e.ep, to.ep, { kind: "msg", frame });
      } else this.send(e.ep, to.ep, { kind: "msg", frame: m });
    }
  }

  private send(from: number, to: number, payload: Payload): void {
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
    this.push(this.now + delay(), { kind: "deliver", to, from, payload });
    if (net.duplicate > 0 && this.rng.chance(net.duplicate)) {
      this.fault("duplicated");
      this.push(this.now + delay(), { kind: "deliver", to, from, payload });
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
    if (m.height !== e.state.height) return null;
    return e.state.rounds[m.round]?.proposals[0]?.valueId ?? null;
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

  /** Blocks with broken certificates, as a lying peer serves them. */
  private forgeBlocks(fromHeight: number, real: unknown[]): unknown[] {
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
