/**
 * Delivery of the outbox's L0 rows: each channel's registration, then its
 * certified snapshots in height order, through the L0 client. A row leaves
 * the outbox only when L0 answered it: a registration `registered` or
 * `known`, a snapshot with an acknowledgement the client verified against
 * L0's key (signed by it, about this very snapshot), which is stored first.
 * Anything else is tried again later with capped exponential backoff and
 * jitter, per channel, never skipping a height (L0 takes height last + 1
 * only). Rows are durable, so a restart goes on where delivery stopped;
 * sending a row twice is harmless (L0 answers a snapshot it holds with the
 * same acknowledgement). docs/node.md, "Snapshots and L0".
 */
import type { Json } from "../../core/canonical.js";
import type { Ledger } from "../../ledger/index.js";
import { l0Client, type L0Client, type L0Failure, type Registration, type SignedAck } from "../../l0/index.js";
import type { Logger } from "../log.js";
import { L0_TARGET } from "./snapshot-host.js";
import type { SnapshotValue } from "./snapshot-app.js";

export interface L0SenderOptions {
  url: string;
  /** L0's public key: acknowledgements must verify against it. */
  key: string;
  /** First retry delay, and the cap of the exponential backoff (ms). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Rows read per pass. */
  batch?: number;
  /** Jitter source in [0, 1). */
  random?: () => number;
}

/** What the sender reports for a channel (GET /v1/l0 of the node API shows it). */
export interface L0ChannelStatus {
  channel: string;
  /** Highest acknowledged snapshot height. */
  acknowledged: number;
  registered: boolean;
  /** Consecutive failures of the row at the front, and the last failure. */
  attempts: number;
  lastError: { code: string; message: string; at: number } | null;
  nextAttemptAt: number;
}

export const DEFAULT_RETRY_BASE_MS = 200;
export const DEFAULT_RETRY_MAX_MS = 10_000;

/** Capped exponential backoff with jitter: between half and all of min(max, base * 2^attempt). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(full * (0.5 + 0.5 * random()));
}

export class L0Sender {
  private readonly client: L0Client;
  private readonly status = new Map<string, L0ChannelStatus>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private busy = false;
  /** Poked while a pass ran: pass again as soon as it ends. */
  private again = false;
  private readonly base: number;
  private readonly max: number;
  private readonly random: () => number;

  constructor(
    private readonly ledger: Ledger,
    private readonly o: L0SenderOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.client = l0Client(o.url, { l0Keys: [o.key], timeoutMs: 5_000 });
    this.base = o.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    this.max = o.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
    this.random = o.random ?? Math.random;
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  /** Stops; a pass in flight finishes its request and stores its answer. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /** New rows are queued: try now (when no pass runs and no backoff holds every channel). */
  poke(): void {
    if (!this.running) return;
    if (this.busy) this.again = true;
    else this.schedule(0);
  }

  channels(): L0ChannelStatus[] {
    return [...this.status.values()].map((s) => ({ ...s, ...(s.lastError ? { lastError: { ...s.lastError } } : {}) }));
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), ms);
    this.timer.unref();
  }

  private statusOf(channel: string): L0ChannelStatus {
    let s = this.status.get(channel);
    if (s === undefined) {
      const reg = this.ledger.snapshots.registration(channel, 1);
      s = { channel, acknowledged: this.ledger.snapshots.lastAck(channel), registered: reg?.answer != null, attempts: 0, lastError: null, nextAttemptAt: 0 };
      this.status.set(channel, s);
    }
    return s;
  }

  /** One pass over the undelivered L0 rows: per channel, the first row is tried unless its backoff holds. */
  private async pass(): Promise<void> {
    if (!this.running || this.busy) return;
    this.busy = true;
    this.again = false;
    let wait = 1_000;
    try {
      const rows = this.ledger.outbox.undelivered({ target: L0_TARGET, limit: this.o.batch ?? 256 });
      const byChannel = new Map<string, typeof rows>();
      for (const r of rows) {
        const ch = (r.payload as { channel?: unknown }).channel;
        if (typeof ch !== "string") continue;
        let list = byChannel.get(ch);
        if (list === undefined) byChannel.set(ch, (list = []));
        list.push(r);
      }
      for (const [channel, list] of byChannel) {
        const s = this.statusOf(channel);
        // A registration first; snapshots in height order after it.
        list.sort((a, b) => (a.kind === b.kind ? ((a.payload as { height?: number }).height ?? 0) - ((b.payload as { height?: number }).height ?? 0) : a.kind === "registration" ? -1 : 1));
        for (const row of list) {
          if (!this.running) return;
          if (this.now() < s.nextAttemptAt) {
            wait = Math.min(wait, s.nextAttemptAt - this.now());
            break;
          }
          const failure = row.kind === "registration" ? await this.register(channel, row.payload as { version: number }) : await this.submit(channel, row.payload as { height: number; hash: string });
          if (failure === undefined) {
            this.ledger.outbox.markDelivered([row.key], this.now());
            s.attempts = 0;
            s.nextAttemptAt = 0;
            continue;
          }
          s.lastError = { code: failure.code, message: failure.message, at: this.now() };
          const delay = backoffDelay(s.attempts, this.base, this.max, this.random);
          s.attempts++;
          s.nextAttemptAt = this.now() + delay;
          wait = Math.min(wait, delay);
          if (s.attempts === 1 || s.attempts % 10 === 0) this.log.warn("l0 delivery failed; will retry", { channel, kind: row.kind, code: failure.code, attempts: s.attempts, retryInMs: delay });
          break;
        }
      }
      if (rows.length >= (this.o.batch ?? 256)) wait = 0;
    } catch (e) {
      this.log.error("l0 sender", { error: e instanceof Error ? e.message : String(e) });
    } finally {
      this.busy = false;
      this.schedule(this.again ? 0 : Math.max(0, wait));
    }
  }

  private async register(channel: string, p: { version: number }): Promise<L0Failure | undefined> {
    const reg = this.ledger.snapshots.registration(channel, p.version);
    if (reg === null) return { ok: false, code: "NODE_L0_NO_REGISTRATION", message: `no registration version ${p.version} of ${channel} is stored`, remedy: "", actual: null, required: null, httpStatus: null, retryable: false };
    const r = await this.client.register({ record: reg.record as unknown as Registration, signatures: reg.signatures });
    if (!r.ok) return r;
    const { ok: _ok, ...answer } = r;
    this.ledger.snapshots.setRegistrationAnswer(channel, p.version, answer as unknown as Json);
    this.statusOf(channel).registered = true;
    this.log.info("channel registered with l0", { channel, version: p.version, status: r.status });
    return undefined;
  }

  private async submit(channel: string, p: { height: number; hash: string }): Promise<L0Failure | undefined> {
    const stored = this.ledger.snapshots.at(channel, p.height);
    if (stored === null || stored.hash !== p.hash) return { ok: false, code: "NODE_L0_NO_SNAPSHOT", message: `snapshot ${p.height} of ${channel} is not stored with hash ${p.hash}`, remedy: "", actual: null, required: null, httpStatus: null, retryable: false };
    const r = await this.client.submitSnapshot({ snapshot: (stored.block.value as unknown as SnapshotValue).snapshot, hash: stored.hash, certificate: stored.block.certificate });
    if (!r.ok) return r;
    const signed: SignedAck = { ack: r.ack.ack, signature: r.ack.signature };
    this.ledger.snapshots.putAck(channel, p.height, p.hash, signed as unknown as Json, this.now());
    const s = this.statusOf(channel);
    s.acknowledged = Math.max(s.acknowledged, p.height);
    return undefined;
  }
}
