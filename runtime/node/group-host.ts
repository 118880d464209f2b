/**
 * What every hosted chain of a node shares, whatever its application: the
 * group driver with the node's ports (peers over the net module, real timers,
 * the SQLite ledger), the durable mempool, gossip of admitted submissions,
 * the idle pacer, commit events and input statuses. A cell of the pipeline
 * (cell-host.ts) and the token cell (token-host.ts) are the two kinds; each
 * plugs in its application, its ledger codec and four ports: how one
 * submission is admitted, how admitted ones are checked against the head
 * state, what a commit stores beside the block, and what follows a commit.
 *
 * - Submissions are admitted and checked before the answer goes out, and
 *   stored in the ledger's mempool first: an acknowledged input survives a
 *   kill -9. What is refused is answered with a code, never dropped.
 * - Admitted submissions are gossiped to the group, so whichever validator
 *   proposes next can include them; after each commit the pending inputs are
 *   offered again (and re-checked against the new state by the kind).
 * - A block is committed with what it changes in one ledger transaction (the
 *   driver's block store port); a restart rebuilds the state from the ledger
 *   through the kind's codec and the driver resumes from its signer record and WAL.
 */
import type { Json } from "../core/canonical.js";
import type { KeyPair } from "../core/keys.js";
import type { ChannelPlan } from "../definition/plan.js";
import {
  cachingVerifier,
  createGroupDriver,
  type Application,
  type CertifiedBlock,
  type ConsensusMessage,
  type GroupDriver,
  type SentOutput,
  type StoredHead,
  type TimeoutConfig,
  type ValidatorSet,
} from "../consensus/index.js";
import { identify, inputId, NO_ENCODING_ID, type BlockCommit, type CellLedger, type ChainBase, type Identity } from "../ledger/index.js";
import type { InputStatus, NodeEvent, SubmitResult } from "./core-types.js";
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

/** What every hosted chain needs from the node around it. */
export interface GroupHostDeps {
  plan: ChannelPlan;
  cellName: string;
  identity: KeyPair;
  validators: ValidatorSet;
  /** Public keys of the other validators of the group. */
  peers: readonly string[];
  send(peer: string, channel: "consensus" | "catchup" | "mempool", bytes: Uint8Array): void;
  log: Logger;
  emit(event: NodeEvent): void;
  hasSubscribers(): boolean;
  /** After a commit: the block and its numbered outputs (for delivery downstream; none for the token). */
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
  /** Submissions checked for admission, from clients or from peers' gossip (the work a node does per input before any block). */
  admitted?(channel: string, cell: string, source: "client" | "peer", count: number): void;
}

/** A refusal before any block (admission, a check against the head, the pool). */
export interface HostRefusal {
  code: string;
  message: string;
  rule?: string;
  /** Decided against a view that may be stale (the token as this node follows it): answered, not remembered, so the same submission sent again is checked again. */
  transient?: true;
}

/** A block verdict with what this node knows of it (a message when it executed the block). */
export type HostVerdict = { accepted: true } | { accepted: false; code: string; rule?: string; message?: string };

/** What a kind stores with a block, and hands to what follows its commit. */
export interface CommitRows<S> {
  commit: Omit<BlockCommit<S>, "block" | "state">;
  /** Full verdicts for clients, when this node has them. */
  verdicts: readonly HostVerdict[] | undefined;
  outputs: readonly SentOutput[];
  /** The kind's own events of the block (the token's Transfer and Approval), for `afterCommitted`. */
  events?: readonly unknown[];
}

/** A hosted chain of one node: the shared part (see the file comment). */
export abstract class GroupHost<S extends ChainBase> {
  readonly channel: string;
  readonly cell: string;
  readonly driver: GroupDriver<S>;
  private head: StoredHead<S> | null;
  private readonly refusals = new Map<string, InputStatus>();
  private offerScheduled = false;
  /** Admitted submissions gossiped by peers, stored together at the end of this turn of the event loop. */
  private fromPeers: Array<{ submission: Json; time: number; identity: Identity }> = [];
  /** Ids of fromPeers, so a second peer gossiping one of them this turn costs no admission. */
  private readonly fromPeerIds = new Set<string>();
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

  constructor(
    protected readonly g: GroupHostDeps,
    app: Application<S>,
    protected readonly chainLedger: CellLedger<S>,
    private readonly genesis: () => S,
  ) {
    this.channel = g.plan.channel;
    this.cell = g.cellName;
    const restart = chainLedger.restart(app);
    const h = chainLedger.head();
    this.head = h.height === 0 ? null : { height: h.height, valueId: h.hash, state: restart.chain };
    const self = this;
    // Hold only a group that is idle: nothing is offered, and no peer has started the next height yet
    // (its proposal or vote may have come before this node's commit timeout was even due). A cell fed
    // by upstream cells also goes on after a block with inputs: their outputs reach its validators at
    // different times, and holding there stalled the pipeline's downstream cell. A cell that takes
    // submissions holds after any block: what is submitted is gossiped to every validator and wakes
    // it, and not holding made every block with inputs followed by an empty one (a third of the
    // heights at 20 inputs/s, each costing its full CPU: docs/node.md, "A second round").
    this.pacer = createIdlePacer(() => this.hasWork || (!this.lastBlockEmpty && this.fedByUpstream()) || this.peerStartedAt === this.chain.height + 1);
    this.driver = createGroupDriver<S>(
      {
        consensus: { channel: this.channel, cell: this.cell, validators: g.validators, self: g.identity, app, timeouts: NODE_TIMEOUTS, verifier: cachingVerifier() },
        genesis: genesis(),
      },
      {
        transport: {
          send: (peer, message) => g.send(peer, "catchup", encodeWire({ ch: this.channel, c: this.cell, m: message as unknown as Json })),
          broadcast: (message: ConsensusMessage) => {
            const bytes = encodeWire({ ch: this.channel, c: this.cell, m: message as unknown as Json });
            for (const p of g.peers) g.send(p, "consensus", bytes);
          },
        },
        timers: { schedule: (ms, fire, timeout) => this.pacer.schedule(ms, () => this.guard(fire), timeout) },
        clock: { now: () => g.now() },
        signer: chainLedger.signer,
        wal: chainLedger.wal,
        blocks: {
          head: () => self.head,
          append: (block, valueId, state) => self.append(block, valueId, state),
          read: (from, max) => chainLedger.blocks(from, max),
        },
        events: {
          stopped: (e) => g.fault(e),
          badPeer: (peer, reason, detail) => g.log.warn("bad peer", { channel: this.channel, cell: this.cell, peer, reason, detail }),
        },
      },
    );
  }

  // ---- the kind's ports ----

  /** Admission of one submission (the same function its blocks use): a refusal, or undefined when it may wait for a block. */
  protected abstract admit(sub: Json): HostRefusal | undefined;
  /** Admitted submissions checked against the head state, in order: a refusal each, or undefined where it may wait. */
  protected abstract check(subs: readonly Json[]): ReadonlyArray<HostRefusal | undefined>;
  /** What the ledger stores with `block` beside it, and its verdicts and outputs. */
  protected abstract rowsOf(block: CertifiedBlock, state: S): CommitRows<S>;
  /** After a commit's events went out: the kind's own follow-up (events, deliveries). */
  protected afterCommitted(_block: CertifiedBlock, _rows: CommitRows<S>): void {}
  /** After a commit: pending inputs that can no longer be committed leave the pool (each with its refusal). */
  protected abstract recheck(): void;
  /** The block and the state after it are in the ledger (synchronously, before anything reads the new head). */
  protected stored(_block: CertifiedBlock, _state: S): void {}
  /** A submission was stored as pending (the token's nonce policy learns of it). */
  protected added(_sub: Json, _id: string): void {}
  /** Inputs offered to the driver before the mempool's (a downstream cell's outputs of upstream cells). */
  protected offeredFirst(_limit: number): Json[] {
    return [];
  }

  /** The definition the next block runs (a cell's changes at an upgrade's activation height). */
  get plan(): ChannelPlan {
    return this.g.plan;
  }

  /** Versions staged here and not yet in force (a cell's upgrades at a height; none by default). */
  staged(): ReadonlyArray<{ from: number; plan: ChannelPlan; atSnapshot?: number }> {
    return [];
  }

  /** The committed state as plain JSON (records excluded). */
  abstract state(): Json;
  /** One record of the state, or undefined. */
  abstract record(key: string): Json | undefined;
  /** The live state, read in place for the dashboard (never copied; never changed by the reader). */
  abstract liveState(): unknown;

  // ---- the shared part ----

  /** The chain state at the head (genesis before the first block). */
  get chain(): S {
    return this.head?.state ?? this.genesis();
  }

  /** The ledger of this chain (its mempool, blocks, head). */
  get ledger(): CellLedger<S> {
    return this.chainLedger;
  }

  /** Pending inputs in this cell's mempool (metrics, the dashboard). */
  poolSize(): { count: number; bytes: number } {
    return this.chainLedger.mempool.size();
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
    if (typeof h === "number" && Number.isSafeInteger(h) && this.g.peers.includes(from)) {
      if (h > this.peerHeight) this.peerHeight = h;
      this.heard.add(from);
    }
    // A peer's message of the next height: that peer started it, so this node starts it too, now if it
    // holds it, or as soon as its commit timeout is due.
    if (h === this.chain.height + 1 && this.g.peers.includes(from)) {
      this.peerStartedAt = h;
      if (this.pacer.holding) this.guard(() => this.pacer.wake());
    }
    this.guard(() => this.driver.receive(from, m));
  }

  /** Whether the cell takes outputs of upstream cells (their arrival differs between validators). */
  protected fedByUpstream(): boolean {
    return false;
  }

  /** Runs driver work; a fault stops the group and is reported, never thrown into the event loop. */
  protected guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.g.fault(e);
    }
  }

  /** The driver's block store: one ledger transaction per block. */
  private append(block: CertifiedBlock, valueId: string, state: S): void {
    const rows = this.rowsOf(block, state);
    this.chainLedger.commit({ block, state, ...rows.commit });
    this.stored(block, state);
    this.lastBlockEmpty = ((block.value as { inputs?: unknown[] } | null)?.inputs?.length ?? 0) === 0;
    this.head = { height: block.height, valueId, state };
    // What follows a commit happens after the driver's step, not inside it.
    setImmediate(() => this.afterCommit(block, rows));
  }

  private afterCommit(block: CertifiedBlock, rows: CommitRows<S>): void {
    try {
      const value = block.value as unknown as { inputs: Json[]; verdicts: HostVerdict[]; time: number };
      const verdicts = rows.verdicts;
      const rejected = value.verdicts.filter((v) => !v.accepted).length;
      this.g.log.info("block committed", { channel: this.channel, cell: this.cell, height: block.height, round: block.certificate.round, inputs: value.inputs.length, rejected });
      this.g.observer?.committed(this.channel, this.cell, { height: block.height, time: value.time, inputs: value.inputs, verdicts: verdicts ?? value.verdicts });
      this.g.emit({ type: "commit", channel: this.channel, cell: this.cell, height: block.height, hash: block.certificate.valueId, inputs: value.inputs.length, rejected, time: value.time });
      if (this.g.hasSubscribers()) {
        value.inputs.forEach((input, index) => {
          const v = verdicts?.[index] ?? value.verdicts[index];
          const ev: NodeEvent = { type: "input", id: inputId(input), status: v.accepted ? "committed" : "rejected", channel: this.channel, cell: this.cell, height: block.height, index };
          if (!v.accepted) {
            ev.code = v.code;
            if (v.rule !== undefined) ev.rule = v.rule;
            if (typeof v.message === "string") ev.message = v.message;
          }
          this.g.emit(ev);
        });
      }
      this.afterCommitted(block, rows);
      this.g.committed(block, rows.outputs);
      this.recheck();
      this.offer();
    } catch (e) {
      this.g.log.error("after commit", { channel: this.channel, cell: this.cell, error: String(e) });
    }
  }

  /** Offers the pending inputs to the driver (coalesced: at most once per turn of the event loop). */
  offer(): void {
    if (this.offerScheduled) return;
    this.offerScheduled = true;
    setImmediate(() => {
      this.offerScheduled = false;
      const limit = this.plan.blockLimits.maxInputs * 2;
      const list: Json[] = this.offeredFirst(limit);
      for (const p of this.chainLedger.mempool.pending(Math.max(0, limit - list.length))) list.push(p.submission);
      this.hasWork = list.length > 0;
      this.guard(() => this.driver.offer(list));
      if (this.hasWork) this.guard(() => this.pacer.wake());
    });
  }

  /**
   * Admits, checks and stores submissions; the answers, in order. Durable:
   * every `pending` answer is in the ledger when this returns.
   */
  submit(subs: readonly unknown[]): SubmitResult[] {
    const results: SubmitResult[] = new Array<SubmitResult>(subs.length);
    const fresh: Array<{ at: number; id: string; sub: Json; identity: Identity | undefined }> = [];
    let admittedHere = 0;
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i] as Json;
      // Id and canonical text made once, here: the pool's add takes them instead of encoding the submission again.
      let identity: Identity | undefined;
      try {
        identity = identify(sub);
      } catch {
        identity = undefined;
      }
      const id = identity?.id ?? NO_ENCODING_ID;
      const known = this.status(id);
      if (known !== undefined) {
        results[i] = resultOf(known);
        continue;
      }
      admittedHere++;
      const refusal = this.admit(sub);
      if (refusal !== undefined) {
        results[i] = this.refuse(id, refusal.code, refusal.message, refusal.rule, sub);
        continue;
      }
      fresh.push({ at: i, id, sub, identity });
    }
    if (admittedHere > 0) this.g.observer?.admitted?.(this.channel, this.cell, "client", admittedHere);
    const checks = fresh.length === 0 ? [] : this.check(fresh.map((f) => f.sub));
    const toAdd: typeof fresh = [];
    fresh.forEach((f, j) => {
      const r = checks[j];
      if (r !== undefined) results[f.at] = this.refuse(f.id, r.code, r.message, r.rule, f.sub, r.transient === true);
      else toAdd.push(f);
    });
    if (toAdd.length > 0) {
      const now = this.g.now();
      const added = this.chainLedger.mempool.addMany(toAdd.map((f) => ({ submission: f.sub, time: now, identity: f.identity })));
      const gossip: Json[] = [];
      added.forEach((r, j) => {
        const f = toAdd[j];
        if (r.status === "added") {
          results[f.at] = { id: f.id, status: "pending" };
          this.added(f.sub, f.id);
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
    const now = this.g.now();
    const before = this.fromPeers.length;
    let checked = 0;
    for (const sub of inputs) {
      // What this node holds pending, or took from another peer this turn, costs no second admission: a
      // client that sends one input to several validators makes each of them gossip it. A copy that comes
      // after its input was committed here is admitted, then found known by the pool (a memory of settled
      // ids to skip those too looked 2 to 6% dearer in node CPU on the meter network: docs/node.md).
      // The identity (id and canonical text) is handed on to the pool's add, which would otherwise make it again.
      let identity: Identity;
      try {
        identity = identify(sub as Json);
      } catch {
        continue; // not JSON: nothing a pool could hold
      }
      if (this.fromPeerIds.has(identity.id) || this.chainLedger.mempool.pendingEntry(identity.id) !== undefined) continue;
      checked++;
      if (this.admit(sub as Json) !== undefined) continue;
      this.fromPeerIds.add(identity.id);
      this.fromPeers.push({ submission: sub as Json, time: now, identity });
    }
    if (checked > 0) this.g.observer?.admitted?.(this.channel, this.cell, "peer", checked);
    if (before === 0 && this.fromPeers.length > 0) setImmediate(() => this.storeGossiped());
  }

  private storeGossiped(): void {
    const items = this.fromPeers;
    this.fromPeers = [];
    this.fromPeerIds.clear();
    if (items.length === 0) return;
    let added;
    try {
      // Not acknowledged here (the peer that took them stored them durably before it answered): no fsync of their own.
      added = this.chainLedger.mempool.addMany(items, { durable: false });
    } catch (e) {
      this.g.log.error("gossiped inputs not stored", { channel: this.channel, cell: this.cell, inputs: items.length, error: String(e) });
      return;
    }
    added.forEach((r, i) => {
      if (r.status === "added") this.added(items[i].submission, r.id);
    });
    this.offer();
  }

  private gossip(subs: Json[]): void {
    for (let i = 0; i < subs.length; i += MAX_GOSSIP_INPUTS) {
      const bytes = encodeWire({ ch: this.channel, c: this.cell, inputs: subs.slice(i, i + MAX_GOSSIP_INPUTS) });
      for (const p of this.g.peers) this.g.send(p, "mempool", bytes);
    }
  }

  protected refuse(id: string, code: string, message: string, rule: string | undefined, submission: unknown, transient = false): SubmitResult {
    this.g.observer?.refused(this.channel, this.cell, { code, message, submission, ...(rule !== undefined ? { rule } : {}) });
    const s: InputStatus = { id, status: "rejected", channel: this.channel, cell: this.cell, code, message, ...(rule !== undefined ? { rule } : {}) };
    if (transient) return resultOf(s);
    if (this.refusals.size >= REFUSALS_KEPT) this.refusals.delete(this.refusals.keys().next().value as string);
    this.refusals.set(id, s);
    return resultOf(s);
  }

  /** What the node knows of input `id` in this cell. */
  status(id: string): InputStatus | undefined {
    const row = this.chainLedger.mempool.status(id);
    if (row !== null) return statusOf(this.channel, this.cell, row);
    return this.refusals.get(id);
  }
}

export function statusOf(channel: string, cell: string, r: { id: string; status: InputStatus["status"]; height: number | null; index: number | null; code: string | null; rule: string | null; message: string | null }): InputStatus {
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
