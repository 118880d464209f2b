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
 * - `ledgerBytes`: the channel's share of this node's ledger (its blocks and
 *   records, runtime/ledger/usage.ts). Once it reaches the quota, every
 *   submission to the channel is refused NODE_QUOTA_LEDGER (logged once per
 *   crossing, counted); the other channels go on.
 * - `sandboxMemoryMb`: the largest heap one isolate of the channel's code
 *   cells may have here. A channel whose cells ask more (`limits.memoryMb`)
 *   is not hosted (NODE_QUOTA_MEMORY), so every isolate the node builds is
 *   bounded by isolated-vm's memoryLimit at or under the quota. It refuses
 *   rather than lowers: SANDBOX_MEMORY is a verdict, and a node whose heap
 *   were smaller than its group's would reach it where they do not, and then
 *   could not apply the blocks they certify.
 * - `sandboxBlockTimeMs`: the block time of the blocks this node proposes
 *   for the channel's cells (a cap on `limits.blockTimeMs`, never below 3/4
 *   of it, sandbox `blockLimitMs`). Past it the block's remaining inputs are
 *   refused SANDBOX_BLOCK_BUDGET, as the cell's own limit refuses them, and
 *   the other validators agree by the block budget's rules (the proposer's
 *   cut travels in the block; they believe it when their own run of the block
 *   took at least half the cell's `blockTimeMs`, which the floor keeps true).
 *   Re-executing other validators' blocks keeps the cell's own limits.
 *
 * Set in the node file (`quotas:`, defaults for every channel, and
 * `channels: { NAME: {...} }` for one). Local to this node: what it admits
 * and how early it cuts its own proposals are its own decisions; none of it
 * changes how a block re-executes.
 */
import type { Json } from "../core/canonical.js";
import { inputIdOrNone } from "../ledger/index.js";
import type { ChannelPlan } from "../definition/plan.js";
import { StatecellError } from "../core/errors.js";
import type { SubmitResult } from "./core-types.js";

export interface ChannelQuota {
  inputsPerSecondPerClient: number;
  mempoolInputs: number;
  /** Bytes of the channel's blocks and records in this node's ledger; unset: no bound. */
  ledgerBytes?: number;
  /** Largest isolate heap (MB) of the channel's code cells here; unset: no bound. */
  sandboxMemoryMb?: number;
  /** Cap on the block time (ms) of the blocks this node proposes for the channel's cells; unset: the cells' own. */
  sandboxBlockTimeMs?: number;
}

/** What the quotas are told besides the counts (the node logs them). */
export interface QuotaEvents {
  /** The channel's ledger share reached its quota (once per crossing, not per refusal). */
  ledgerFull?(channel: string, bytes: number, quota: number): void;
  /** The channel's share is under its quota again (after a raised quota). */
  ledgerRoom?(channel: string, bytes: number, quota: number): void;
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
    /** The channel's ledger share in bytes now (runtime/ledger/usage.ts); asked only for a channel with a `ledgerBytes` quota. */
    private readonly ledgerBytes: (channel: string) => number = () => 0,
    private readonly events: QuotaEvents = {},
  ) {}

  /** Channels whose ledger share is at its quota (for logging the crossings once). */
  private readonly full = new Set<string>();

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
    if (q.ledgerBytes !== undefined) {
      const used = this.ledgerBytes(channel);
      if (used >= q.ledgerBytes) {
        if (!this.full.has(channel)) {
          this.full.add(channel);
          this.events.ledgerFull?.(channel, used, q.ledgerBytes);
        }
        this.refusedCount(channel, cell, "NODE_QUOTA_LEDGER", subs.length);
        const message = `${channel} holds ${used} bytes of this node's ledger, its quota is ${q.ledgerBytes}; this input was not stored`;
        return subs.map((s): SubmitResult => ({ id: inputIdOrNone(s as Json), status: "rejected", code: "NODE_QUOTA_LEDGER", message }));
      }
      if (this.full.delete(channel)) this.events.ledgerRoom?.(channel, used, q.ledgerBytes);
    }
    const byRate = client === undefined ? subs.length : this.allow(channel, client, subs.length);
    const room = Math.max(0, q.mempoolInputs - pool().count);
    const n = Math.min(byRate, room);
    if (n === subs.length) return submit(subs);
    const head = n > 0 ? await submit(subs.slice(0, n)) : [];
    const rest = subs.slice(n).map((s, i): SubmitResult => {
      const id = inputIdOrNone(s as Json);
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

/**
 * Refuses a channel whose code cells hosted here (`cells`) ask for a larger
 * isolate heap than the node's `sandboxMemoryMb` quota.
 * @throws StatecellError NODE_QUOTA_MEMORY naming the cell, its memoryMb and the quota
 */
export function checkMemoryQuota(plan: ChannelPlan, cells: readonly string[], quota: ChannelQuota): void {
  const cap = quota.sandboxMemoryMb;
  if (cap === undefined) return;
  for (const name of cells) {
    const cell = plan.cells[name];
    if (cell?.code === undefined || cell.code.hooks.length === 0) continue;
    if (cell.limits.memoryMb > cap) {
      throw new StatecellError("NODE_QUOTA_MEMORY", `cell "${name}" of ${plan.channel} asks for a ${cell.limits.memoryMb} MB sandbox; this node's quota for the channel is ${cap} MB per isolate`, {
        remedy: `lower the cell's limits.memoryMb to ${cap} or less (every validator of its group runs the same), or raise quotas sandboxMemoryMb for ${plan.channel} in the node file`,
      });
    }
  }
}
