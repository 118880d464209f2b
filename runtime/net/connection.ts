/**
 * One WebSocket to one peer: drives the handshake, then seals and opens
 * frames, answers pings, enforces the receive rate, the idle timeout and
 * the per-channel size limits, and closes on the first violation with a
 * reason. It owns no queues: the network (its owner) decides what to write
 * when the connection says it is writable, and which of two connections to
 * the same peer survives.
 */
import type WebSocket from "ws";
import type { KeyPair } from "../core/keys.js";
import {
  FRAME_HEADER_BYTES,
  PING_BODY_BYTES,
  TAG_BYTES,
  TYPE_DATA,
  TYPE_HELLO,
  TYPE_PING,
  TYPE_PONG,
  decodeFrame,
  frameHeader,
  helloBody,
} from "./frame.js";
import { InitiatorHandshake, ResponderHandshake, type SessionKeys } from "./handshake.js";
import type { Channel, NetLimits } from "./options.js";
import { closeCodeOf, reasonOfCloseCode, type CloseReason } from "./reasons.js";
import { TokenBucket } from "./token-bucket.js";
import { FrameOpener, FrameSealer } from "./transport-cipher.js";

/** Who dialled: "outbound" when this node did. */
export type Direction = "inbound" | "outbound";

/** What a connection tells its owner. Calls happen synchronously, in order; `closed` comes exactly once. */
export interface ConnectionOwner {
  /**
   * The peer proved its identity. Return null to go on, or the reason to
   * close with (not allowed, self, too many peers). An initiator asks before
   * it reveals its own identity.
   */
  authenticated(conn: Connection): CloseReason | null;
  /** The peer's hello arrived: frames flow both ways. */
  opened(conn: Connection): void;
  /** A data frame on a declared channel, within its size limit. `body` is only valid during the call unless copied. */
  message(conn: Connection, channel: Channel, body: Uint8Array): void;
  /** The connection can take more frames (its write buffer drained, or the send rate allows again). */
  writable(conn: Connection): void;
  /** The connection is closed (or will be in a moment); nothing more is delivered. */
  closed(conn: Connection, reason: CloseReason, remoteReason: CloseReason | undefined): void;
}

/** Shared, read-only settings of every connection of a network. */
export interface ConnectionSettings {
  identity: KeyPair;
  prologue: Uint8Array;
  channelsById: ReadonlyMap<number, Channel>;
  limits: Readonly<NetLimits>;
  now: () => number;
}

/** Per-connection figures (stats().peers). */
export interface ConnectionInfo {
  direction: Direction;
  bytesSent: number;
  bytesReceived: number;
  framesSent: number;
  framesReceived: number;
  /** Last ping round trip, ms (undefined until a pong came back). */
  rttMs: number | undefined;
  /** Times reading paused because the peer sent faster than receiveBytesPerSecond. */
  readPauses: number;
  /** Bytes handed to the socket and not yet written. */
  bufferedBytes: number;
}

type State = "connecting" | "handshake" | "hello" | "open" | "closed";

const CLOSE_GRACE_MS = 1000;

/** A WebSocket `ws` error code mapped to the reason the connection closes for. */
function reasonOfWsError(err: unknown, everOpened: boolean): CloseReason {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") return "oversized-frame";
  if (typeof code === "string" && code.startsWith("WS_ERR_")) return "protocol-error";
  return everOpened ? "closed-by-peer" : "dial-failed";
}

/**
 * One connection's life: connecting (outbound), handshake, hello (keys
 * agreed, waiting for the peer's hello), open, closed. Every violation ends
 * it with one reason, reported once through `owner.closed`.
 */
export class Connection {
  /** The peer's identity, once the handshake proved it. */
  peerKey: string | null = null;
  /** Settles when the socket is closed for good (after close(), within about a second). */
  readonly done: Promise<void>;
  private socketGone!: () => void;
  private state: State;
  private wsOpened: boolean;
  private initiator: InitiatorHandshake | null = null;
  private responder: ResponderHandshake | null = null;
  private sealer: FrameSealer | null = null;
  private opener: FrameOpener | null = null;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private writeTimer: NodeJS.Timeout | null = null;
  private resumeTimer: NodeJS.Timeout | null = null;
  private responded = false;
  private lastReceived = 0;
  private pingToken = 0;
  private pingSentAt = 0;
  private readonly sendBucket: TokenBucket;
  private readonly receiveBucket: TokenBucket;
  private inflight = 0;
  private readonly info: ConnectionInfo;

  /**
   * @param ws an open WebSocket (inbound) or one still connecting (outbound)
   * @param expectedKey for outbound connections: the identity the dialler must reach
   * @param deadline `settings.now()` time by which the peer's hello must have arrived
   */
  constructor(
    private readonly ws: WebSocket,
    readonly direction: Direction,
    private readonly settings: ConnectionSettings,
    private readonly owner: ConnectionOwner,
    deadline: number,
    readonly expectedKey: string | null = null,
  ) {
    const now = settings.now();
    const l = settings.limits;
    this.sendBucket = new TokenBucket(l.sendBytesPerSecond, l.burstBytes, now);
    // The receive bucket holds twice the burst announced in hello: frames of an honest sender that
    // keeps to the announced rate can still arrive bunched (scheduling, TCP), and must not pause reading.
    this.receiveBucket = new TokenBucket(l.receiveBytesPerSecond, 2 * l.burstBytes, now);
    this.info = { direction, bytesSent: 0, bytesReceived: 0, framesSent: 0, framesReceived: 0, rttMs: undefined, readPauses: 0, bufferedBytes: 0 };
    this.wsOpened = ws.readyState === ws.OPEN;
    this.state = this.wsOpened ? "handshake" : "connecting";
    this.handshakeTimer = setTimeout(() => this.close("handshake-timeout"), Math.max(0, deadline - now));
    this.handshakeTimer.unref();
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on("error", (err) => this.close(reasonOfWsError(err, this.wsOpened)));
    this.done = new Promise((resolve) => (this.socketGone = resolve));
    ws.on("close", (code) => {
      this.socketGone();
      this.onSocketClosed(code);
    });
    if (direction === "outbound") {
      if (this.wsOpened) this.startInitiator();
      else ws.on("open", () => this.startInitiator());
    } else {
      this.responder = new ResponderHandshake(settings.identity, settings.prologue);
    }
  }

  /** True once both hellos crossed and until the connection closes. */
  get isOpen(): boolean {
    return this.state === "open";
  }

  get isClosed(): boolean {
    return this.state === "closed";
  }

  /** The key of the side that dialled (for choosing between two connections to one peer). */
  get initiatorKey(): string | null {
    return this.direction === "outbound" ? this.settings.identity.publicKey : this.peerKey;
  }

  /** Figures of this connection. */
  snapshot(): ConnectionInfo {
    return { ...this.info, bufferedBytes: this.inflight };
  }

  /**
   * True when a data frame may be written now: open, the write buffer under
   * writeBufferBytes, and the send rate not in debt. When only the rate
   * blocks, `writable` is called once it allows again.
   */
  canWrite(): boolean {
    if (this.state !== "open" || this.inflight >= this.settings.limits.writeBufferBytes) return false;
    const wait = this.sendBucket.waitMs(this.settings.now());
    if (wait === 0) return true;
    if (this.writeTimer === null) {
      this.writeTimer = setTimeout(() => {
        this.writeTimer = null;
        if (this.state === "open") this.owner.writable(this);
      }, wait);
      this.writeTimer.unref();
    }
    return false;
  }

  /** Seals and writes one data frame (the caller checked canWrite and the size). */
  sendData(channel: Channel, body: Uint8Array): void {
    this.writeFrame(TYPE_DATA, channel.id, body);
  }

  /** Closes with `reason` (the first reason wins) and tells the owner at once. */
  close(reason: CloseReason): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.clearTimers();
    const ws = this.ws;
    if (ws.readyState === ws.OPEN) {
      ws.close(closeCodeOf(reason), reason);
      // Peers that do not answer the close frame lose the socket after a grace period.
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    } else {
      ws.terminate();
    }
    this.owner.closed(this, reason, undefined);
  }

  private onSocketClosed(code: number): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.clearTimers();
    this.owner.closed(this, this.wsOpened ? "closed-by-peer" : "dial-failed", reasonOfCloseCode(code));
  }

  private clearTimers(): void {
    for (const t of [this.handshakeTimer, this.heartbeat, this.writeTimer, this.resumeTimer]) if (t !== null) clearTimeout(t);
    this.handshakeTimer = this.heartbeat = this.writeTimer = this.resumeTimer = null;
  }

  private startInitiator(): void {
    if (this.state === "closed") return;
    this.wsOpened = true;
    this.state = "handshake";
    this.initiator = new InitiatorHandshake(this.settings.identity, this.settings.prologue);
    this.rawSend(this.initiator.start());
  }

  private rawSend(bytes: Uint8Array): void {
    this.info.bytesSent += bytes.length;
    this.ws.send(bytes);
  }

  private writeFrame(type: number, channel: number, body: Uint8Array): void {
    const wire = this.sealer!.seal([frameHeader(type, channel), body]);
    const n = wire.length;
    this.inflight += n;
    this.info.bytesSent += n;
    this.info.framesSent++;
    this.sendBucket.take(n, this.settings.now());
    this.ws.send(wire, (err) => {
      this.inflight -= n;
      if (err === undefined || err === null) {
        if (this.state === "open" && this.inflight < this.settings.limits.writeBufferBytes) this.owner.writable(this);
      }
    });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === "closed") return;
    this.info.bytesReceived += data.length;
    if (this.state === "handshake") {
      if (!isBinary) return this.close("handshake-failed");
      return this.onHandshakeMessage(data);
    }
    if (!isBinary) return this.close("malformed-frame");
    const plain = this.opener!.open(data);
    if (plain === null) return this.close("decrypt-failed");
    this.info.framesReceived++;
    const now = this.settings.now();
    this.lastReceived = now;
    const frame = decodeFrame(plain);
    if ("error" in frame) return this.close(frame.error);
    if (this.state === "hello") {
      // The first frame after the handshake must be the peer's hello: it says the peer accepted us.
      if (frame.type !== TYPE_HELLO) return this.close("malformed-frame");
      return this.onHello(frame.receiveBytesPerSecond, frame.burstBytes);
    }
    switch (frame.type) {
      case TYPE_DATA: {
        const ch = this.settings.channelsById.get(frame.channel);
        if (ch === undefined) return this.close("unknown-channel");
        if (frame.body.length > ch.maxMessageBytes) return this.close("oversized-frame");
        this.owner.message(this, ch, frame.body);
        break;
      }
      case TYPE_PING:
        this.writeFrame(TYPE_PONG, 0, frame.token);
        break;
      case TYPE_PONG:
        if (Buffer.from(frame.token.buffer, frame.token.byteOffset, PING_BODY_BYTES).readDoubleBE(0) === this.pingToken) {
          this.info.rttMs = now - this.pingSentAt;
        }
        break;
      case TYPE_HELLO:
        return this.close("malformed-frame");
    }
    if (this.state === "open") this.throttleReading(data.length, now);
  }

  /**
   * Pauses reading while the peer is over its receive rate (TCP then pushes
   * back on the sender). Frames ws had already read when it paused are still
   * delivered and their bytes still count, so the pause lasts until the
   * whole debt is paid: over any span t a peer gets at most twice the burst,
   * plus rate * t, plus one socket read (64 KiB) through.
   */
  private throttleReading(bytes: number, now: number): void {
    this.receiveBucket.take(bytes, now);
    if (this.resumeTimer !== null) return;
    const wait = this.receiveBucket.waitMs(now);
    if (wait === 0) return;
    this.info.readPauses++;
    this.ws.pause();
    const resumeLater = (ms: number) => {
      this.resumeTimer = setTimeout(() => {
        this.resumeTimer = null;
        if (this.state === "closed") return;
        const t = this.settings.now();
        const more = this.receiveBucket.waitMs(t);
        if (more > 0) return resumeLater(more);
        // Nothing could arrive while paused: the idle clock restarts now.
        this.lastReceived = t;
        this.ws.resume();
      }, ms);
      this.resumeTimer.unref();
    };
    resumeLater(wait);
  }

  private onHandshakeMessage(data: Buffer): void {
    if (this.initiator !== null) {
      const r = this.initiator.readResponse(data);
      if (!r.ok) return this.close(r.reason);
      this.peerKey = r.peerKey;
      // The dialler must reach the key it dialled; it reveals its own identity only then.
      if (r.peerKey !== this.expectedKey) return this.close("unexpected-identity");
      const refusal = this.owner.authenticated(this);
      if (refusal !== null) return this.close(refusal);
      if (this.state === "closed") return;
      const f = this.initiator.finish();
      if (!f.ok) return this.close(f.reason);
      this.rawSend(f.message);
      this.startTransport(f.keys);
      return;
    }
    const hs = this.responder!;
    if (!this.responded) {
      this.responded = true;
      const first = hs.respond(data);
      if (!first.ok) return this.close(first.reason);
      this.rawSend(first.message);
      return;
    }
    const r = hs.readFinal(data);
    if (!r.ok) return this.close(r.reason);
    this.peerKey = r.keys.peerKey;
    const refusal = this.owner.authenticated(this);
    if (refusal !== null) return this.close(refusal);
    if (this.state === "closed") return;
    this.startTransport(r.keys);
  }

  private startTransport(keys: SessionKeys): void {
    this.sealer = new FrameSealer(keys.sendKey);
    this.opener = new FrameOpener(keys.receiveKey);
    this.initiator = null;
    this.responder = null;
    this.state = "hello";
    const l = this.settings.limits;
    this.writeFrame(TYPE_HELLO, 0, helloBody(l.receiveBytesPerSecond, l.burstBytes));
  }

  private onHello(peerReceiveRate: number, peerBurst: number): void {
    const now = this.settings.now();
    const l = this.settings.limits;
    // Never send faster than the peer said it reads: an honest sender is then never throttled.
    this.sendBucket.reconfigure(Math.min(l.sendBytesPerSecond, peerReceiveRate), Math.max(1024, Math.min(l.burstBytes, peerBurst)), now);
    this.state = "open";
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.lastReceived = now;
    this.heartbeat = setInterval(() => this.tick(), l.pingIntervalMs);
    this.heartbeat.unref();
    this.owner.opened(this);
  }

  private tick(): void {
    if (this.state !== "open") return;
    const now = this.settings.now();
    if (this.resumeTimer === null && now - this.lastReceived > this.settings.limits.idleTimeoutMs) return this.close("idle-timeout");
    this.pingToken++;
    this.pingSentAt = now;
    const body = Buffer.alloc(PING_BODY_BYTES);
    body.writeDoubleBE(this.pingToken, 0);
    this.writeFrame(TYPE_PING, 0, body);
  }
}

/** Bytes on the wire of a data frame carrying `bodyBytes`: header, body, tag. */
export function wireBytesOf(bodyBytes: number): number {
  return FRAME_HEADER_BYTES + bodyBytes + TAG_BYTES;
}
