/**
 * Quotas per hosted channel, so one noisy channel (or one noisy client)
 * cannot starve the others on a shared node:
 *
 * - `inputsPerSecondPerClient`: submissions a client address may send to
 *   one channel per second (a bucket of one second's worth, refilled
 *   continuously). Past it, a submission is answered `rejected` with
 *   NODE_QUOTA_RATE at once: not admitted, not dry-run, not stored, so a
 *   flood costs the node little.
 * - `mempoolInputs`: pending inputs one cell of the channel may hold (below
 *   the ledger's own bound); past it, POOL_FULL.
 *
 * Set in the node file (`quotas:`, defaults for every channel, and
 * `channels: { NAME: {...} }` for one). Local to this node: what it admits
 * is its own decision and never part of what validators compare. Sandbox
 * memory and time per block are the channel's own `limits:` (every
 * validator runs the same ones, so blocks re-execute the same way), and
 * are not changed here.
 */
import type { Json } from "../core/canonical.js";
import { inputId } from "../ledger/index.js";
import type { SubmitResult } from "./core-types.js";

export interface ChannelQuota {
  inputsPerSecondPerClient: number;
  mempoolInputs: number;
}

export interface QuotaConfig {
  default?: Partial<ChannelQuota>;
  channels?: Record<string, Partial<ChannelQuota>>;
}

export const DEFAULT_QUOTA: ChannelQuota = { inputsPerSecondPerClient: 10_000, mempoolInputs: 50_000 };
/** Client buckets kept (the least recently used go first). */
export const MAX_CLIENTS = 10_000;

interface Bucket {
  tokens: number;
  last: number;
}

export class Quotas {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly config: QuotaConfig = {},
    private readonly now: () => number = () => performance.now(),
    /** Told how many submissions a quota refused, by code (metrics; never per input). */
    private readonly refusedCount: (channel: string, cell: string, code: string, n: number) => void = () => undefined,
  ) {}

  quotaOf(channel: string): ChannelQuota {
    return { ...DEFAULT_QUOTA, ...this.config.default, ...this.config.channels?.[channel] };
  }

  /** How many of `count` submissions `client` may send to `channel` now (they are taken). */
  private allow(channel: string, client: string, count: number): number {
    const rate = this.quotaOf(channel).inputsPerSecondPerClient;
    const key = `${channel}\u0000${client}`;
    const t = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: rate, last: t };
      if (this.buckets.size >= MAX_CLIENTS) this.buckets.delete(this.buckets.keys().next().value as string);
    } else {
      b.tokens = Math.min(rate, b.tokens + ((t - b.last) / 1000) * rate);
      b.last = t;
      this.buckets.delete(key);
    }
    this.buckets.set(key, b);
    const n = Math.max(0, Math.min(count, Math.floor(b.tokens)));
    b.tokens -= n;
    return n;
  }

  /**
   * Submits what the quotas let through with `submit`, and answers the rest
   * refused, in the order sent.
   */
  async apply(
    channel: string,
    cell: string,
    client: string | undefined,
    subs: readonly unknown[],
    pool: () => { count: number },
    submit: (subs: readonly unknown[]) => SubmitResult[] | Promise<SubmitResult[]>,
  ): Promise<SubmitResult[]> {
    const q = this.quotaOf(channel);
    const byRate = client === undefined ? subs.length : this.allow(channel, client, subs.length);
    const room = Math.max(0, q.mempoolInputs - pool().count);
    const n = Math.min(byRate, room);
    if (n === subs.length) return submit(subs);
    const head = n > 0 ? await submit(subs.slice(0, n)) : [];
    const rest = subs.slice(n).map((s, i): SubmitResult => {
      const id = idOf(s);
      if (n + i < byRate) {
        return { id, status: "rejected", code: "POOL_FULL", message: `the mempool of ${channel}/${cell} holds its quota of ${q.mempoolInputs} pending inputs on this node` };
      }
      return { id, status: "rejected", code: "NODE_QUOTA_RATE", message: `this client sent more than ${q.inputsPerSecondPerClient} inputs a second to ${channel}; this one was not stored` };
    });
    const full = Math.max(0, Math.min(byRate, subs.length) - n);
    if (full > 0) this.refusedCount(channel, cell, "POOL_FULL", full);
    if (subs.length - n - full > 0) this.refusedCount(channel, cell, "NODE_QUOTA_RATE", subs.length - n - full);
    return [...head, ...rest];
  }
}

function idOf(s: unknown): string {
  try {
    return inputId(s as Json);
  } catch {
    return "0".repeat(64);
  }
}
