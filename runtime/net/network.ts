/**
 * createPeerNetwork: the transport a node composes (docs/net.md). It listens
 * for and dials WebSocket connections, keeps one authenticated connection
 * per peer, serves each peer's priority send queues, redials configured
 * peers with backoff, and counts everything the node exports as metrics.
 * Messages are opaque bytes on named logical channels.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import { closest } from "../core/suggest.js";
import type { KeyPair } from "../core/keys.js";
import { reconnectDelay } from "./backoff.js";
import { Connection, wireBytesOf, type ConnectionInfo, type ConnectionOwner, type ConnectionSettings } from "./connection.js";
import { assertPeerKey, netError } from "./errors.js";
import { prologueFor } from "./handshake.js";
import { checkNetworkId, normaliseChannels, normaliseLimits, type Channel, type ChannelSpec, type NetLimits } from "./options.js";
import { SendQueues } from "./queues.js";
import { zeroCounts, type CloseReason } from "./reasons.js";

/** A peer to dial and keep connected. */
export interface PeerAddress {
  /** The identity the dialler must reach (64 hex); a different key closes the connection. */
  key: string;
  /** ws://host:port/ (or wss://). */
  url: string;
}

/** Options of createPeerNetwork. */
export interface PeerNetworkOptions {
  /** This node's ed25519 identity. */
  identity: KeyPair;
  /** Names the network in the handshake prologue: nodes of two networks never finish a handshake. */
  networkId: string;
  /** Logical channels; both ends must declare the same ids (STATECELL_CHANNELS is the node's set). */
  channels: readonly ChannelSpec[];
  /** Identities accepted, both inbound and outbound: a set, or a function asked at every handshake. */
  allow: ReadonlySet<string> | ((peerKey: string) => boolean);
  /** Peers to dial now and redial whenever they are not connected. */
  peers?: readonly PeerAddress[];
  /** Limits; each missing field takes its DEFAULT_LIMITS value. */
  limits?: Partial<NetLimits>;
  /** Source of reconnect jitter in [0, 1) (default Math.random; tests pass a seeded one). */
  random?: () => number;
}

/** What the network tells the node. Exceptions thrown by a handler are caught and counted (handlerErrors). */
export interface PeerNetworkHandlers {
  /** A message from an authenticated peer. `bytes` is a view the network does not reuse; keep it or copy it. */
  onMessage(peerKey: string, channel: string, bytes: Uint8Array): void;
  /** The first connection to the peer opened. */
  onPeerUp?(peerKey: string): void;
  /** The last connection to the peer closed; its queued messages were discarded. */
  onPeerDown?(peerKey: string, reason: CloseReason): void;
  /** A "refuse" channel's queue to the peer, which refused a send, is at most half full again. */
  onDrain?(peerKey: string, channel: string): void;
}

/** What send did with a message. */
export type SendStatus = "queued" | "dropped" | "refused" | "not-connected";

/** Counters of one logical channel, over all peers. */
export interface ChannelCounters {
  sentMessages: number;
  sentBytes: number;
  receivedMessages: number;
  receivedBytes: number;
  /** Discarded because the queue was full ("drop-newest"). */
  dropped: number;
  /** Refused because the queue was full ("refuse"). */
  refused: number;
  /** Sent to a peer that was not connected. */
  notConnected: number;
  /** Queued, then discarded when the peer's connection closed. */
  discarded: number;
}

/** One connected peer's figures. */
export interface PeerInfo extends ConnectionInfo {
  queuedMessages: number;
  queuedBytes: number;
}

/** A snapshot of the network's counters (the node exports them as metrics). */
export interface NetStats {
  /** Connected peers, by key. */
  peers: Record<string, PeerInfo>;
  /** Inbound connections not yet authenticated. */
  pendingHandshakes: number;
  /** Outbound connection attempts. */
  dials: number;
  /** Connections that opened (both hellos crossed). */
  opened: number;
  /** Closed connections (and refused sockets) by the reason this side closed them for. */
  closes: Record<CloseReason, number>;
  /** Reasons remote peers gave in their close frames (information only: not authenticated). */
  closedByPeer: Record<CloseReason, number>;
  channels: Record<string, ChannelCounters>;
  /** Exceptions thrown by handlers. */
  handlerErrors: number;
}

/** The network a node composes. */
export interface PeerNetwork {
  /** This node's identity key. */
  readonly publicKey: string;
  /** Accepts connections on host:port (default 127.0.0.1, port 0 = a free port). */
  listen(opts?: { host?: string; port?: number }): Promise<{ host: string; port: number; url: string }>;
  /** Dials `key` at `url` now and whenever it is not connected, with backoff. Replaces an earlier address. */
  addPeer(key: string, url: string): void;
  /** Stops redialling `key` (an open connection stays; disconnect closes it). */
  removePeer(key: string): void;
  /** Closes the connections to `key` (a configured peer is redialled: removePeer first to stop that). */
  disconnect(key: string): void;
  /** Closes connections whose peers `allow` no longer accepts; returns how many. Call after the allowed set changes. */
  recheckAllowed(): number;
  /** Queues `bytes` for `peerKey` on `channel`. Throws only for caller errors (unknown channel, oversized message). */
  send(peerKey: string, channel: string, bytes: Uint8Array): SendStatus;
  /** send to every connected peer, or to those of `peerKeys` that are connected; counts per status. */
  broadcast(channel: string, bytes: Uint8Array, peerKeys?: Iterable<string>): Record<SendStatus, number>;
  /** Keys of connected peers, sorted. */
  connectedPeers(): string[];
  stats(): NetStats;
  /** Stops listening and dialling and closes every connection (reason shutdown). */
  close(): Promise<void>;
}

interface Link {
  key: string;
  conn: Connection;
  queues: SendQueues;
}

interface Dialer {
  key: string;
  url: string;
  attempt: number;
  timer: NodeJS.Timeout | null;
  conn: Connection | null;
}

interface PreUpgrade {
  timer: NodeJS.Timeout;
  startedAt: number;
  done: boolean;
}

function zeroChannel(): ChannelCounters {
  return { sentMessages: 0, sentBytes: 0, receivedMessages: 0, receivedBytes: 0, dropped: 0, refused: 0, notConnected: 0, discarded: 0 };
}

/**
 * Creates a peer network (not yet listening; `peers` are dialled at once).
 * @throws StatecellError NET_BAD_OPTIONS (a channel, limit or the network id), NET_BAD_PEER_KEY
 * @example
 * const net = createPeerNetwork({ identity, networkId: "main", channels: STATECELL_CHANNELS, allow: new Set(keys) },
 *   { onMessage: (peer, channel, bytes) => node.deliver(peer, channel, bytes) });
 * const { url } = await net.listen({ port: 26656 });
 */
export function createPeerNetwork(options: PeerNetworkOptions, handlers: PeerNetworkHandlers): PeerNetwork {
  return new PeerNetworkImpl(options, handlers);
}

class PeerNetworkImpl implements PeerNetwork, ConnectionOwner {
  readonly publicKey: string;
  private readonly channels: readonly Channel[];
  private readonly channelsByName: ReadonlyMap<string, Channel>;
  private readonly limits: Readonly<NetLimits>;
  private readonly settings: ConnectionSettings;
  private readonly allowed: (key: string) => boolean;
  private readonly random: () => number;
  private readonly maxWireBytes: number;
  private readonly links = new Map<string, Link>();
  private readonly conns = new Set<Connection>();
  private readonly pending = new Set<Connection>();
  private readonly preUpgrade = new Map<Duplex, PreUpgrade>();
  private readonly dialers = new Map<string, Dialer>();
  private server: Server | null = null;
  private wss: WebSocketServer | null = null;
  private shutDown = false;
  private readonly counters = {
    dials: 0,
    opened: 0,
    handlerErrors: 0,
    closes: zeroCounts(),
    closedByPeer: zeroCounts(),
    channels: new Map<string, ChannelCounters>(),
  };

  constructor(
    options: PeerNetworkOptions,
    private readonly handlers: PeerNetworkHandlers,
  ) {
    if (typeof options !== "object" || options === null) throw netError("NET_BAD_OPTIONS", "options must be an object", "pass { identity, networkId, channels, allow }");
    const id = options.identity;
    if (typeof id !== "object" || id === null || typeof id.publicKey !== "string") {
      throw netError("NET_BAD_OPTIONS", "options.identity must be a KeyPair (generateKeyPair, keyPairFromSeed)", "pass the node's KeyPair from runtime/core/keys");
    }
    assertPeerKey(id.publicKey, "options.identity.publicKey");
    if (typeof handlers !== "object" || handlers === null || typeof handlers.onMessage !== "function") {
      throw netError("NET_BAD_OPTIONS", "handlers.onMessage must be a function", "pass { onMessage(peerKey, channel, bytes) { ... } }");
    }
    const allow = options.allow;
    if (typeof allow === "function") this.allowed = allow;
    else if (allow instanceof Set) this.allowed = (k) => allow.has(k);
    else throw netError("NET_BAD_OPTIONS", `options.allow must be a Set of keys or a function, got ${allow === null ? "null" : typeof allow}`, "pass new Set([...validatorKeys]) or (key) => boolean");
    this.publicKey = id.publicKey;
    this.channels = normaliseChannels(options.channels);
    this.channelsByName = new Map(this.channels.map((c) => [c.name, c]));
    for (const c of this.channels) this.counters.channels.set(c.name, zeroChannel());
    this.limits = normaliseLimits(options.limits);
    this.maxWireBytes = Math.max(...this.channels.map((c) => wireBytesOf(c.maxMessageBytes)));
    if (options.random !== undefined && typeof options.random !== "function") {
      throw netError("NET_BAD_OPTIONS", `options.random must be a function returning numbers in [0, 1), got ${typeof options.random}`, "leave it out (Math.random), or pass a seeded generator");
    }
    this.random = options.random ?? Math.random;
    this.settings = {
      identity: id,
      prologue: prologueFor(checkNetworkId(options.networkId)),
      channelsById: new Map(this.channels.map((c) => [c.id, c])),
      limits: this.limits,
      now: () => performance.now(),
    };
    for (const p of options.peers ?? []) this.addPeer(p.key, p.url);
  }

  // ---- listening ----

  listen(opts: { host?: string; port?: number } = {}): Promise<{ host: string; port: number; url: string }> {
    this.assertOpen();
    if (this.server !== null) return Promise.reject(netError("NET_LISTEN_FAILED", "this network is already listening", "call listen once per network"));
    const host = opts.host ?? "127.0.0.1";
    const port = opts.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return Promise.reject(netError("NET_BAD_OPTIONS", `listen port is ${String(port)}; allowed: an integer from 0 to 65535`, "pass a port, or 0 for a free one"));
    }
    const server = createServer();
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.maxWireBytes,
      perMessageDeflate: false,
      clientTracking: false,
      skipUTF8Validation: true,
    });
    this.server = server;
    this.wss = wss;
    server.on("connection", (socket: Socket) => this.onSocket(socket));
    server.on("request", (_req, res) => {
      res.writeHead(426, { connection: "close", "content-type": "text/plain" }).end("statecell peers speak WebSocket\n");
    });
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on("clientError", (_err, socket: Duplex) => this.refuseSocket(socket, "protocol-error"));
    wss.on("wsClientError", (_err, socket: Duplex) => this.refuseSocket(socket, "protocol-error"));
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        this.server = null;
        this.wss = null;
        reject(netError("NET_LISTEN_FAILED", `cannot listen on ${host}:${port}: ${err.code ?? "error"}`, "choose another port (or 0 for a free one), or stop the process that holds it", { host, port, errno: err.code }, err));
      };
      server.once("error", onError);
      server.listen(port, host, () => {
        server.off("error", onError);
        // Once listening, the server reports only failed accepts (EMFILE: out of file descriptors);
        // it keeps listening, and the socket that was not accepted never became a connection.
        server.on("error", () => undefined);
        const addr = server.address();
        const bound = typeof addr === "object" && addr !== null ? addr.port : port;
        const shown = host.includes(":") ? `[${host}]` : host;
        resolve({ host, port: bound, url: `ws://${shown}:${bound}/` });
      });
    });
  }

  private pendingCount(): number {
    return this.preUpgrade.size + this.pending.size;
  }

  private onSocket(socket: Socket): void {
    if (this.shutDown || this.pendingCount() >= this.limits.maxPendingHandshakes) {
      this.counters.closes["too-many-pending"]++;
      socket.destroy();
      return;
    }
    const timer = setTimeout(() => this.refuseSocket(socket, "handshake-timeout"), this.limits.handshakeTimeoutMs);
    timer.unref();
    const entry: PreUpgrade = { timer, startedAt: performance.now(), done: false };
    this.preUpgrade.set(socket, entry);
    socket.once("close", () => {
      if (!entry.done) this.finishPreUpgrade(socket, "closed-by-peer");
    });
  }

  /** Counts a socket that never became a connection, once, under `reason`. */
  private finishPreUpgrade(socket: Duplex, reason: CloseReason | null): PreUpgrade | undefined {
    const entry = this.preUpgrade.get(socket);
    if (entry === undefined || entry.done) return undefined;
    entry.done = true;
    clearTimeout(entry.timer);
    this.preUpgrade.delete(socket);
    if (reason !== null) this.counters.closes[reason]++;
    return entry;
  }

  private refuseSocket(socket: Duplex, reason: CloseReason): void {
    this.finishPreUpgrade(socket, reason);
    socket.destroy();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const entry = this.preUpgrade.get(socket);
    if (entry === undefined || this.shutDown || this.wss === null) {
      socket.destroy();
      return;
    }
    // The socket stays counted as pending, under the deadline set at TCP accept, until ws hands it over.
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.finishPreUpgrade(socket, null) === undefined || this.shutDown) {
        ws.terminate();
        return;
      }
      const conn = new Connection(ws, "inbound", this.settings, this, entry.startedAt + this.limits.handshakeTimeoutMs);
      this.conns.add(conn);
      this.pending.add(conn);
    });
  }

  // ---- dialling ----

  addPeer(key: string, url: string): void {
    this.assertOpen();
    assertPeerKey(key);
    if (key === this.publicKey) {
      throw netError("NET_BAD_PEER_KEY", "addPeer was given this node's own key", "dial other nodes only; a node refuses connections from itself", { key });
    }
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (parsed === null || (parsed.protocol !== "ws:" && parsed.protocol !== "wss:")) {
      throw netError("NET_BAD_OPTIONS", `peer url is ${JSON.stringify(String(url).slice(0, 200))}; allowed: a ws:// or wss:// URL`, "write the address the peer listens on, e.g. ws://10.0.0.7:26656/", { option: "url" });
    }
    const old = this.dialers.get(key);
    if (old !== undefined) {
      old.url = url;
      return;
    }
    const d: Dialer = { key, url, attempt: 0, timer: null, conn: null };
    this.dialers.set(key, d);
    if (!this.links.has(key)) this.dial(d);
  }

  removePeer(key: string): void {
    const d = this.dialers.get(key);
    if (d === undefined) return;
    this.dialers.delete(key);
    if (d.timer !== null) clearTimeout(d.timer);
    d.timer = null;
    if (d.conn !== null && !d.conn.isOpen) d.conn.close("disconnected");
  }

  private dial(d: Dialer): void {
    this.counters.dials++;
    const ws = new WebSocket(d.url, {
      maxPayload: this.maxWireBytes,
      perMessageDeflate: false,
      // No ws handshakeTimeout: the connection's own deadline covers TCP, upgrade and Noise, and counts it.
      followRedirects: false,
      skipUTF8Validation: true,
    });
    const conn = new Connection(ws, "outbound", this.settings, this, performance.now() + this.limits.handshakeTimeoutMs, d.key);
    d.conn = conn;
    this.conns.add(conn);
  }

  /** Plans the next dial of a configured peer that is not connected. */
  private scheduleDial(d: Dialer): void {
    if (this.shutDown || this.dialers.get(d.key) !== d || d.conn !== null || d.timer !== null || this.links.has(d.key)) return;
    const delay = reconnectDelay(d.attempt, { baseMs: this.limits.reconnectBaseMs, maxMs: this.limits.reconnectMaxMs, jitter: this.limits.reconnectJitter }, this.random);
    d.attempt++;
    d.timer = setTimeout(() => {
      d.timer = null;
      if (!this.shutDown && this.dialers.get(d.key) === d && d.conn === null && !this.links.has(d.key)) this.dial(d);
    }, delay);
  }

  // ---- ConnectionOwner ----

  authenticated(conn: Connection): CloseReason | null {
    const key = conn.peerKey!;
    this.pending.delete(conn);
    if (this.shutDown) return "shutdown";
    let ok = false;
    try {
      ok = this.allowed(key) === true;
    } catch {
      this.counters.handlerErrors++;
    }
    if (!ok) return "not-allowed";
    if (!this.links.has(key) && this.links.size >= this.limits.maxPeers) return "too-many-peers";
    return null;
  }

  opened(conn: Connection): void {
    const key = conn.peerKey!;
    this.counters.opened++;
    const link = this.links.get(key);
    if (link === undefined) {
      this.links.set(key, { key, conn, queues: new SendQueues(this.channels) });
      const d = this.dialers.get(key);
      if (d !== undefined) {
        d.attempt = 0;
        if (d.timer !== null) clearTimeout(d.timer);
        d.timer = null;
      }
      this.call(() => this.handlers.onPeerUp?.(key));
      return;
    }
    // Two connections to one peer (both dialled at once, or it reconnected): both sides keep the same one.
    if (preferNew(link.conn, conn)) {
      const old = link.conn;
      link.conn = conn;
      old.close("duplicate");
      this.drain(link);
    } else {
      conn.close("duplicate");
    }
  }

  message(conn: Connection, channel: Channel, body: Uint8Array): void {
    const c = this.counters.channels.get(channel.name)!;
    c.receivedMessages++;
    c.receivedBytes += body.length;
    const key = conn.peerKey!;
    this.call(() => this.handlers.onMessage(key, channel.name, body));
  }

  writable(conn: Connection): void {
    const link = this.links.get(conn.peerKey!);
    if (link !== undefined && link.conn === conn) this.drain(link);
  }

  closed(conn: Connection, reason: CloseReason, remoteReason: CloseReason | undefined): void {
    this.conns.delete(conn);
    this.pending.delete(conn);
    this.counters.closes[reason]++;
    if (remoteReason !== undefined) this.counters.closedByPeer[remoteReason]++;
    const key = conn.peerKey;
    let wasUp = false;
    if (key !== null) {
      const link = this.links.get(key);
      if (link !== undefined && link.conn === conn) {
        wasUp = true;
        this.links.delete(key);
        const lost = link.queues.clear();
        for (const ch of this.channels) this.counters.channels.get(ch.name)!.discarded += lost[ch.rank];
        this.call(() => this.handlers.onPeerDown?.(key, reason));
      }
    }
    for (const d of this.dialers.values()) {
      if (d.conn !== conn) continue;
      d.conn = null;
      break;
    }
    // An outbound connection belongs to the key it dialled, even when another key answered.
    const dialKey = conn.expectedKey ?? key;
    const d = dialKey !== null ? this.dialers.get(dialKey) : undefined;
    if (d !== undefined) {
      if (wasUp) d.attempt = 0;
      this.scheduleDial(d);
    }
  }

  // ---- sending ----

  private channelOf(name: string): Channel {
    const ch = this.channelsByName.get(name);
    if (ch !== undefined) return ch;
    const names = [...this.channelsByName.keys()];
    const guess = typeof name === "string" ? closest(name.slice(0, 64), names) : undefined;
    throw netError(
      "NET_UNKNOWN_CHANNEL",
      `no logical channel is named ${JSON.stringify(String(name).slice(0, 64))}; declared: ${names.join(", ")}`,
      guess !== undefined ? `use "${guess}"` : "use a declared channel name, or declare the channel in options.channels",
      { channel: String(name).slice(0, 64) },
    );
  }

  private checkMessage(ch: Channel, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) {
      throw netError("NET_NOT_BYTES", `a message must be a Uint8Array (or Buffer), got ${bytes === null ? "null" : typeof bytes}`, "encode the message to bytes first, e.g. canonicalBytes(value)");
    }
    if (bytes.length > ch.maxMessageBytes) {
      throw netError(
        "NET_MESSAGE_TOO_LARGE",
        `a message of ${bytes.length} bytes is over the ${ch.maxMessageBytes}-byte limit of channel "${ch.name}"`,
        `split the message, or declare a larger maxMessageBytes on "${ch.name}" (both ends must allow it)`,
        { channel: ch.name, bytes: bytes.length, limit: ch.maxMessageBytes },
      );
    }
  }

  send(peerKey: string, channel: string, bytes: Uint8Array): SendStatus {
    this.assertOpen();
    const ch = this.channelOf(channel);
    this.checkMessage(ch, bytes);
    const link = this.links.get(peerKey);
    if (link === undefined) {
      assertPeerKey(peerKey);
      this.counters.channels.get(ch.name)!.notConnected++;
      return "not-connected";
    }
    return this.enqueue(link, ch, bytes, null);
  }

  broadcast(channel: string, bytes: Uint8Array, peerKeys?: Iterable<string>): Record<SendStatus, number> {
    this.assertOpen();
    const ch = this.channelOf(channel);
    this.checkMessage(ch, bytes);
    const out: Record<SendStatus, number> = { queued: 0, dropped: 0, refused: 0, "not-connected": 0 };
    // One copy shared by every queue that has to keep the message.
    const shared = { copy: null as Uint8Array | null };
    const targets = peerKeys === undefined ? [...this.links.keys()] : peerKeys;
    for (const k of targets) {
      const link = this.links.get(k);
      if (link === undefined) {
        this.counters.channels.get(ch.name)!.notConnected++;
        out["not-connected"]++;
        continue;
      }
      out[this.enqueue(link, ch, bytes, shared)]++;
    }
    return out;
  }

  private enqueue(link: Link, ch: Channel, bytes: Uint8Array, shared: { copy: Uint8Array | null } | null): SendStatus {
    const c = this.counters.channels.get(ch.name)!;
    if (link.queues.size === 0 && link.conn.canWrite()) {
      // Fast path: nothing waits, so the message is sealed (and so read) now and needs no copy.
      link.conn.sendData(ch, bytes);
      c.sentMessages++;
      c.sentBytes += bytes.length;
      return "queued";
    }
    // The caller may reuse its buffer once send returns: a queued message keeps a copy.
    let copy: Uint8Array;
    if (shared === null) copy = Uint8Array.prototype.slice.call(bytes);
    else copy = shared.copy ??= Uint8Array.prototype.slice.call(bytes);
    const r = link.queues.push(ch, copy);
    if (r === "dropped") c.dropped++;
    else if (r === "refused") c.refused++;
    else this.drain(link);
    return r;
  }

  /** Writes queued frames by priority while the connection can take them. */
  private drain(link: Link): void {
    const conn = link.conn;
    while (link.queues.size > 0 && conn.canWrite()) {
      const item = link.queues.shift()!;
      conn.sendData(item.channel, item.bytes);
      const c = this.counters.channels.get(item.channel.name)!;
      c.sentMessages++;
      c.sentBytes += item.bytes.length;
    }
    for (const ch of link.queues.takeDrained()) this.call(() => this.handlers.onDrain?.(link.key, ch.name));
  }

  // ---- management ----

  disconnect(key: string): void {
    for (const conn of [...this.conns]) {
      if (conn.peerKey === key || (conn.peerKey === null && conn.expectedKey === key)) conn.close("disconnected");
    }
  }

  recheckAllowed(): number {
    let n = 0;
    for (const conn of [...this.conns]) {
      if (conn.peerKey === null || conn.isClosed) continue;
      let ok = false;
      try {
        ok = this.allowed(conn.peerKey) === true;
      } catch {
        this.counters.handlerErrors++;
      }
      if (!ok) {
        conn.close("not-allowed");
        n++;
      }
    }
    return n;
  }

  connectedPeers(): string[] {
    return [...this.links.keys()].sort();
  }

  stats(): NetStats {
    const peers: Record<string, PeerInfo> = {};
    for (const key of this.connectedPeers()) {
      const link = this.links.get(key)!;
      let queuedBytes = 0;
      for (const ch of this.channels) queuedBytes += link.queues.depth(ch).bytes;
      peers[key] = { ...link.conn.snapshot(), queuedMessages: link.queues.size, queuedBytes };
    }
    const channels: Record<string, ChannelCounters> = {};
    for (const [name, c] of this.counters.channels) channels[name] = { ...c };
    return {
      peers,
      pendingHandshakes: this.pendingCount(),
      dials: this.counters.dials,
      opened: this.counters.opened,
      closes: { ...this.counters.closes },
      closedByPeer: { ...this.counters.closedByPeer },
      channels,
      handlerErrors: this.counters.handlerErrors,
    };
  }

  async close(): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    for (const d of this.dialers.values()) if (d.timer !== null) clearTimeout(d.timer);
    this.dialers.clear();
    const conns = [...this.conns];
    for (const conn of conns) conn.close("shutdown");
    for (const socket of [...this.preUpgrade.keys()]) this.refuseSocket(socket, "shutdown");
    const server = this.server;
    const serverClosed =
      server === null
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
    this.wss?.close();
    await Promise.all([serverClosed, ...conns.map((c) => c.done)]);
  }

  private assertOpen(): void {
    if (this.shutDown) throw netError("NET_CLOSED", "this peer network was closed", "create a new network with createPeerNetwork");
  }

  /** Runs a handler; its exceptions are counted, never propagated into the transport. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch {
      this.counters.handlerErrors++;
    }
  }
}

/**
 * Which of two open connections to one peer to keep, the same on both sides:
 * two in the same direction mean the peer redialled (it restarted, or lost
 * the old one), so the newer wins; one each way means both dialled at once,
 * and the one dialled by the smaller key wins.
 */
function preferNew(existing: Connection, incoming: Connection): boolean {
  if (existing.direction === incoming.direction) return true;
  return incoming.initiatorKey! < existing.initiatorKey!;
}
