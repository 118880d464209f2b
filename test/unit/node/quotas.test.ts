/** Quotas per channel: a bucket per client address and channel, a mempool bound, a bounded set of clients, the ledger share and the sandbox memory. */
import { describe, expect, it } from "vitest";
import { checkMemoryQuota, MAX_CLIENTS, Quotas } from "../../../runtime/node/quotas.js";
import type { ChannelPlan } from "../../../runtime/definition/plan.js";
import type { SubmitResult } from "../../../runtime/node/core-types.js";

const subs = (n: number) => Array.from({ length: n }, (_, i) => ({ data: { i } }));
const pending = (s: readonly unknown[]): SubmitResult[] => s.map(() => ({ id: "x", status: "pending" }));

describe("Quotas", () => {
  it("lets a second's worth through per client and channel, refills with time, and refuses the rest with NODE_QUOTA_RATE", async () => {
    let t = 0;
    const refused: string[] = [];
    const q = new Quotas({ default: { inputsPerSecondPerClient: 100 }, channels: { calm: { inputsPerSecondPerClient: 5 } } }, () => t, (ch, _c, code, n) => refused.push(`${ch} ${code} ${n}`));
    const r1 = await q.apply("loud", "c", "10.0.0.1", subs(150), () => ({ count: 0 }), pending);
    expect(r1.filter((r) => r.status === "pending")).toHaveLength(100);
    expect(r1.slice(100).every((r) => r.code === "NODE_QUOTA_RATE" && /^[0-9a-f]{64}$/.test(r.id))).toBe(true);
    // Another client, another channel: their own buckets.
    expect((await q.apply("loud", "c", "10.0.0.2", subs(100), () => ({ count: 0 }), pending)).every((r) => r.status === "pending")).toBe(true);
    expect((await q.apply("calm", "c", "10.0.0.1", subs(10), () => ({ count: 0 }), pending)).filter((r) => r.status === "pending")).toHaveLength(5);
    t = 500; // half a second: half the bucket back
    expect((await q.apply("loud", "c", "10.0.0.1", subs(100), () => ({ count: 0 }), pending)).filter((r) => r.status === "pending")).toHaveLength(50);
    expect(refused).toEqual(["loud NODE_QUOTA_RATE 50", "calm NODE_QUOTA_RATE 5", "loud NODE_QUOTA_RATE 50"]);
    // The node's own callers (no client address) are not rate-limited.
    expect((await q.apply("loud", "c", undefined, subs(1000), () => ({ count: 0 }), pending)).every((r) => r.status === "pending")).toBe(true);
  });

  it("refuses past the channel's mempool quota with POOL_FULL", async () => {
    const q = new Quotas({ channels: { m: { mempoolInputs: 10 } } }, () => 0);
    const r = await q.apply("m", "c", "a", subs(5), () => ({ count: 8 }), pending);
    expect(r.map((x) => x.code ?? x.status)).toEqual(["pending", "pending", "POOL_FULL", "POOL_FULL", "POOL_FULL"]);
  });

  it("keeps at most MAX_CLIENTS buckets, whatever the number of addresses", async () => {
    const q = new Quotas({}, () => 0);
    for (let i = 0; i < MAX_CLIENTS + 500; i++) await q.apply("m", "c", `addr-${i}`, subs(1), () => ({ count: 0 }), pending);
    expect((q as unknown as { buckets: Map<string, unknown> }).buckets.size).toBe(MAX_CLIENTS);
  });
});

describe("the ledger bytes quota", () => {
  it("refuses every submission to a channel at its quota with NODE_QUOTA_LEDGER, counts them, tells the crossing once, and lets the others through", async () => {
    const used = new Map([["big", 5000], ["small", 10]]);
    const refused: string[] = [];
    const events: string[] = [];
    const q = new Quotas(
      { default: { ledgerBytes: 4096 } },
      () => 0,
      (ch, _c, code, n) => refused.push(`${ch} ${code} ${n}`),
      (ch) => used.get(ch) ?? 0,
      { ledgerFull: (ch, b, quota) => events.push(`full ${ch} ${b}/${quota}`), ledgerRoom: (ch) => events.push(`room ${ch}`) },
    );
    const stored: unknown[] = [];
    const store = (s: readonly unknown[]) => {
      stored.push(...s);
      return pending(s);
    };
    const r = await q.apply("big", "c", "a", subs(3), () => ({ count: 0 }), store);
    expect(r.map((x) => x.code)).toEqual(["NODE_QUOTA_LEDGER", "NODE_QUOTA_LEDGER", "NODE_QUOTA_LEDGER"]);
    expect(r[0].message).toBe("big holds 5000 bytes of this node's ledger, its quota is 4096; this input was not stored");
    expect(r.every((x) => /^[0-9a-f]{64}$/.test(x.id))).toBe(true);
    await q.apply("big", "c", "a", subs(2), () => ({ count: 0 }), store);
    expect(stored).toHaveLength(0);
    // The other channel goes on.
    expect((await q.apply("small", "c", "a", subs(2), () => ({ count: 0 }), store)).every((x) => x.status === "pending")).toBe(true);
    expect(refused).toEqual(["big NODE_QUOTA_LEDGER 3", "big NODE_QUOTA_LEDGER 2"]);
    expect(events).toEqual(["full big 5000/4096"]);
    // Under the quota again (a raised quota, here a smaller share): told once, admitted.
    used.set("big", 100);
    expect((await q.apply("big", "c", "a", subs(1), () => ({ count: 0 }), store))[0].status).toBe("pending");
    expect(events).toEqual(["full big 5000/4096", "room big"]);
  });

  it("never asks for the ledger share of a channel without the quota", async () => {
    let asked = 0;
    const q = new Quotas({}, () => 0, undefined, () => {
      asked++;
      return 1e12;
    });
    expect((await q.apply("m", "c", "a", subs(2), () => ({ count: 0 }), pending)).every((x) => x.status === "pending")).toBe(true);
    expect(asked).toBe(0);
  });
});

describe("the sandbox memory quota", () => {
  const plan = (memoryMb: number, hooks: string[] = ["validate"]) =>
    ({
      channel: "m",
      cells: {
        code: { code: { hooks }, limits: { memoryMb, timeMs: 50, blockTimeMs: 2000 } },
        rules: { limits: { memoryMb: 256, timeMs: 50, blockTimeMs: 2000 } },
      },
    }) as unknown as ChannelPlan;
  const quota = (sandboxMemoryMb?: number) => ({ inputsPerSecondPerClient: 1, mempoolInputs: 1, ...(sandboxMemoryMb !== undefined ? { sandboxMemoryMb } : {}) });

  it("refuses a code cell hosted here that asks for more than the quota, naming the cell, its size and the quota", () => {
    expect(() => checkMemoryQuota(plan(64), ["code"], quota(32))).toThrow(expect.objectContaining({ code: "NODE_QUOTA_MEMORY", message: expect.stringContaining('cell "code" of m asks for a 64 MB sandbox; this node\'s quota for the channel is 32 MB') }));
  });

  it("lets through cells within it, cells without code, cells not hosted here, and any cell without a quota", () => {
    expect(() => checkMemoryQuota(plan(32), ["code"], quota(32))).not.toThrow();
    expect(() => checkMemoryQuota(plan(64), ["rules"], quota(32))).not.toThrow();
    expect(() => checkMemoryQuota(plan(64), [], quota(32))).not.toThrow();
    expect(() => checkMemoryQuota(plan(64, []), ["code"], quota(32))).not.toThrow();
    expect(() => checkMemoryQuota(plan(256), ["code"], quota())).not.toThrow();
  });
});
