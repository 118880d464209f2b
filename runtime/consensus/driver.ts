/**
 * The group driver: the one host of `step`'s effects. It owns one node's
 * consensus state for one (channel, cell) group, turns what arrives (a start
 * or restart, peer frames, timers, pending inputs, catch-up requests and
 * responses) into events, and executes the effects in order through the ports
 * (ports.ts): a `persist` is durable before anything after it runs, blocks
 * are stored before the WAL forgets them, timers of an earlier incarnation
 * never fire into this one. What shipped nodes, `runLocalGroup` and the
 * seeded simulator run is this code (docs/consensus.md, "The group driver").
 */
import type { Json } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import {
  CATCHUP_BLOCK_OVERHEAD,
  CATCHUP_MAX_BLOCKS,
  catchupRequest,
  DEFAULT_CATCHUP_LIMITS,
  packCatchupResponse,
  parseCatchupRequest,
  parseCatchupResponse,
  type CatchupLimits,
} from "./catchup.js";
import { gossipMessages } from "./gossip.js";
import { DEFAULT_MAX_FRAME_BYTES } from "./messages.js";
import type { GroupPorts } from "./ports.js";
import { restore } from "./replay.js";
import { GENESIS_HASH, type ConsensusConfig, type ConsensusState } from "./state.js";
import { step } from "./step.js";
import type { CertifiedBlock, ConsensusEffect, ConsensusEvent, DropReason } from "./types.js";

/** What is fixed for the life of a driver. Times are ms of the host's clock. */
export interface GroupDriverConfig<S> {
  consensus: ConsensusConfig<S>;
  /** The application state before height 1 (used while the block store is empty). */
  genesis: S;
  /** Bounds on catch-up responses asked for, served and accepted (default 16 blocks, 4 MiB). */
  catchup?: Partial<CatchupLimits>;
  /** Least time between two catch-up requests this node sends (default 100). */
  catchupIntervalMs?: number;
  /** How long after a request its response is still accepted (default 10,000). */
  catchupWindowMs?: number;
  /** Requests served per peer: a burst of `serveBurst` (default 4), then one per `serveIntervalMs` (default 50). */
  serveBurst?: number;
  serveIntervalMs?: number;
  /**
   * While the height has not moved for this long, re-send the messages
   * `gossipMessages` lists, checked as often (default 1,000; 0 never). Each
   * re-send without progress doubles the wait before the next, up to 8 times
   * this interval.
   */
  gossipIntervalMs?: number;
}

/** Counts since the driver was made (metrics). */
export interface DriverCounters {
  drops: Partial<Record<DropReason, number>>;
  decided: number;
  evidence: number;
  badPeers: number;
  /** Catch-up requests sent, and those the interval held back. */
  catchupRequested: number;
  catchupThrottled: number;
  /** Catch-up responses sent to peers. */
  catchupServed: number;
  /** Messages re-sent by gossip. */
  gossiped: number;
}

/** One node's consensus for one group, driven through its ports. */
export interface GroupDriver<S> {
  /**
   * Starts, or restarts, from the ports' stores: the block store's head, the
   * signer store's record and the WAL of the next height (a fresh node starts
   * at genesis). Inputs offered while stopped go to the first proposal.
   */
  start(): void;
  /**
   * A frame from peer `from` (a JSON value, as JSON.parse returns it): a
   * consensus message, a catch-up request or response. Never throws because
   * of what the peer sent; throws only when this node is broken (see `fault`).
   */
  receive(from: string, frame: unknown): void;
  /** The host's pending inputs, for the next proposal this node makes (kept for `start` while stopped). */
  offer(inputs: readonly Json[]): void;
  /** Stops without a fault (shutdown): later frames and timers are ignored until `start`. */
  stop(): void;
  /** The consensus state (null before the first start). */
  readonly state: ConsensusState<S> | null;
  /** Between `start` and `stop` or a fault. */
  readonly running: boolean;
  /**
   * What stopped the group, or null: CONSENSUS_APP_FAULT, CONSENSUS_APP_DIVERGED,
   * CONSENSUS_STUCK or CONSENSUS_BLOCK_STORE_GAP, or whatever a port threw. It was
   * reported to `events.stopped` and thrown to the caller of the call that met it.
   */
  readonly fault: unknown;
  readonly counters: DriverCounters;
}

const DEFAULTS = { catchupIntervalMs: 100, catchupWindowMs: 10_000, serveBurst: 4, serveIntervalMs: 50, gossipIntervalMs: 1000 };
/** Requests remembered per peer (the oldest is forgotten first). */
const ASKED_PER_PEER = 4;
/** Peers whose serving rate is tracked before the table starts over (bounds memory against many identities). */
const MAX_BUCKETS = 4096;

function configError(what: string, actual: unknown, allowed: string, remedy: string): StatecellError {
  return new StatecellError("CONSENSUS_DRIVER_CONFIG", `the group driver's ${what} is ${String(actual)}; it must be ${allowed}`, { remedy, payload: { option: what } });
}

function checkedNumber(name: string, v: number, min: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) throw configError(name, v, `a number >= ${min}`, `set ${name} to a number >= ${min}, or leave it out (default ${DEFAULTS[name as keyof typeof DEFAULTS]})`);
  return v;
}

function resolveLimits<S>(config: GroupDriverConfig<S>): CatchupLimits {
  const limits = { ...DEFAULT_CATCHUP_LIMITS, ...config.catchup };
  if (!Number.isSafeInteger(limits.maxBlocks) || limits.maxBlocks < 1 || limits.maxBlocks > CATCHUP_MAX_BLOCKS) {
    throw configError("catchup.maxBlocks", limits.maxBlocks, `an integer in 1..${CATCHUP_MAX_BLOCKS}`, `set catchup.maxBlocks to an integer in 1..${CATCHUP_MAX_BLOCKS}, or leave it out (default ${DEFAULT_CATCHUP_LIMITS.maxBlocks})`);
  }
  const frame = config.consensus.limits?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const least = frame + CATCHUP_BLOCK_OVERHEAD;
  if (!Number.isSafeInteger(limits.maxBytes) || limits.maxBytes < least) {
    // A response must hold the largest block a group decides, or a node behind it never catches up.
    throw configError(
      "catchup.maxBytes",
      limits.maxBytes,
      `an integer of at least maxFrameBytes + ${CATCHUP_BLOCK_OVERHEAD} = ${least}, to hold the largest block with its certificate`,
      `set catchup.maxBytes to at least ${least}, or leave it out (default ${DEFAULT_CATCHUP_LIMITS.maxBytes})`,
    );
  }
  return limits;
}

/**
 * Makes the driver of one group at one node; nothing runs before `start()`.
 * @throws StatecellError CONSENSUS_DRIVER_CONFIG when an option is out of range
 * @example
 * const driver = createGroupDriver({ consensus: config, genesis }, { transport, timers, clock, signer, wal, blocks, events });
 * driver.start();
 * socket.on("message", (bytes) => driver.receive(peerKey, JSON.parse(bytes)));
 */
export function createGroupDriver<S>(config: GroupDriverConfig<S>, ports: GroupPorts<S>): GroupDriver<S> {
  const cfg = config.consensus;
  const limits = resolveLimits(config);
  const opt = (name: keyof typeof DEFAULTS, min: number) => checkedNumber(name, config[name] ?? DEFAULTS[name], min);
  const catchupIntervalMs = opt("catchupIntervalMs", 0);
  const catchupWindowMs = opt("catchupWindowMs", 0);
  const serveBurst = opt("serveBurst", 1);
  const serveIntervalMs = opt("serveIntervalMs", 0);
  const gossipIntervalMs = opt("gossipIntervalMs", 0);
  const self = cfg.self?.publicKey;
  const { transport, timers, clock, events } = ports;

  const counters: DriverCounters = { drops: {}, decided: 0, evidence: 0, badPeers: 0, catchupRequested: 0, catchupThrottled: 0, catchupServed: 0, gossiped: 0 };
  let state: ConsensusState<S> | null = null;
  let running = false;
  let fault: unknown = null;
  /** Bumped by every start, stop and fault: a timer of another incarnation is stale. */
  let generation = 0;
  let headState: S = config.genesis;
  let lastProgressAt = 0;
  /** When gossip last re-sent, and the stall it waits for before the next (doubled per re-send, reset by progress). */
  let lastGossipAt = -Infinity;
  let gossipWait = gossipIntervalMs;
  let lastRequestAt = -Infinity;
  let offered: readonly Json[] | null = null;
  /** peer -> heights asked for and until when an answer counts. */
  const asked = new Map<string, Array<{ fromHeight: number; until: number }>>();
  /** peer -> serving tokens (a token bucket). */
  const buckets = new Map<string, { tokens: number; at: number }>();
  /** Set by a bad-peer effect: the rest of that response is not applied. */
  let badPeerSeen = false;

  // Calls made while the driver is executing effects (a port that delivers synchronously) wait
  // their turn, so one step's effects never interleave with the next step's.
  let busy = false;
  const waiting: Array<() => void> = [];
  function enter(f: () => void): void {
    if (busy) {
      waiting.push(f);
      return;
    }
    busy = true;
    try {
      f();
      while (waiting.length > 0) waiting.shift()!();
    } finally {
      busy = false;
      waiting.length = 0;
    }
  }

  /** Runs `f`; whatever it throws stops the group, is reported, and goes on to the caller. */
  function guarded(f: () => void): void {
    try {
      f();
    } catch (e) {
      running = false;
      fault = e;
      generation++;
      try {
        events?.stopped?.(e);
      } catch {
        // What the caller must see is the fault itself, not a failing report of it.
      }
      throw e;
    }
  }

  function dropped(reason: DropReason, detail: string | undefined, source: string | undefined): void {
    counters.drops[reason] = (counters.drops[reason] ?? 0) + 1;
    events?.drop?.(reason, detail, source);
  }

  function run(event: ConsensusEvent): void {
    const r = step(state!, event);
    state = r.state;
    execute(r.effects);
  }

  function execute(effects: readonly ConsensusEffect[]): void {
    const gen = generation;
    for (const f of effects) {
      // A port that stopped the driver (stop() from an events callback) ends the step here:
      // skipping what is left is always safe, sending a signature after it never is.
      if (gen !== generation) return;
      switch (f.kind) {
        case "persist":
          ports.signer.save(f.record);
          break;
        case "wal":
          ports.wal.append(f.entry);
          break;
        case "broadcast":
          transport.broadcast(f.message, false);
          break;
        case "schedule-timeout": {
          const t = f.timeout;
          timers.schedule(
            f.duration,
            () =>
              enter(() => {
                if (gen !== generation || !running || t.height < state!.height) return;
                guarded(() => run({ kind: "timeout", timeout: t, now: clock.now() }));
              }),
            t,
          );
          break;
        }
        case "decide":
          store(f.block, f.valueId, f.source);
          break;
        case "evidence":
          counters.evidence++;
          events?.evidence?.(f.evidence);
          break;
        case "request-catchup":
          requestCatchup(f.peer, f.fromHeight, false);
          break;
        case "bad-peer":
          badPeerSeen = true;
          counters.badPeers++;
          events?.badPeer?.(f.peer, f.reason, f.detail);
          break;
        case "drop":
          dropped(f.reason, f.detail, f.validator);
          break;
      }
    }
  }

  function store(block: CertifiedBlock, valueId: string, source: "consensus" | "catch-up"): void {
    const h = block.height;
    const head = ports.blocks.head()?.height ?? 0;
    if (h !== head + 1) {
      throw new StatecellError("CONSENSUS_BLOCK_STORE_GAP", `group ${cfg.channel}/${cfg.cell} decided height ${h}, but the block store's last block is height ${head}`, {
        remedy: "stop the node: give each (channel, cell) group its own block store, written only by its driver, and restart the node from that store",
        payload: { height: h, head },
      });
    }
    // The state after this block: the step's own when it ended at the next height (the usual case),
    // else (two decisions in one step) the application applied once more to the previous head.
    const after = state!.height === h + 1 ? state!.app : cfg.app.applyValue(headState, block.value);
    ports.blocks.append(block, valueId, after);
    headState = after;
    ports.wal.truncateBelow(h + 1);
    lastProgressAt = clock.now();
    gossipWait = gossipIntervalMs;
    counters.decided++;
    events?.decided?.(block, valueId, source);
  }

  function requestCatchup(peer: string, fromHeight: number, followUp: boolean): void {
    if (peer === self) return;
    const now = clock.now();
    if (!followUp) {
      if (now - lastRequestAt < catchupIntervalMs) {
        counters.catchupThrottled++;
        return;
      }
      lastRequestAt = now;
    }
    let list = asked.get(peer);
    if (!list) asked.set(peer, (list = []));
    list.push({ fromHeight, until: now + catchupWindowMs });
    if (list.length > ASKED_PER_PEER) list.shift();
    counters.catchupRequested++;
    transport.send(peer, catchupRequest(cfg.channel, cfg.cell, fromHeight, limits));
  }

  function takeToken(peer: string): boolean {
    const now = clock.now();
    let b = buckets.get(peer);
    if (!b) {
      if (buckets.size >= MAX_BUCKETS) buckets.clear();
      b = { tokens: serveBurst, at: now };
      buckets.set(peer, b);
    }
    b.tokens = serveIntervalMs === 0 ? serveBurst : Math.min(serveBurst, b.tokens + Math.max(0, now - b.at) / serveIntervalMs);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  function serve(from: string, frame: unknown): void {
    const p = parseCatchupRequest(frame, cfg.channel, cfg.cell);
    if (!p.ok) return dropped(p.reason, p.detail, from);
    if (!takeToken(from)) return dropped("rate-limited", `more than ${serveBurst} catch-up requests, then one per ${serveIntervalMs} ms`, from);
    const req = p.message;
    const blocks = ports.blocks.read(req.fromHeight, Math.min(req.max, limits.maxBlocks));
    const response = packCatchupResponse(req, blocks, limits);
    if (!response) return;
    counters.catchupServed++;
    transport.send(from, response);
  }

  function onResponse(from: string, frame: unknown): void {
    const p = parseCatchupResponse(frame, cfg.channel, cfg.cell, limits);
    const now = clock.now();
    const list = (asked.get(from) ?? []).filter((a) => a.until >= now);
    if (asked.has(from)) asked.set(from, list);
    if (!p.ok) {
      // From a peer this node asked, a response that breaks the limits it asked for is the peer's
      // fault; from anyone else it is only dropped (it may be meant for another group).
      if (list.length === 0 || p.reason === "wrong-channel" || p.reason === "wrong-cell") return dropped(p.reason, p.detail, from);
      list.shift();
      dropped(p.reason, p.detail, from);
      badPeerSeen = true;
      counters.badPeers++;
      events?.badPeer?.(from, p.reason, `catch-up response: ${p.detail}`);
      return;
    }
    const r = p.message;
    const i = list.findIndex((a) => a.fromHeight === r.fromHeight);
    if (i < 0) return dropped("unsolicited", `no catch-up request to this peer from height ${r.fromHeight} in the last ${catchupWindowMs} ms`, from);
    list.splice(i, 1);
    badPeerSeen = false;
    for (const block of r.blocks) {
      run({ kind: "certified-block", block, now: clock.now(), from });
      if (badPeerSeen || !running) return;
    }
    // Everything applied: the peer may hold more; ask it straight away (one request per answer).
    if (state!.height === r.fromHeight + r.blocks.length) requestCatchup(from, state!.height, true);
  }

  function kindOf(frame: unknown): unknown {
    return typeof frame === "object" && frame !== null && !Array.isArray(frame) ? (frame as { type?: unknown }).type : undefined;
  }

  function scheduleGossip(gen: number): void {
    if (gossipIntervalMs === 0) return;
    timers.schedule(gossipIntervalMs, () =>
      enter(() => {
        if (gen !== generation || !running) return;
        guarded(() => {
          // A height that takes long because the nodes are busy (a loaded machine, big blocks) is not a lost
          // message: re-sending every proposal and vote each interval to every peer, which each must parse and
          // hash again, made such heights longer still. So each re-send without progress doubles the wait.
          const now = clock.now();
          if (now - Math.max(lastProgressAt, lastGossipAt) >= gossipWait) {
            for (const m of gossipMessages(state!)) {
              counters.gossiped++;
              transport.broadcast(m, true);
            }
            lastGossipAt = now;
            gossipWait = Math.min(2 * gossipWait, 8 * gossipIntervalMs);
          }
          scheduleGossip(gen);
        });
      }),
    );
  }

  return {
    start() {
      enter(() => {
        generation++;
        const gen = generation;
        running = true;
        fault = null;
        asked.clear();
        buckets.clear();
        lastRequestAt = -Infinity;
        const pending = offered ?? [];
        offered = null;
        guarded(() => {
          const head = ports.blocks.head();
          headState = head ? head.state : config.genesis;
          const point = { height: (head?.height ?? 0) + 1, prevHash: head?.valueId ?? GENESIS_HASH, app: headState, signer: ports.signer.load(), pending };
          const now = clock.now();
          const r = restore(cfg, point, ports.wal.entries(point.height), now);
          state = r.state;
          lastProgressAt = now;
          lastGossipAt = -Infinity;
          gossipWait = gossipIntervalMs;
          execute(r.effects);
          scheduleGossip(gen);
        });
      });
    },
    receive(from, frame) {
      enter(() => {
        if (!running) return;
        guarded(() => {
          const kind = kindOf(frame);
          if (kind === "catchup-request") serve(from, frame);
          else if (kind === "catchup-response") onResponse(from, frame);
          else run({ kind: "message", frame, now: clock.now(), from });
        });
      });
    },
    offer(inputs) {
      enter(() => {
        if (!running) {
          offered = inputs;
          return;
        }
        guarded(() => run({ kind: "inputs", inputs, now: clock.now() }));
      });
    },
    stop() {
      generation++;
      running = false;
    },
    get state() {
      return state;
    },
    get running() {
      return running;
    },
    get fault() {
      return fault;
    },
    counters,
  };
}
