/**
 * The pure parts: frame layout, transport encryption (counter nonces, the
 * same bytes as Noise's ChaChaPoly), priority queues, the token bucket and
 * reconnect backoff.
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { decodeFrame, frameHeader, helloBody, TYPE_DATA, TYPE_HELLO, TYPE_PING, TYPE_PONG } from "../../../runtime/net/frame.js";
import { reconnectDelay } from "../../../runtime/net/backoff.js";
import { normaliseChannels } from "../../../runtime/net/options.js";
import { SendQueues } from "../../../runtime/net/queues.js";
import { closeCodeOf, reasonOfCloseCode, CLOSE_REASONS } from "../../../runtime/net/reasons.js";
import { TokenBucket } from "../../../runtime/net/token-bucket.js";
import { FrameOpener, FrameSealer } from "../../../runtime/net/transport-cipher.js";

const require = createRequire(import.meta.url);
const NoiseCipher = require("noise-handshake/cipher") as new (key: Uint8Array) => { encrypt(p: Uint8Array, ad?: Uint8Array): Uint8Array };

describe("frames", () => {
  it("data: version 1, type, big-endian channel id, body", () => {
    const plain = Buffer.concat([frameHeader(TYPE_DATA, 0x0102), Buffer.from("hi")]);
    expect([...plain]).toEqual([1, 1, 1, 2, 0x68, 0x69]);
    const f = decodeFrame(plain);
    expect(f).toMatchObject({ type: TYPE_DATA, channel: 258 });
    expect("body" in f && Buffer.from(f.body).toString()).toBe("hi");
  });

  it("hello carries the receive rate and burst; 0 means no limit", () => {
    expect(decodeFrame(Buffer.concat([frameHeader(TYPE_HELLO, 0), helloBody(1 << 20, 4096)]))).toEqual({ type: TYPE_HELLO, receiveBytesPerSecond: 1 << 20, burstBytes: 4096 });
    expect(decodeFrame(Buffer.concat([frameHeader(TYPE_HELLO, 0), helloBody(Infinity, 4096)]))).toMatchObject({ receiveBytesPerSecond: Infinity });
  });

  it("refuses every other shape", () => {
    const cases: Array<[number[], string]> = [
      [[], "malformed-frame"],
      [[1, 1, 0], "malformed-frame"],
      [[0, 1, 0, 1], "unsupported-version"],
      [[2, 1, 0, 1], "unsupported-version"],
      [[1, 0, 0, 0], "malformed-frame"],
      [[1, 5, 0, 0], "malformed-frame"],
      [[1, TYPE_DATA, 0, 0, 1], "malformed-frame"],
      [[1, TYPE_PING, 0, 0, 1, 2, 3, 4, 5, 6, 7], "malformed-frame"],
      [[1, TYPE_PONG, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8], "malformed-frame"],
      [[1, TYPE_HELLO, 0, 0, 1], "malformed-frame"],
    ];
    for (const [bytes, error] of cases) expect(decodeFrame(Uint8Array.from(bytes))).toEqual({ error });
    for (let i = 0; i < 2000; i++) {
      const r = decodeFrame(randomBytes(i % 40));
      expect(typeof r).toBe("object"); // never throws
    }
  });
});

describe("transport encryption", () => {
  const key = randomBytes(32);

  it("is Noise's ChaChaPoly: the same bytes as noise-handshake's cipher for the same key and counter", () => {
    const mine = new FrameSealer(key);
    const noise = new NoiseCipher(key);
    for (let i = 0; i < 5; i++) {
      const p = randomBytes(10 + i * 100);
      expect(Buffer.from(mine.seal([p])).equals(Buffer.from(noise.encrypt(p)))).toBe(true);
    }
  });

  it("opens frames in order, and refuses a replay, a reorder, a flipped bit, a truncation and another key", () => {
    const s = new FrameSealer(key);
    const o = new FrameOpener(key);
    const f0 = s.seal([Buffer.from("zero")]);
    const f1 = s.seal([Buffer.from("one")]);
    const f2 = s.seal([Buffer.from("two")]);
    expect(o.open(f1)).toBeNull(); // reordered: f1 under nonce 0
    expect(o.open(f0)?.toString()).toBe("zero"); // a failed open consumed no nonce
    expect(o.open(f0)).toBeNull(); // replayed
    const bad = Buffer.from(f1);
    bad[0] ^= 0x80;
    expect(o.open(bad)).toBeNull();
    expect(o.open(f1.subarray(0, f1.length - 1))).toBeNull();
    expect(o.open(new Uint8Array(3))).toBeNull();
    expect(new FrameOpener(randomBytes(32)).open(f0)).toBeNull();
    expect(o.open(f1)?.toString()).toBe("one");
    expect(o.open(f2)?.toString()).toBe("two");
    expect([s.sent, o.received]).toEqual([3, 3]);
  });
});

describe("priority queues", () => {
  const channels = normaliseChannels([
    { name: "low", id: 4, priority: 1, maxMessageBytes: 100, queue: { maxMessages: 4, whenFull: "refuse" } },
    { name: "high", id: 1, priority: 9, maxMessageBytes: 100, queue: { maxMessages: 2, whenFull: "drop-newest" } },
    { name: "mid", id: 2, priority: 5, maxMessageBytes: 100, queue: { maxMessages: 100, maxBytes: 250 } },
  ]);
  const [high, mid, low] = channels;
  const b = (s: string) => Buffer.from(s);

  it("serves the highest priority first, first in first out within a channel", () => {
    expect(channels.map((c) => c.name)).toEqual(["high", "mid", "low"]);
    const q = new SendQueues(channels);
    q.push(low, b("l1"));
    q.push(mid, b("m1"));
    q.push(low, b("l2"));
    q.push(high, b("h1"));
    q.push(mid, b("m2"));
    const order: string[] = [];
    for (let x = q.shift(); x !== undefined; x = q.shift()) order.push(Buffer.from(x.bytes).toString());
    expect(order).toEqual(["h1", "m1", "m2", "l1", "l2"]);
    expect(q.size).toBe(0);
  });

  it("bounds each queue by messages and bytes; drops or refuses as declared; owes one drain per refusal spell", () => {
    const q = new SendQueues(channels);
    expect([q.push(high, b("1")), q.push(high, b("2")), q.push(high, b("3"))]).toEqual(["queued", "queued", "dropped"]);
    expect([q.push(mid, Buffer.alloc(100)), q.push(mid, Buffer.alloc(100)), q.push(mid, Buffer.alloc(100))]).toEqual(["queued", "queued", "dropped"]);
    expect([1, 2, 3, 4, 5, 6].map(() => q.push(low, b("x")))).toEqual(["queued", "queued", "queued", "queued", "refused", "refused"]);
    expect(q.takeDrained()).toEqual([]);
    for (let i = 0; i < 5; i++) q.shift(); // high x2, mid x2, low x1: low holds 3 of 4
    expect(q.takeDrained()).toEqual([]);
    q.shift(); // low holds 2 of 4: half full
    expect(q.takeDrained()).toEqual([low]);
    expect(q.takeDrained()).toEqual([]);
    expect(q.clear()).toEqual([0, 0, 2]);
  });

  it("stays amortised O(1) over many messages (compaction keeps order)", () => {
    const q = new SendQueues(channels);
    const big = normaliseChannels([{ name: "bulk", id: 1, priority: 1, maxMessageBytes: 8, queue: { maxMessages: 1_000_000, maxBytes: 8_000_000 } }]);
    const bq = new SendQueues(big);
    let next = 0;
    for (let i = 0; i < 20_000; i++) {
      const n = Buffer.alloc(4);
      n.writeUInt32BE(i);
      bq.push(big[0], n);
      if (i % 3 !== 0) expect(Buffer.from(bq.shift()!.bytes).readUInt32BE(0)).toBe(next++);
    }
    while (bq.size > 0) expect(Buffer.from(bq.shift()!.bytes).readUInt32BE(0)).toBe(next++);
    expect(next).toBe(20_000);
    expect(q.shift()).toBeUndefined();
  });
});

describe("token bucket", () => {
  it("starts full, goes into debt by whole frames, and refills at the rate up to the burst", () => {
    const t = new TokenBucket(1000, 500, 0);
    expect(t.waitMs(0)).toBe(0);
    t.take(800, 0);
    expect(t.level(0)).toBe(-300);
    expect(t.waitMs(0)).toBe(300);
    expect(t.waitMs(300)).toBe(0);
    expect(t.level(10_000)).toBe(500); // capped at the burst
    t.reconfigure(100, 50, 10_000);
    expect(t.level(10_000)).toBe(50);
    const free = new TokenBucket(Infinity, 10, 0);
    free.take(1e9, 0);
    expect(free.waitMs(0)).toBe(0);
  });
});

describe("reconnect backoff", () => {
  const b = { baseMs: 500, maxMs: 30_000, jitter: 0.5 };

  it("doubles from the base to the cap; jitter takes up to half off", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50, 5000].map((n) => reconnectDelay(n, b, () => 0))).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
    expect([0, 1, 6].map((n) => reconnectDelay(n, b, () => 0.999999))).toEqual([250, 500, 15_000]);
    for (let i = 0; i < 200; i++) {
      const d = reconnectDelay(i % 10, b, Math.random);
      const full = Math.min(30_000, 500 * 2 ** (i % 10));
      expect(d).toBeGreaterThanOrEqual(full / 2);
      expect(d).toBeLessThanOrEqual(full);
    }
  });
});

describe("close reasons", () => {
  it("map to WebSocket close codes and back", () => {
    for (const r of CLOSE_REASONS) expect(reasonOfCloseCode(closeCodeOf(r))).toBe(r);
    expect(closeCodeOf("shutdown")).toBe(1001);
    expect(reasonOfCloseCode(1000)).toBeUndefined();
    expect(reasonOfCloseCode(4999)).toBeUndefined();
  });
});
