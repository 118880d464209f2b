/**
 * Hostile peers against a real node: each attack closes that one
 * connection, is counted under its reason, and the node's other connection
 * keeps working. The attacker ("mallory") is allowed by the victim, so
 * everything it sends after the handshake is authenticated yet hostile.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import { TYPE_DATA, TYPE_HELLO, TYPE_PING, frameHeader, helloBody } from "../../../runtime/net/frame.js";
import { prologueFor } from "../../../runtime/net/handshake.js";
import type { CloseReason } from "../../../runtime/net/index.js";
import { assertWorks, closeAll, closedOf, connect, key, nextMessage, node, openWs, rawPeer, socketClosed, tcp, waitFor, type TestNode } from "./helpers.js";

afterEach(closeAll);

const MALLORY = keyPairFromName("mallory");

/** Victim bob, with alice connected (the connection that must keep working). */
async function scene(limits = {}): Promise<{ a: TestNode; b: TestNode }> {
  const b = await node("bob", { allow: ["alice", "mallory"], limits });
  const a = await node("alice", { allow: ["bob"] });
  await connect(a, b);
  return { a, b };
}

/** Waits until `b` counted one close for `reason`, then checks alice and bob still talk. */
async function closedFor(a: TestNode, b: TestNode, reason: CloseReason, n = 1): Promise<void> {
  await waitFor(() => b.net.stats().closes[reason] === n, 5000, `close for ${reason}`);
  expect(b.net.connectedPeers()).toEqual([a.key]);
  await assertWorks(a, b, `after ${reason}`);
}

describe("replayed handshakes", () => {
  it("the first and third messages of a recorded handshake, sent again, are refused", async () => {
    const { a, b } = await scene();
    const recorded = await rawPeer(b.url, MALLORY, b.key);
    await waitFor(() => b.net.connectedPeers().includes(MALLORY.publicKey), 5000, "mallory's real session");
    recorded.ws.close();
    await waitFor(() => !b.net.connectedPeers().includes(MALLORY.publicKey), 5000, "session over");
    const opened = b.net.stats().opened;

    const replay = await openWs(b.url);
    const closed = closedOf(replay);
    replay.send(recorded.sent.first);
    const fresh = await nextMessage(replay); // bob answers with a new ephemeral key...
    expect(fresh.length).toBeGreaterThan(0);
    replay.send(recorded.sent.third); // ...so the recorded third message no longer decrypts
    expect((await closed).reason).toBe("handshake-failed");
    await closedFor(a, b, "handshake-failed");
    expect(b.net.stats().opened).toBe(opened);
  });

  it("a recorded second message played back to a dialler is refused", async () => {
    const { a, b } = await scene();
    // Record bob's answer to one first message.
    const probe = await openWs(b.url);
    const { InitiatorHandshake } = await import("../../../runtime/net/handshake.js");
    probe.send(new InitiatorHandshake(MALLORY, prologueFor("test-net")).start());
    const second = await nextMessage(probe);
    probe.close();
    // A fake bob that plays it back to whoever dials.
    const fake = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise((r) => fake.once("listening", r));
    fake.on("connection", (ws: WebSocket) => ws.once("message", () => ws.send(second)));
    try {
      const port = (fake.address() as { port: number }).port;
      const c = await node("carol", { allow: ["bob"], limits: { reconnectBaseMs: 10_000, reconnectMaxMs: 10_000 } });
      c.net.addPeer(b.key, `ws://127.0.0.1:${port}/`);
      await waitFor(() => c.net.stats().closes["handshake-failed"] === 1, 5000, "dialler refuses the replay");
      expect(c.ups).toEqual([]);
      await assertWorks(a, b, "after the replay");
    } finally {
      fake.close();
    }
  });
});

describe("frames that fail to decrypt close the connection", () => {
  it("a replayed frame", async () => {
    const { a, b } = await scene();
    const m = await rawPeer(b.url, MALLORY, b.key);
    const wire = m.sendData(1, Buffer.from("once"));
    m.sendWire(wire);
    expect((await m.closed).reason).toBe("decrypt-failed");
    await closedFor(a, b, "decrypt-failed");
    expect(b.inbox.filter((x) => x.from === MALLORY.publicKey).map((x) => x.text)).toEqual(["once"]);
  });

  it("two frames swapped in order", async () => {
    const { a, b } = await scene();
    const m = await rawPeer(b.url, MALLORY, b.key);
    const first = m.sealer.seal([frameHeader(TYPE_DATA, 1), Buffer.from("first")]);
    const second = m.sealer.seal([frameHeader(TYPE_DATA, 1), Buffer.from("second")]);
    m.sendWire(second);
    m.sendWire(first);
    await closedFor(a, b, "decrypt-failed");
    expect(b.inbox.some((x) => x.from === MALLORY.publicKey)).toBe(false);
  });

  it("a frame with one bit flipped, and random bytes after the handshake", async () => {
    const { a, b } = await scene();
    const m = await rawPeer(b.url, MALLORY, b.key);
    const wire = m.sealer.seal([frameHeader(TYPE_DATA, 1), Buffer.from("tampered")]);
    wire[5] ^= 0x10;
    m.sendWire(wire);
    await closedFor(a, b, "decrypt-failed");
    const m2 = await rawPeer(b.url, MALLORY, b.key);
    m2.sendWire(randomBytes(200));
    await closedFor(a, b, "decrypt-failed", 2);
  });
});

describe("frames the node does not accept", () => {
  it("a frame over its channel's size limit (1 MiB on consensus)", async () => {
    const { a, b } = await scene();
    const m = await rawPeer(b.url, MALLORY, b.key);
    m.sendData(1, Buffer.alloc(1024 * 1024)); // exactly the limit: delivered
    m.sendData(1, Buffer.alloc(1024 * 1024 + 1));
    expect((await m.closed).reason).toBe("oversized-frame");
    await closedFor(a, b, "oversized-frame");
    expect(b.inbox.filter((x) => x.from === MALLORY.publicKey).map((x) => x.bytes.length)).toEqual([1024 * 1024]);
  });

  it("a WebSocket message over the largest frame any channel allows is cut off unread", async () => {
    const { a, b } = await scene();
    const m = await rawPeer(b.url, MALLORY, b.key);
    m.sendWire(Buffer.alloc(3 * 1024 * 1024)); // catchup, the largest channel, allows 2 MiB
    await closedFor(a, b, "oversized-frame");
  });

  it("a data frame on a logical channel nobody declared", async () => {
    const { a, b } = await scene();
    const m = await rawPeer(b.url, MALLORY, b.key);
    m.sendData(99, Buffer.from("where?"));
    expect((await m.closed).reason).toBe("unknown-channel");
    await closedFor(a, b, "unknown-channel");
  });

  const malformed: Array<[string, () => Buffer, CloseReason]> = [
    ["a frame of version 2", () => Buffer.from([2, TYPE_DATA, 0, 1, 65]), "unsupported-version"],
    ["a frame shorter than its header", () => Buffer.from([1, TYPE_DATA]), "malformed-frame"],
    ["a frame of unknown type", () => Buffer.from([1, 9, 0, 0]), "malformed-frame"],
    ["a data frame on the control channel", () => Buffer.from([1, TYPE_DATA, 0, 0, 65]), "malformed-frame"],
    ["a ping with a 3-byte body", () => Buffer.concat([frameHeader(TYPE_PING, 0), Buffer.from("abc")]), "malformed-frame"],
    ["a second hello", () => Buffer.concat([frameHeader(TYPE_HELLO, 0), helloBody(1 << 20, 1 << 20)]), "malformed-frame"],
  ];
  for (const [what, plain, reason] of malformed) {
    it(`${what} closes with ${reason}`, async () => {
      const { a, b } = await scene();
      const m = await rawPeer(b.url, MALLORY, b.key);
      m.sendPlain(plain());
      await closedFor(a, b, reason);
    });
  }

  it("a text message after the handshake", async () => {
    const { a, b } = await scene();
    const m = await rawPeer(b.url, MALLORY, b.key);
    m.ws.send("hello?");
    await closedFor(a, b, "malformed-frame");
  });
});

describe("garbage bytes", () => {
  it("bytes that are not HTTP", async () => {
    const { a, b } = await scene();
    const s = await tcp(b.port);
    s.write(randomBytes(300));
    await socketClosed(s);
    await closedFor(a, b, "protocol-error");
    expect(b.net.stats().pendingHandshakes).toBe(0);
  });

  it("bytes that break WebSocket framing on an authenticated connection", async () => {
    const { a, b } = await scene();
    const m = await rawPeer(b.url, MALLORY, b.key);
    // An unmasked frame with reserved opcode 0x3: no valid client sends it.
    ((m.ws as unknown as { _socket: Socket })._socket).write(Buffer.from([0x83, 0x02, 0x41, 0x42]));
    await closedFor(a, b, "protocol-error");
  });

  it("garbage in place of the first handshake message, as binary and as text", async () => {
    const { a, b } = await scene();
    const w1 = await openWs(b.url);
    w1.send(randomBytes(64));
    expect((await closedOf(w1)).reason).toBe("handshake-failed");
    const w2 = await openWs(b.url);
    w2.send("GET / HTTP/1.1");
    await closedOf(w2);
    await closedFor(a, b, "handshake-failed", 2);
  });

  it("a first message with a low-order ephemeral key (all zeros)", async () => {
    const { a, b } = await scene();
    const w = await openWs(b.url);
    w.send(Buffer.concat([Buffer.alloc(32), prologueFor("test-net")]));
    await closedOf(w);
    await closedFor(a, b, "handshake-failed");
  });

  it("a first message naming protocol version 2", async () => {
    const { a, b } = await scene();
    const w = await openWs(b.url);
    w.send(Buffer.concat([randomBytes(32), Buffer.from("statecell/net/2\0test-net")]));
    expect((await closedOf(w)).reason).toBe("wrong-version");
    await closedFor(a, b, "wrong-version");
  });
});

describe("peers that stall or flood", () => {
  it("a handshake that stops after the first message is closed at the handshake timeout", async () => {
    const { a, b } = await scene({ handshakeTimeoutMs: 300 });
    const { InitiatorHandshake } = await import("../../../runtime/net/handshake.js");
    const w = await openWs(b.url);
    const t0 = performance.now();
    w.send(new InitiatorHandshake(MALLORY, prologueFor("test-net")).start());
    await nextMessage(w);
    expect((await closedOf(w)).reason).toBe("handshake-timeout");
    expect(performance.now() - t0).toBeLessThan(3000);
    await closedFor(a, b, "handshake-timeout");
  });

  it("an authenticated peer that goes silent is closed at the idle timeout", async () => {
    const { a, b } = await scene({ pingIntervalMs: 50, idleTimeoutMs: 250 });
    const m = await rawPeer(b.url, MALLORY, b.key);
    const t0 = performance.now();
    expect((await m.closed).reason).toBe("idle-timeout"); // mallory never answers bob's pings
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThan(200);
    expect(ms).toBeLessThan(3000);
    expect(m.frames.some((f) => f.type === TYPE_PING)).toBe(true);
    await closedFor(a, b, "idle-timeout");
  });

  it("more sockets than maxPendingHandshakes are closed on accept", async () => {
    const { a, b } = await scene({ maxPendingHandshakes: 3, handshakeTimeoutMs: 400 });
    const sockets = await Promise.all([1, 2, 3, 4, 5].map(() => tcp(b.port)));
    await waitFor(() => b.net.stats().closes["too-many-pending"] === 2, 3000, "two refused");
    expect(b.net.stats().pendingHandshakes).toBe(3);
    await assertWorks(a, b, "while pending is full");
    await Promise.all(sockets.map(socketClosed));
    await waitFor(() => b.net.stats().pendingHandshakes === 0, 3000, "pending drained");
    expect(b.net.stats().closes["handshake-timeout"]).toBe(3);
  });

  it("a peer that sends faster than bob's announced receive rate is slowed by paused reads", async () => {
    const rate = 128 << 10;
    const { a, b } = await scene({ receiveBytesPerSecond: rate, burstBytes: 16 << 10 });
    const m = await rawPeer(b.url, MALLORY, b.key);
    const chunk = Buffer.alloc(16 << 10, 5);
    const N = 16;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) m.sendData(4, chunk); // ignores the rate bob announced in hello
    await waitFor(() => b.inbox.filter((x) => x.from === MALLORY.publicKey).length === N, 20_000, "flood delivered");
    const elapsed = performance.now() - t0;
    // 256 KiB at 128 KiB/s, less bob's slack (2 x 16 KiB of burst, one 64 KiB socket read, one frame):
    // at least (256 - 32 - 64 - 16) / 128 s = 1.1 s; without the limit it takes a few ms.
    expect(elapsed).toBeGreaterThan(1000);
    expect(elapsed).toBeLessThan(15_000);
    expect(b.net.stats().peers[MALLORY.publicKey].readPauses).toBeGreaterThan(0);
    expect(b.net.stats().closes["idle-timeout"]).toBe(0); // paused reading is not silence
    await assertWorks(a, b, "during the flood");
  });
});

describe("before a connection is authenticated", () => {
  it("nothing but the handshake is read, and the dialler's identity check comes first", async () => {
    const { a, b } = await scene();
    // A dialler that expects another key never reveals itself: bob only sees the socket close.
    const c = await node("carol", { allow: ["bob", "dave"], limits: { reconnectBaseMs: 10_000, reconnectMaxMs: 10_000 } });
    c.net.addPeer(key("dave"), b.url);
    await waitFor(() => c.net.stats().closes["unexpected-identity"] === 1, 5000, "carol refuses");
    await waitFor(() => b.net.stats().closes["closed-by-peer"] === 1, 5000, "bob sees a close");
    expect(b.net.stats().closes["not-allowed"]).toBe(0); // carol is not allowed, but never said who she is
    await assertWorks(a, b, "after carol");
  });
});
