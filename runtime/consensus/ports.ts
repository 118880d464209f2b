/**
 * The ports of the group driver (driver.ts): what a host plugs in so that one
 * node's consensus for one group sends, waits, stores and reports. Three
 * hosts implement them: `runLocalGroup` (in-process, virtual time), the
 * seeded simulator (test/simulation: a lossy network, fault-injecting
 * stores), and a validator node (WebSockets, real timers, SQLite). All are
 * synchronous, so a `persist` is durable before the next effect runs.
 */
import type { CatchupRequest, CatchupResponse } from "./catchup.js";
import type { BlockStore, SignerStore, Wal } from "./storage.js";
import type { CertifiedBlock, ConsensusMessage, DropReason, Evidence, TimeoutRef } from "./types.js";

/** Everything a driver sends or receives: consensus frames and catch-up messages (plain JSON). */
export type GroupMessage = ConsensusMessage | CatchupRequest | CatchupResponse;

/**
 * The network. Peers are named by their consensus public key (64 hex), the
 * name `request-catchup` and `receive(from, ...)` use; a node maps it to its
 * connection. Best effort: a lost or closed peer is not an error (the
 * protocol re-sends what matters), so these never throw for one; whatever
 * they do throw stops the group.
 */
export interface Transport {
  /** Sends to one peer (catch-up requests and responses). */
  send(peer: string, message: CatchupRequest | CatchupResponse): void;
  /**
   * Sends to every peer of the group. `relay` is false for a message this node
   * just signed (or re-sends because its signer guard asked), true for gossip:
   * messages already sent, its own and others', re-sent while its height stalls.
   */
  broadcast(message: ConsensusMessage, relay: boolean): void;
}

/**
 * One-shot timers. The driver ignores a timer that fires after a restart or a
 * stop, so none need cancelling. `timeout` names the consensus timeout the
 * timer is for: a host may fire a `commit` timeout later than asked (a node
 * pacing an idle group, docs/consensus.md "The group driver"), which delays
 * the next height and never affects safety; the others it fires as asked.
 */
export interface Timers {
  schedule(ms: number, fire: () => void, timeout?: TimeoutRef): void;
}

/** The host's clock (ms); read for block times (a proposer's), rate limits and gossip. */
export interface Clock {
  now(): number;
}

/**
 * What the driver reports. All optional; the driver also counts them
 * (`driver.counters`). `badPeer` is where a host disconnects the peer.
 */
export interface DriverEvents {
  /** After the block is stored and the WAL truncated below the next height. */
  decided?(block: CertifiedBlock, valueId: string, source: "consensus" | "catch-up"): void;
  evidence?(evidence: Evidence): void;
  /** A frame, block or request not used; `source` is its signer or the peer that sent it, when known. */
  drop?(reason: DropReason, detail: string | undefined, source: string | undefined): void;
  /** The peer served something only a faulty peer serves: disconnect it. */
  badPeer?(peer: string | undefined, reason: DropReason, detail: string): void;
  /** The group stopped at this node: `error` is then thrown to the caller (docs/consensus.md, "Faults"). */
  stopped?(error: unknown): void;
}

/** The ports of one group's driver at one node. */
export interface GroupPorts<S> {
  transport: Transport;
  timers: Timers;
  clock: Clock;
  signer: SignerStore;
  wal: Wal;
  blocks: BlockStore<S>;
  events?: DriverEvents;
}
