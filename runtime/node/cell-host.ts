/**
 * One hosted cell at one node: its consensus group driver with the node's
 * ports (peers over the net module, real timers, the SQLite ledger), its
 * mempool, and what the client API asks of it.
 *
 * - Submissions are admitted (the same admission blocks use), checked against
 *   the latest committed state (a dry run of the cell's pipeline), and stored
 *   in the ledger's mempool before the answer goes out: an acknowledged input
 *   survives a kill -9. What is refused is answered with a code, never dropped.
 * - Admitted submissions are gossiped to the group, so whichever validator
 *   proposes next can include them; after each commit the pending inputs are
 *   offered again (and the next block's worth re-checked against the new state).
 * - A block is committed with its state, verdicts, records and outputs in one
 *   ledger transaction (the driver's block store port); a restart rebuilds the
 *   state from the ledger and the driver resumes from its signer record and WAL.
 */
import type { Json } from "../core/canonical.js";
import { canonicalString } from "../core/canonical.js";
import type { KeyPair } from "../core/keys.js";
import type { ChannelPlan } from "../definition/plan.js";
import { executeBlock, plainState, type BlockInput, type CodeRunner, type Verdict } from "../cells/index.js";
import {
  admitSubmission,
  cachingVerifier,
  cellApplication,
  createGroupDriver,
  genesisCellChain,
  outputEntry,
  type CellApplication,
  type CellChainState,
  type CertifiedBlock,
  type ConsensusMessage,
  type GroupDriver,
  type SentOutput,
  type StoredHead,
  type TimeoutConfig,
  type ValidatorSet,
} from "../consensus/index.js";
import { inputId, type CellLedger } from "../ledger/index.js";
import type { InputStatus, NodeEvent, SubmitResult } from "./core-types.js";
import { deliveryRows, type DeliveryStore } from "./deliveries.js";
import { encodeWire, MAX_GOSSIP_INPUTS } from "./wire.js";
import type { Logger } from "./log.js";
import { createIdlePacer, type IdlePacer } from "./idle-pacer.js";

/** Timeouts of a node's groups: short, because blocks are how inputs get committed (ms). */
export const NODE_TIMEOUTS: TimeoutConfig = {
  propose: { base: 600, delta: 300 },
  prevote: { base: 300, delta: 150 },
  precommit: { base: 300, delta: 150 },
  commit: 15,
};

/** Refusals before any block, remembered for GET /v1/inputs/{id} (the ledger keeps what entered the pool). */
const REFUSALS_KEPT = 20_000;

/** What a cell host needs from the node around it. */
export interface CellHostDeps {
  plan: ChannelPlan;
  cellName: string;
  identity: KeyPair;
  validators: ValidatorSet;
  /** Public keys of the other validators of the group. */
  peers: readonly string[];
  ledger: CellLedger;
  runner: CodeRunner | undefined;
  /** Outputs delivered to this cell by upstream cells (absent for a source cell). */
  deliveries: DeliveryStore | undefined;
  send(peer: string, channel: "consensus" | "catchup" | "mempool", bytes: Uint8Array): void;
  log: Logger;
  emit(event: NodeEvent): void;
  hasSubscribers(): boolean;
  /** After a commit: the block and its numbered outputs (for delivery downstream). */
  committed(block: CertifiedBlock, outputs: readonly SentOutput[]): void;
  /** The group stopped at this node (a broken node: the node decides what to do). */
  fault(error: unknown): void;
  now(): number;
  /** Watches commits and refusals for metrics and the dashboard (local: never part of what validators compare). */
  observer?: CellObserver;
}

/** What a cell host reports to the node's metrics and dashboard. */
export interface CellObserver {
  /** A block committed here: its inputs as sent, and each input's verdict (messages when this node has them). */
  committed(channel: string, cell: string, block: { height: number; time: number; inputs: readonly Json[]; verdicts: ReadonlyArray<{ accepted: boolean; code?: string; rule?: string; message?: string }> }): void;
  /** A submission refused before any block. */
  refused(channel: string, cell: string, refusal: { code: string; rule?: string; message: string; submission: unknown }): void;
}

export class CellHost {
  readonly channel: string;
  readonly cell: string;
  readonly app: CellApplication;
  readonly driver: GroupDriver<CellChainState>;
  private head: StoredHead<CellChainState> | null;
  private readonly refusals = new Map<string, InputStatus>();
  private offerScheduled = false;
  /** Admitted submissions gossiped by peers, stored together at the end of this turn of the event loop. */
  private fromPeers: Array<{ submission: Json; time: number }> = [];
  /** Inputs or outputs were in the last offer (the idle pacer's question). */
  private hasWork = false;
  /** The last block this node stored carried no inputs (the group may be idle). */
  private lastBlockEmpty = false;
  /** The latest height a peer's consensus message named (the pacer's other question). */
  private peerStartedAt = 0;
  /** Holds an idle group's next height until there is work or a heartbeat passed (idle-pacer.ts). */
  readonly pacer: IdlePacer;
  /** Highest height a peer's consensus message named (catch-up readiness). */
  peerHeight = 0;
  /**
   * Peers whose consensus messages this node has read since it started: until
   * a quorum of the group has spoken, a node just started cannot know whether
   * it is behind, so it is not ready (node.ts, readiness).
   */
  readonly heard = new Set<string>();

  constructor(private readonly d: CellHostDeps) {
    this.channel = d.plan.channel;
    this.cell = d.cellName;
    const modules = d.runner === undefined ? {} : { code: () => d.runner };
    this.app = cellApplication(d.plan, d.cellName, modules, d.deliveries === undefined ? {} : { deliveries: (from, seq) => d.deliveries!.get(from, seq) });
    const restart = d.ledger.restart(this.app);
    const h = d.ledger.head();
    this.head = h.height === 0 ? null : { height: h.height, valueId: h.hash, state: restart.chain };
    const self = this;
    // Hold only a group that is idle: the last block was empty, nothing is offered, and no peer has
    // started the next height yet (its proposal or vote may have come before this node's commit
    // timeout was even due). A group with traffic is paced by its commit timeout alone, as before.
    this.pacer = createIdlePacer(() => this.hasWork || !this.lastBlockEmpty || this.peerStartedAt === this.chain.height + 1);
    this.driver = createGroupDriver<CellChainState>(
      {
        consensus: { channel: this.channel, cell: this.cell, validators: d.validators, self: d.identity, app: this.app, timeouts: NODE_TIMEOUTS, verifier: cachingVerifier() },
        genesis: genesisCellChain(),
      },
      {
        transport: {
          send: (peer, message) => d.send(peer, "catchup", encodeWire({ ch: this.channel, c: this.cell, m: message as unknown as Json })),
          broadcast: (message: ConsensusMessage) => {
            const bytes = encodeWire({ ch: this.channel, c: this.cell, m: message as unknown as Json });
            for (const p of d.peers) d.send(p, "consensus", bytes);
          },
        },
        timers: { schedule: (ms, fire, timeout) => this.pacer.schedule(ms, () => this.guard(fire), timeout) },
        clock: { now: () => d.now() },
        signer: d.ledger.signer,
        wal: d.ledger.wal,
        blocks: {
          head: () => self.head,
          append: (block, valueId, state) => self.append(block, valueId, state),
          read: (from, max) => d.ledger.blocks(from, max),
        },
        events: {
          stopped: (e) => d.fault(e),
          badPeer: (peer, reason, detail) => d.log.warn("bad peer", { channel: this.channel, cell: this.cell, peer, reason, detail }),
        },
      },
    );
  }

  /** The chain state at the head (genesis before the first block). */
  get chain(): CellChainState {
    return this.head?.state ?? genesisCellChain();
  }

  /** Pending inputs in this cell's mempool (metrics, the dashboard). */
  poolSize(): { count: number; bytes: number } {
    return this.d.ledger.mempool.size();
  }

  start(): void {
    this.guard(() => this.driver.start());
    this.offer();
  }

  stop(): void {
    this.driver.stop();
  }

  /** A consensus or catch-up message from a peer. */
  receive(from: string, m: unknown): void {
    const h = (m as { height?: unknown } | null)?.height;
    if (typeof h === "number" && Number.isSafeInteger(h) && this.d.peers.includes(from)) {
      if (h > this.peerHeight) this.peerHeight = h;
      this.heard.add(from);
    }
    // A peer's message of the next height: that peer started it, so this node starts it too, now if it
    // holds it, or as soon as its commit timeout is due.
    if (h === this.chain.height + 1 && this.d.peers.includes(from)) {
      this.peerStartedAt = h;
      if (this.pacer.holding) this.guard(() => this.pacer.wake());
    }
    this.guard(() => this.driver.receive(from, m));
  }

  /** Runs driver work; a fault stops the group and is reported, never thrown into the event loop. */
  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.d.fault(e);
    }
  }

  /** The driver's block store: one ledger transaction per block. */
  private append(block: CertifiedBlock, valueId: string, state: CellChainState): void {
    const value = block.value;
    const outputs = this.app.outputsOf(value) ?? [];
    const verdicts = this.app.verdictsOf(value);
    const outbox = deliveryRows(this.channel, this.cell, block.height, outputs);
    this.d.ledger.commit({ block, state, ...(verdicts ? { verdicts } : {}), outbox });
    this.lastBlockEmpty = ((value as { inputs?: unknown[] } | null)?.inputs?.length ?? 0) === 0;
    this.head = { height: block.height, valueId, state };
    // What follows a commit happens after the driver's step, not inside it.
    setImmediate(() => this.afterCommit(block, verdicts, outputs));
  }

  private afterCommit(block: CertifiedBlock, verdicts: readonly Verdict[] | undefined, outputs: readonly SentOutput[]): void {
    try {
      const value = block.value as unknown as { inputs: Json[]; verdicts: Array<{ accepted: boolean; code?: string; rule?: string }>; time: number };
      const rejected = value.verdicts.filter((v) => !v.accepted).length;
      this.d.log.info("block committed", { channel: this.channel, cell: this.cell, height: block.height, round: block.certificate.round, inputs: value.inputs.length, rejected });
      this.d.observer?.committed(this.channel, this.cell, { height: block.height, time: value.time, inputs: value.inputs, verdicts: verdicts ?? value.verdicts });
      this.d.emit({ type: "commit", channel: this.channel, cell: this.cell, height: block.height, hash: block.certificate.valueId, inputs: value.inputs.length, rejected, time: value.time });
      if (this.d.hasSubscribers()) {
        value.inputs.forEach((input, index) => {
          const v = verdicts?.[index] ?? (value.verdicts[index] as Verdict);
          const ev: NodeEvent = { type: "input", id: inputId(input), status: v.accepted ? "committed" : "rejected", channel: this.channel, cell: this.cell, height: block.height, index };
          if (!v.accepted) {
            ev.code = v.code;
            if (v.rule !== undefined) ev.rule = v.rule;
            if ("message" in v && typeof v.message === "string") ev.message = v.message;
          }
          this.d.emit(ev);
        });
      }
      this.d.deliveries?.prune(this.chain.received);
      this.d.committed(block, outputs);
      this.recheck();
      this.offer();
    } catch (e) {
      this.d.log.error("after commit", { channel: this.channel, cell: this.cell, error: String(e) });
    }
  }

  /** Offers the pending inputs to the driver (coalesced: at most once per turn of the event loop). */
  offer(): void {
    if (this.offerScheduled) return;
    this.offerScheduled = true;
    setImmediate(() => {
      this.offerScheduled = false;
      const limit = this.d.plan.blockLimits.maxInputs * 2;
      const list: Json[] = [];
      if (this.d.deliveries !== undefined) {
        for (const from of this.d.plan.cells[this.cell].upstream) {
          for (const o of this.d.deliveries.contiguousFrom(from, this.chain.received[from] ?? 0)) {
            if (list.length >= limit) break;
            list.push(outputEntry(o));
          }
        }
      }
      for (const p of this.d.ledger.mempool.pending(Math.max(0, limit - list.length))) list.push(p.submission);
      this.hasWork = list.length > 0;
      this.guard(() => this.driver.offer(list));
      if (this.hasWork) this.guard(() => this.pacer.wake());
    });
  }

  /** The inputs the next block would take, re-checked against the new state; those that now fail leave the pool. */
  private recheck(): void {
    const pending = this.d.ledger.mempool.pending(this.d.plan.blockLimits.maxInputs);
    if (pending.length === 0) return;
    const admitted: Array<{ id: string; input: BlockInput }> = [];
    for (const p of pending) {
      const a = admitSubmission(this.d.plan, this.cell, p.submission);
      if ("accepted" in a) this.d.ledger.mempool.reject(p.id, { code: a.code, message: a.message });
      else admitted.push({ id: p.id, input: a });
    }
    const verdicts = this.dryRun(admitted.map((a) => a.input));
    if (verdicts === undefined) return;
    verdicts.forEach((v, i) => {
      if (!v.accepted) this.d.ledger.mempool.reject(admitted[i].id, { code: v.code, message: v.message, ...(v.rule !== undefined ? { rule: v.rule } : {}) });
    });
  }

  /** The cell's pipeline over `inputs` against the latest committed state, as a block would run them; undefined when it cannot run. */
  private dryRun(inputs: BlockInput[]): Verdict[] | undefined {
    if (inputs.length === 0) return [];
    const chain = this.chain;
    try {
      const r = executeBlock(this.d.plan, this.cell, chain.cell, inputs, { height: chain.height + 1, time: Math.max(this.d.now(), chain.time + 1), hash: "0".repeat(64) }, this.d.runner === undefined ? {} : { code: () => this.d.runner });
      return r.verdicts;
    } catch (e) {
      this.d.log.warn("dry run failed", { channel: this.channel, cell: this.cell, error: String(e) });
      return undefined;
    }
  }

  /**
   * Admits, checks and stores submissions; the answers, in order. Durable:
   * every `pending` answer is in the ledger when this returns.
   */
  submit(subs: readonly unknown[]): SubmitResult[] {
    const results: SubmitResult[] = new Array<SubmitResult>(subs.length);
    const fresh: Array<{ at: number; id: string; sub: Json; input: BlockInput }> = [];
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i] as Json;
      let id: string;
      try {
        id = inputId(sub);
      } catch {
        id = "0".repeat(64);
      }
      const known = this.status(id);
      if (known !== undefined) {
        results[i] = resultOf(known);
        continue;
      }
      const a = admitSubmission(this.d.plan, this.cell, sub);
      if ("accepted" in a) {
        results[i] = this.refuse(id, a.code, a.message, undefined, sub);
        continue;
      }
      fresh.push({ at: i, id, sub, input: a });
    }
    const verdicts = this.dryRun(fresh.map((f) => f.input));
    const toAdd: typeof fresh = [];
    fresh.forEach((f, j) => {
      const v = verdicts?.[j];
      if (v !== undefined && !v.accepted) results[f.at] = this.refuse(f.id, v.code, v.message, v.rule, f.sub);
      else toAdd.push(f);
    });
    if (toAdd.length > 0) {
      const now = this.d.now();
      const added = this.d.ledger.mempool.addMany(toAdd.map((f) => ({ submission: f.sub, time: now })));
      const gossip: Json[] = [];
      added.forEach((r, j) => {
        const f = toAdd[j];
        if (r.status === "added") {
          results[f.at] = { id: f.id, status: "pending" };
          gossip.push(f.sub);
        } else if (r.status === "known") results[f.at] = resultOf(statusOf(this.channel, this.cell, r.input));
        else results[f.at] = this.refuse(f.id, r.code === "LEDGER_POOL_FULL" ? "POOL_FULL" : "TOO_LARGE", r.message, undefined, f.sub);
      });
      this.gossip(gossip);
      this.offer();
    }
    return results;
  }

  /**
   * Submissions a group peer admitted: admitted here too, stored, offered (no
   * answer goes back). What the peers' messages of one turn of the event loop
   * carry is stored in one transaction.
   */
  gossiped(inputs: readonly unknown[]): void {
    const now = this.d.now();
    const before = this.fromPeers.length;
    for (const sub of inputs) {
      if ("accepted" in admitSubmission(this.d.plan, this.cell, sub)) continue;
      this.fromPeers.push({ submission: sub as Json, time: now });
    }
    if (before === 0 && this.fromPeers.length > 0) setImmediate(() => this.storeGossiped());
  }

  private storeGossiped(): void {
    const items = this.fromPeers;
    this.fromPeers = [];
    if (items.length === 0) return;
    try {
      // Not acknowledged here (the peer that took them stored them durably before it answered): no fsync of their own.
      this.d.ledger.mempool.addMany(items, { durable: false });
    } catch (e) {
      this.d.log.error("gossiped inputs not stored", { channel: this.channel, cell: this.cell, inputs: items.length, error: String(e) });
      return;
    }
    this.offer();
  }

  private gossip(subs: Json[]): void {
    for (let i = 0; i < subs.length; i += MAX_GOSSIP_INPUTS) {
      const bytes = encodeWire({ ch: this.channel, c: this.cell, inputs: subs.slice(i, i + MAX_GOSSIP_INPUTS) });
      for (const p of this.d.peers) this.d.send(p, "mempool", bytes);
    }
  }

  private refuse(id: string, code: string, message: string, rule: string | undefined, submission: unknown): SubmitResult {
    this.d.observer?.refused(this.channel, this.cell, { code, message, submission, ...(rule !== undefined ? { rule } : {}) });
    const s: InputStatus = { id, status: "rejected", channel: this.channel, cell: this.cell, code, message, ...(rule !== undefined ? { rule } : {}) };
    if (this.refusals.size >= REFUSALS_KEPT) this.refusals.delete(this.refusals.keys().next().value as string);
    this.refusals.set(id, s);
    return resultOf(s);
  }

  /** What the node knows of input `id` in this cell. */
  status(id: string): InputStatus | undefined {
    const row = this.d.ledger.mempool.status(id);
    if (row !== null) return statusOf(this.channel, this.cell, row);
    return this.refusals.get(id);
  }

  /** The state as plain JSON without records (the API reads records one at a time). */
  state(): Json {
    const s = plainState(this.chain.cell) as Record<string, Json>;
    delete s.records;
    return s;
  }

  record(key: string): Json | undefined {
    const recs = (this.chain.cell as { records?: Record<string, Json> }).records;
    if (recs === undefined || !Object.prototype.hasOwnProperty.call(recs, key)) return undefined;
    return JSON.parse(canonicalString(recs[key])) as Json;
  }
}

function statusOf(channel: string, cell: string, r: { id: string; status: InputStatus["status"]; height: number | null; index: number | null; code: string | null; rule: string | null; message: string | null }): InputStatus {
  const s: InputStatus = { id: r.id, status: r.status, channel, cell };
  if (r.height !== null) s.height = r.height;
  if (r.index !== null) s.index = r.index;
  if (r.code !== null) s.code = r.code;
  if (r.rule !== null) s.rule = r.rule;
  if (r.message !== null) s.message = r.message;
  return s;
}

function resultOf(s: InputStatus): SubmitResult {
  const r: SubmitResult = { id: s.id, status: s.status };
  if (s.code !== undefined) r.code = s.code;
  if (s.rule !== undefined) r.rule = s.rule;
  if (s.message !== undefined) r.message = s.message;
  return r;
}
