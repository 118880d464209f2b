/** Quotas per channel: a bucket per client address and channel, a mempool bound, and a bounded set of clients. */
import { describe, expect, it } from "vitest";
import { MAX_CLIENTS, Quotas } from "../../../runtime/node/quotas.js";
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
