/**
 * What the caller declares: logical channels and limits, checked once when a
 * network is created (NET_BAD_OPTIONS names the option, its value and what
 * is allowed) and turned into the normalised form the rest of the module
 * reads without re-checking.
 */
import { netError } from "./errors.js";

/** What a full send queue does with one more message. */
export type WhenFull = "drop-newest" | "refuse";

/** A logical channel, as the caller declares it. Both ends of a connection must declare the same ids. */
export interface ChannelSpec {
  /** Name used by send/broadcast/onMessage: a lowercase letter, then lowercase letters, digits or dashes (at most 32). */
  name: string;
  /** Id carried in every frame: an integer 1..65535 (0 is the control channel). */
  id: number;
  /** Higher is sent first: an integer 0..255, distinct per channel. */
  priority: number;
  /** Largest message accepted or sent on this channel, in bytes (1 .. 16 MiB). */
  maxMessageBytes: number;
  /** The per-peer send queue of this channel. */
  queue?: {
    /** Messages waiting to be written, per peer (default 1,024). */
    maxMessages?: number;
    /** Bytes waiting to be written, per peer (default max(8 MiB, 4 x maxMessageBytes)). */
    maxBytes?: number;
    /** "drop-newest" (default): the new message is discarded and counted; "refuse": send returns "refused" and onDrain follows. */
    whenFull?: WhenFull;
  };
}

/** A channel after validation, with every default filled in. */
export interface Channel {
  readonly name: string;
  readonly id: number;
  readonly priority: number;
  readonly maxMessageBytes: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly whenFull: WhenFull;
  /** Position in the network's channel list sorted by priority, highest first. */
  readonly rank: number;
}

/** Limits of a network; every field has a default (DEFAULT_LIMITS). */
export interface NetLimits {
  /** From TCP accept (or dial) to the peer's hello, in ms. */
  handshakeTimeoutMs: number;
  /** A ping frame is sent this often on every open connection, in ms. */
  pingIntervalMs: number;
  /** An open connection that receives nothing for this long is closed (idle-timeout), in ms; must exceed pingIntervalMs. */
  idleTimeoutMs: number;
  /** Bytes per second written to one peer (frames as sent on the wire); Infinity for no limit. */
  sendBytesPerSecond: number;
  /** Bytes per second read from one peer before reading pauses; Infinity for no limit. Announced to the peer in hello. */
  receiveBytesPerSecond: number;
  /** Bytes either bucket may hold: what can go out or come in at once after a quiet spell. */
  burstBytes: number;
  /** Bytes handed to the socket but not yet written, per connection, beyond which frames wait in the priority queues. */
  writeBufferBytes: number;
  /** Authenticated connections at once. */
  maxPeers: number;
  /** Inbound connections not yet authenticated at once; more are closed on accept (too-many-pending). */
  maxPendingHandshakes: number;
  /** First reconnect delay, in ms; doubled per failed attempt. */
  reconnectBaseMs: number;
  /** Cap of the reconnect delay, in ms. */
  reconnectMaxMs: number;
  /** Fraction of the delay taken off at random (0 = none, 0.5 = the delay is uniform in [d/2, d]). */
  reconnectJitter: number;
}

const MiB = 1024 * 1024;

/** The defaults: 5 s handshake, ping 5 s, idle 20 s, 16 MiB/s each way, 2 MiB burst, reconnect 0.5 s doubling to 30 s. */
export const DEFAULT_LIMITS: Readonly<NetLimits> = Object.freeze({
  handshakeTimeoutMs: 5000,
  pingIntervalMs: 5000,
  idleTimeoutMs: 20_000,
  sendBytesPerSecond: 16 * MiB,
  receiveBytesPerSecond: 16 * MiB,
  burstBytes: 2 * MiB,
  writeBufferBytes: 256 * 1024,
  maxPeers: 256,
  maxPendingHandshakes: 32,
  reconnectBaseMs: 500,
  reconnectMaxMs: 30_000,
  reconnectJitter: 0.5,
});

/** Largest message a channel may declare: the WebSocket message limit follows from it. */
export const MAX_CHANNEL_MESSAGE_BYTES = 16 * MiB;

/**
 * The logical channels a statecell node declares (a suggestion the node may
 * replace, but both ends must agree): consensus first, then cross-cell
 * outputs, catch-up and mempool gossip. Consensus messages are at most 1 MiB
 * (a proposal carries a block of at most 768 KiB of submissions); catch-up
 * answers carry a block and its certificate.
 */
export const STATECELL_CHANNELS: readonly ChannelSpec[] = Object.freeze([
  { name: "consensus", id: 1, priority: 40, maxMessageBytes: MiB, queue: { maxMessages: 1024, maxBytes: 8 * MiB, whenFull: "drop-newest" } },
  { name: "outputs", id: 2, priority: 30, maxMessageBytes: MiB, queue: { maxMessages: 1024, maxBytes: 8 * MiB, whenFull: "refuse" } },
  { name: "catchup", id: 3, priority: 20, maxMessageBytes: 2 * MiB, queue: { maxMessages: 64, maxBytes: 16 * MiB, whenFull: "refuse" } },
  { name: "mempool", id: 4, priority: 10, maxMessageBytes: MiB, queue: { maxMessages: 4096, maxBytes: 16 * MiB, whenFull: "drop-newest" } },
] satisfies ChannelSpec[]);

const NAME = /^[a-z][a-z0-9-]{0,31}$/;
const NETWORK_ID = /^[A-Za-z0-9._:-]{1,64}$/;

function bad(option: string, value: unknown, allowed: string, remedy: string): never {
  const shown = typeof value === "string" ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : String(value);
  throw netError("NET_BAD_OPTIONS", `${option} is ${shown}; allowed: ${allowed}`, remedy, { option });
}

function int(option: string, v: unknown, min: number, max: number, remedy: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) bad(option, v, `an integer from ${min} to ${max}`, remedy);
  return v;
}

/** Throws NET_BAD_OPTIONS unless `id` is 1-64 characters of letters, digits and `._:-`. */
export function checkNetworkId(id: unknown): string {
  if (typeof id !== "string" || !NETWORK_ID.test(id)) {
    bad("networkId", id, "1 to 64 letters, digits, '.', '_', ':' or '-'", 'name the network, e.g. "statecell-main" or "test-7"');
  }
  return id;
}

/** Validates channel declarations and sorts them by priority (highest first). */
export function normaliseChannels(specs: readonly ChannelSpec[]): readonly Channel[] {
  if (!Array.isArray(specs) || specs.length === 0 || specs.length > 64) {
    bad("channels", Array.isArray(specs) ? `a list of ${specs.length}` : typeof specs, "a list of 1 to 64 channels", "declare the logical channels, e.g. STATECELL_CHANNELS");
  }
  const names = new Set<string>();
  const ids = new Set<number>();
  const priorities = new Set<number>();
  const out = specs.map((s, i) => {
    const at = `channels[${i}]`;
    if (typeof s !== "object" || s === null) bad(at, s, "an object { name, id, priority, maxMessageBytes }", "declare each channel as an object");
    if (typeof s.name !== "string" || !NAME.test(s.name)) bad(`${at}.name`, s.name, "a lowercase letter, then up to 31 lowercase letters, digits or '-'", 'use a name such as "consensus"');
    if (names.has(s.name)) bad(`${at}.name`, s.name, "a name no other channel has", "give each channel its own name");
    const id = int(`${at}.id`, s.id, 1, 65535, "use an id from 1 to 65535 (0 is the control channel)");
    if (ids.has(id)) bad(`${at}.id`, id, "an id no other channel has", "give each channel its own id; both ends must use the same ids");
    const priority = int(`${at}.priority`, s.priority, 0, 255, "use a priority from 0 to 255 (higher is sent first)");
    if (priorities.has(priority)) bad(`${at}.priority`, priority, "a priority no other channel has", "give each channel its own priority, so the order in which queues are served is explicit");
    const maxMessageBytes = int(`${at}.maxMessageBytes`, s.maxMessageBytes, 1, MAX_CHANNEL_MESSAGE_BYTES, "use a size from 1 byte to 16 MiB (consensus uses 1 MiB)");
    const q = s.queue ?? {};
    const maxQueuedMessages = int(`${at}.queue.maxMessages`, q.maxMessages ?? 1024, 1, 1_000_000, "use from 1 to 1,000,000 messages");
    const maxQueuedBytes = int(`${at}.queue.maxBytes`, q.maxBytes ?? Math.max(8 * MiB, 4 * maxMessageBytes), maxMessageBytes, 1024 * MiB, "use at least maxMessageBytes (one message must fit) and at most 1 GiB");
    const whenFull = q.whenFull ?? "drop-newest";
    if (whenFull !== "drop-newest" && whenFull !== "refuse") bad(`${at}.queue.whenFull`, whenFull, '"drop-newest" or "refuse"', 'write "drop-newest" (counted) or "refuse" (send returns "refused")');
    names.add(s.name);
    ids.add(id);
    priorities.add(priority);
    return { name: s.name, id, priority, maxMessageBytes, maxQueuedMessages, maxQueuedBytes, whenFull };
  });
  return Object.freeze(
    out.sort((a, b) => b.priority - a.priority).map((c, rank) => Object.freeze({ ...c, rank })),
  );
}

/** Fills in defaults and checks every limit. */
export function normaliseLimits(given: Partial<NetLimits> | undefined): Readonly<NetLimits> {
  const l: NetLimits = { ...DEFAULT_LIMITS, ...(given ?? {}) };
  for (const k of Object.keys(given ?? {})) {
    if (!(k in DEFAULT_LIMITS)) bad(`limits.${k}`, (given as Record<string, unknown>)[k], `one of the limits ${Object.keys(DEFAULT_LIMITS).join(", ")}`, "remove the key or fix its spelling");
  }
  const DAY = 86_400_000;
  int("limits.handshakeTimeoutMs", l.handshakeTimeoutMs, 1, DAY, "use a timeout in ms, e.g. 5000");
  int("limits.pingIntervalMs", l.pingIntervalMs, 1, DAY, "use an interval in ms, e.g. 5000");
  int("limits.idleTimeoutMs", l.idleTimeoutMs, 1, DAY, "use a timeout in ms, e.g. 20000");
  if (l.idleTimeoutMs <= l.pingIntervalMs) {
    bad("limits.idleTimeoutMs", l.idleTimeoutMs, `more than pingIntervalMs (${l.pingIntervalMs})`, "make the idle timeout several ping intervals long (the default is 4)");
  }
  for (const k of ["sendBytesPerSecond", "receiveBytesPerSecond"] as const) {
    const v = l[k];
    if (typeof v !== "number" || !(v >= 1024) || (v !== Infinity && !Number.isInteger(v))) {
      bad(`limits.${k}`, v, "an integer of at least 1024, or Infinity", "use bytes per second, e.g. 16777216 (16 MiB/s)");
    }
  }
  int("limits.burstBytes", l.burstBytes, 1024, 1024 * MiB, "use bytes, e.g. 2097152 (2 MiB)");
  int("limits.writeBufferBytes", l.writeBufferBytes, 1024, 1024 * MiB, "use bytes, e.g. 262144 (256 KiB)");
  int("limits.maxPeers", l.maxPeers, 1, 100_000, "use a count, e.g. 256");
  int("limits.maxPendingHandshakes", l.maxPendingHandshakes, 1, 100_000, "use a count, e.g. 32");
  int("limits.reconnectBaseMs", l.reconnectBaseMs, 1, DAY, "use a delay in ms, e.g. 500");
  int("limits.reconnectMaxMs", l.reconnectMaxMs, l.reconnectBaseMs, DAY, "use a cap in ms at least reconnectBaseMs, e.g. 30000");
  if (typeof l.reconnectJitter !== "number" || !(l.reconnectJitter >= 0 && l.reconnectJitter <= 1)) {
    bad("limits.reconnectJitter", l.reconnectJitter, "a number from 0 to 1", "use 0.5 (the delay is uniform in [d/2, d])");
  }
  return Object.freeze(l);
}
