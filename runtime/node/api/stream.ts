/**
 * The WebSocket stream (GET /v1/stream): how a high-rate client sends (many
 * submissions per message, many messages in flight) and how clients follow
 * the node's events. One HTTP request per input cannot reach 20,000 inputs/s
 * here (docs/api.md, "Figures"); a message of 100 submissions answers 100.
 *
 * Back-pressure, both ways, bounded per connection:
 * - in: at most `maxInFlightPerStream` submit messages are with the core at
 *   once; past that, reading from the socket pauses (TCP then slows the
 *   client down) and messages already received wait in a queue bounded by
 *   `maxQueuedBytesPerStream` (past it: closed, API_QUEUE_FULL);
 * - out: answers and events wait in the socket's buffer; a client that lets
 *   more than `maxBufferedBytesPerStream` pile up is a slow consumer and is
 *   closed (4008 API_SLOW_CONSUMER), so one slow reader never holds the
 *   node's memory.
 */
import type { WebSocket } from "ws";
import type { NodeCore, NodeEvent } from "../core-types.js";
import { failureBody, type ApiFailure } from "./errors.js";
import type { ApiLimits } from "./limits.js";
import type { BodyValidators } from "./schemas.js";
import { parseBody, precheck, submissionsOf, submitTo } from "./submit.js";

/** WebSocket close codes the stream uses (4000-4999 are the application's; 1001 is "going away"). */
export const CLOSE_CODES = Object.freeze({
  API_SLOW_CONSUMER: 4008,
  API_QUEUE_FULL: 4009,
  API_NO_PONG: 4010,
  API_SHUTTING_DOWN: 1001,
});

/** Counters of the stream side (ApiServer.stats()). */
export interface StreamCounters {
  opened: number;
  messages: number;
  submissions: number;
  events: number;
  /** Streams closed by the server, by reason. */
  closed: { API_SLOW_CONSUMER: number; API_QUEUE_FULL: number; API_NO_PONG: number; API_SHUTTING_DOWN: number };
  /** Times reading paused because the stream had its maximum of messages in flight. */
  paused: number;
}

/** What the streams share. */
export interface StreamContext {
  core: NodeCore;
  limits: Readonly<ApiLimits>;
  validators: BodyValidators;
  onInternal: (e: unknown) => void;
  counters: StreamCounters;
}

interface Subscription {
  channels: ReadonlySet<string> | null;
  /** The event types taken: commit, input, Transfer, Approval. */
  types: ReadonlySet<string>;
}

type Ref = string | number | null;

/** How long a closed stream has to read its close frame before its socket is destroyed. */
const CLOSE_GRACE_MS = 1_000;

/** One client's stream. */
export class Stream {
  private inFlight = 0;
  private readonly queue: Array<{ data: Buffer; binary: boolean }> = [];
  private queuedBytes = 0;
  private paused = false;
  private closed = false;
  /** A pong (or any message) arrived since the last ping. */
  alive = true;
  subscription: Subscription | null = null;
  /** The client's address (quotas per client). */
  client: string | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: StreamContext,
    private readonly onClosed: (s: Stream) => void,
  ) {
    ctx.counters.opened++;
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => this.onMessage(toBuffer(data), isBinary));
    ws.on("pong", () => {
      this.alive = true;
    });
    ws.on("close", () => this.finish());
    ws.on("error", () => this.finish());
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    this.alive = true;
    this.ctx.counters.messages++;
    if (this.inFlight >= this.ctx.limits.maxInFlightPerStream) {
      this.queue.push({ data, binary: isBinary });
      this.queuedBytes += data.length;
      if (this.queuedBytes > this.ctx.limits.maxQueuedBytesPerStream) {
        this.close("API_QUEUE_FULL");
        return;
      }
      this.pause();
      return;
    }
    this.handle(data, isBinary);
  }

  private handle(data: Buffer, binary: boolean): void {
    if (binary) {
      this.sendError(null, { status: 400, code: "API_BAD_BODY", message: "the stream takes JSON in text frames, not binary frames", remedy: "send each message as a text frame", path: "", in: "body" });
      return;
    }
    const { limits, validators } = this.ctx;
    const body = parseBody(data.toString("utf8"), validators.stream, "the message", limits);
    if ("status" in body) {
      const { parsed, ...f } = body;
      this.sendError(refOf(parsed), f);
      return;
    }
    const msg = body.value as { type: string; ref?: string | number; channel?: string; cell?: string; channels?: string[]; events?: string[] };
    const ref: Ref = msg.ref ?? null;
    if (msg.type === "subscribe") {
      const events = msg.events ?? ["commit", "input"];
      this.subscription = { channels: msg.channels ? new Set(msg.channels) : null, types: new Set(events) };
      this.sendJson({ type: "subscribed", ref, channels: msg.channels ?? null, events });
      return;
    }
    if (msg.type === "unsubscribe") {
      this.subscription = null;
      this.sendJson({ type: "unsubscribed", ref });
      return;
    }
    const channel = msg.channel as string;
    const cell = msg.cell as string;
    const submissions = submissionsOf(body);
    const pre = precheck(body, submissions.length, limits.maxDepth);
    this.inFlight++;
    if (this.inFlight >= limits.maxInFlightPerStream) this.pause();
    submitTo(this.ctx.core, channel, cell, submissions, pre, this.ctx.onInternal, this.client).then(
      (outcome) => {
        if ("failure" in outcome) this.sendError(ref, outcome.failure);
        else {
          this.ctx.counters.submissions += outcome.results.length;
          this.sendJson({ type: "results", ref, results: outcome.results });
        }
        this.settled();
      },
      (e: unknown) => {
        // submitTo does not reject; this is a bug, reported, and the stream goes on.
        this.ctx.onInternal(e);
        this.settled();
      },
    );
  }

  private settled(): void {
    this.inFlight--;
    if (this.closed) return;
    while (this.inFlight < this.ctx.limits.maxInFlightPerStream && this.queue.length > 0) {
      const next = this.queue.shift() as { data: Buffer; binary: boolean };
      this.queuedBytes -= next.data.length;
      this.handle(next.data, next.binary);
    }
    if (this.inFlight < this.ctx.limits.maxInFlightPerStream && this.queue.length === 0) this.resume();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.ctx.counters.paused++;
    this.ws.pause();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.ws.resume();
  }

  /** True when this stream's subscription takes `event` (the caller encodes it once for all streams). */
  wants(event: NodeEvent): boolean {
    const s = this.subscription;
    if (s === null || this.closed) return false;
    if (!s.types.has(event.type)) return false;
    return s.channels === null || s.channels.has(event.channel);
  }

  private sendError(ref: Ref, f: ApiFailure): void {
    this.sendJson({ type: "error", ref, status: f.status, ...failureBody(f) });
  }

  private sendJson(value: unknown): void {
    let text: string;
    try {
      text = JSON.stringify(value);
    } catch (e) {
      this.ctx.onInternal(e);
      return;
    }
    this.sendText(text);
  }

  /** Sends `text`, or closes a client that has more than its bound waiting unread. */
  sendText(text: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount + Buffer.byteLength(text) > this.ctx.limits.maxBufferedBytesPerStream) {
      this.close("API_SLOW_CONSUMER");
      return;
    }
    this.ws.send(text);
  }

  /** Pings; a stream that did not answer the previous ping is closed (API_NO_PONG). */
  heartbeat(): void {
    if (this.closed) return;
    if (!this.alive) {
      this.close("API_NO_PONG");
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  /** Closes with one of CLOSE_CODES (the reason text is the code), and destroys the socket after a grace period. */
  close(code: keyof typeof CLOSE_CODES): void {
    if (this.closed) return;
    this.ctx.counters.closed[code]++;
    this.finish();
    this.ws.close(CLOSE_CODES[code], code);
    const ws = this.ws;
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.subscription = null;
    this.onClosed(this);
  }
}

/** The `ref` of a message that was refused after parsing, when it is one a client may use (else null). */
function refOf(parsed: unknown): Ref {
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  const ref = (parsed as { ref?: unknown }).ref;
  if (typeof ref === "string" && ref.length <= 128) return ref;
  if (typeof ref === "number" && Number.isSafeInteger(ref)) return ref;
  return null;
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
