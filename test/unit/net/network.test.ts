/**
 * Peer networks over real WebSockets on 127.0.0.1: who may connect, one
 * connection per peer, messages on several logical channels both ways,
 * reconnects, timeouts, priorities and rate limits.
 */
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { isStatecellError } from "../../../runtime/core/errors.js";
import { DEFAULT_LIMITS, STATECELL_CHANNELS, type ChannelSpec } from "../../../runtime/net/index.js";
import { assertWorks, closeAll, connect, key, node, sleep, socketClosed, tcp, waitFor } from "./helpers.js";

afterEach(closeAll);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isStatecellError(e)) return e.code;
    throw e;
  }
  return "no error";
}

describe("a good pair", () => {
  it("exchanges messages both ways on several logical channels, in order per channel", async () => {
    const a = await node("alice", { allow: ["bob"] });
    const b = await node("bob", { allow: ["alice"] });
    await connect(a, b);
    expect(a.ups).toEqual([b.key]);
    expect(b.ups).toEqual([a.key]);
    for (let i = 0; i < 50; i++) {
      for (const ch of ["consensus", "outputs", "catchup", "mempool"]) {
        expect(a.net.send(b.key, ch, Buffer.from(`${ch} ${i} from alice`))).toBe("queued");
        expect(b.net.send(a.key, ch, Buffer.from(`${ch} ${i} from bob`))).toBe("queued");
      }
    }
    await waitFor(() => a.inbox.length === 200 && b.inbox.length === 200, 5000, "400 messages");
    for (const ch of ["consensus", "outputs", "catchup", "mempool"]) {
      expect(b.inbox.filter((m) => m.channel === ch).map((m) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `${ch} ${i} from alice`));
      expect(a.inbox.filter((m) => m.channel === ch).map((m) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `${ch} ${i} from bob`));
    }
    expect(new Set(b.inbox.map((m) => m.from))).toEqual(new Set([a.key]));
    const s = a.net.stats();
    expect(s.channels.consensus).toMatchObject({ sentMessages: 50, receivedMessages: 50, dropped: 0 });
    expect(s.peers[b.key].direction).toBe("outbound");
    expect(b.net.stats().peers[a.key].direction).toBe("inbound");
  });

  it("carries a 1 MiB consensus message, and broadcast reaches every connected peer", async () => {
    const hub = await node("hub", { allow: ["p1", "p2", "p3"] });
    const peers = await Promise.all(["p1", "p2", "p3"].map((n) => node(n, { allow: ["hub"] })));
    for (const p of peers) await connect(p, hub);
    const big = Buffer.alloc(1024 * 1024, 7);
    big[0] = 1;
    big[big.length - 1] = 9;
    const r = hub.net.broadcast("consensus", big);
    expect(r).toEqual({ queued: 3, dropped: 0, refused: 0, "not-connected": 0 });
    expect(hub.net.broadcast("mempool", Buffer.from("x"), [peers[0].key, key("nobody")])).toEqual({ queued: 1, dropped: 0, refused: 0, "not-connected": 1 });
    await waitFor(() => peers.every((p) => p.inbox.some((m) => m.channel === "consensus")), 10_000, "1 MiB to three peers");
    for (const p of peers) {
      const m = p.inbox.find((x) => x.channel === "consensus")!;
      expect(Buffer.compare(Buffer.from(m.bytes), big)).toBe(0);
    }
    expect(hub.net.connectedPeers()).toEqual(peers.map((p) => p.key).sort());
  });

  it("a handler that throws is counted and the connection keeps working", async () => {
    let n = 0;
    const a = await node("alice", { allow: ["bob"] });
    const b = await node("bob", {
      allow: ["alice"],
      onMessage: () => {
        if (n++ === 0) throw new Error("handler bug");
      },
    });
    await connect(a, b);
    a.net.send(b.key, "consensus", Buffer.from("first"));
    await assertWorks(a, b, "after a throwing handler");
    expect(b.net.stats().handlerErrors).toBe(1);
  });
});

describe("who may connect", () => {
  it("an identity the node does not allow is refused (and an allowed one still connects)", async () => {
    const b = await node("bob", { allow: ["alice"] });
    const a = await node("alice", { allow: ["bob"] });
    const m = await node("mallory", { allow: ["bob"], limits: { reconnectBaseMs: 10_000, reconnectMaxMs: 10_000 } });
    m.net.addPeer(b.key, b.url);
    await waitFor(() => b.net.stats().closes["not-allowed"] === 1, 5000, "refusal");
    await waitFor(() => m.net.stats().closedByPeer["not-allowed"] === 1, 5000, "mallory told why");
    expect(b.ups).toEqual([]);
    expect(m.ups).toEqual([]);
    expect(b.net.connectedPeers()).toEqual([]);
    await connect(a, b);
    await assertWorks(a, b, "allowed");
  });

  it("a dialler does not connect to a responder it does not allow, and tells nothing of itself", async () => {
    const b = await node("bob", { allow: ["alice"] });
    const a = await node("alice", { allow: [], limits: { reconnectBaseMs: 10_000, reconnectMaxMs: 10_000 } });
    a.net.addPeer(b.key, b.url);
    await waitFor(() => a.net.stats().closes["not-allowed"] === 1, 5000, "dialler refuses");
    expect(b.net.stats().opened + a.net.stats().opened).toBe(0);
  });

  it("a peer presenting a different key than the dialler expected is refused", async () => {
    const a = await node("alice", { allow: ["bob", "carol"], limits: { reconnectBaseMs: 10_000, reconnectMaxMs: 10_000 } });
    const c = await node("carol", { allow: ["alice"] });
    a.net.addPeer(key("bob"), c.url); // carol answers at the address alice believes is bob's
    await waitFor(() => a.net.stats().closes["unexpected-identity"] === 1, 5000, "unexpected identity");
    await waitFor(() => c.net.stats().closedByPeer["unexpected-identity"] === 1, 5000, "carol told");
    expect(a.ups).toEqual([]);
    expect(c.ups).toEqual([]);
  });

  it("keeps redialling, with backoff, an address that answered with another key", async () => {
    const a = await node("alice", { allow: ["bob", "carol"], limits: { reconnectBaseMs: 20, reconnectMaxMs: 100 } });
    const c = await node("carol", { allow: ["alice"] });
    a.net.addPeer(key("bob"), c.url);
    await waitFor(() => a.net.stats().closes["unexpected-identity"] >= 3, 5000, "three attempts");
    expect(a.net.connectedPeers()).toEqual([]);
  });

  it("a node refuses a connection from itself", async () => {
    const a = await node("alice", { allow: ["alice", "bob"], limits: { reconnectBaseMs: 10_000, reconnectMaxMs: 10_000 } });
    expect(codeOf(() => a.net.addPeer(a.key, a.url))).toBe("NET_BAD_PEER_KEY");
    // A second process with the same identity (a copied key) dialled at bob's address.
    const twin = await node("alice", { allow: ["alice", "bob"], limits: { reconnectBaseMs: 10_000, reconnectMaxMs: 10_000 } });
    twin.net.addPeer(key("bob"), a.url);
    await waitFor(() => twin.net.stats().closes.self === 1, 5000, "self refused");
    expect(a.ups).toEqual([]);
    expect(twin.ups).toEqual([]);
  });

  it("nodes of two networks never connect", async () => {
    const b = await node("bob", { allow: ["alice"], networkId: "net-one" });
    const a = await node("alice", { allow: ["bob"], networkId: "net-two", limits: { reconnectBaseMs: 10_000, reconnectMaxMs: 10_000 } });
    a.net.addPeer(b.key, b.url);
    await waitFor(() => b.net.stats().closes["wrong-network"] === 1, 5000, "wrong network");
    await waitFor(() => a.net.stats().closedByPeer["wrong-network"] === 1, 5000, "alice told why");
    expect(a.ups.length + b.ups.length).toBe(0);
  });

  it("recheckAllowed closes peers no longer allowed", async () => {
    const a = await node("alice", { allow: ["bob"], limits: { reconnectBaseMs: 10_000, reconnectMaxMs: 10_000 } });
    const b = await node("bob", { allow: ["alice", "carol"] });
    const c = await node("carol", { allow: ["bob"] });
    await connect(a, b);
    await connect(c, b);
    expect(b.net.recheckAllowed()).toBe(0);
    b.allowSet.delete(a.key);
    expect(b.net.recheckAllowed()).toBe(1);
    expect(b.net.connectedPeers()).toEqual([c.key]);
    expect(b.downs).toEqual([{ peer: a.key, reason: "not-allowed" }]);
    await waitFor(() => a.downs.length === 1, 5000, "alice sees the close");
    await assertWorks(c, b, "carol unaffected");
  });
});

describe("one connection per peer", () => {
  it("both dialling at once ends with one connection, the one dialled by the smaller key, on both sides", async () => {
    let duplicates = 0;
    for (let round = 0; round < 4; round++) {
      const a = await node(`left-${round}`, { allow: [`right-${round}`] });
      const b = await node(`right-${round}`, { allow: [`left-${round}`] });
      a.net.addPeer(b.key, b.url);
      b.net.addPeer(a.key, a.url);
      await waitFor(() => a.net.connectedPeers().length === 1 && b.net.connectedPeers().length === 1, 5000, "connected");
      await sleep(100);
      await waitFor(() => a.net.stats().pendingHandshakes === 0 && b.net.stats().pendingHandshakes === 0, 5000, "settled");
      const small = a.key < b.key ? a : b;
      const large = small === a ? b : a;
      expect(small.net.stats().peers[large.key].direction).toBe("outbound");
      expect(large.net.stats().peers[small.key].direction).toBe("inbound");
      expect(a.ups).toEqual([b.key]);
      expect(b.ups).toEqual([a.key]);
      expect(a.downs).toEqual([]);
      expect(b.downs).toEqual([]);
      await assertWorks(a, b, `round ${round}`);
      duplicates += a.net.stats().closes.duplicate + b.net.stats().closes.duplicate;
      await closeAll();
    }
    expect(duplicates).toBeGreaterThan(0); // the race did happen: two connections were made and one was closed
  });

  it("a peer that reconnects replaces its older connection", async () => {
    const b = await node("bob", { allow: ["alice"] });
    const a1 = await node("alice", { allow: ["bob"] });
    await connect(a1, b);
    // The same identity dials again from another process (alice restarted before bob saw the old socket go).
    const a2 = await node("alice", { allow: ["bob"] });
    a2.net.addPeer(b.key, b.url);
    await waitFor(() => b.net.stats().closes.duplicate === 1, 5000, "old connection replaced");
    await waitFor(() => a2.net.connectedPeers().length === 1, 5000, "new connection up");
    expect(b.net.connectedPeers()).toEqual([a2.key]);
    expect(b.ups).toEqual([a2.key]); // one peer, up once: the switch is not a down and an up
    await assertWorks(a2, b, "after replacement");
  });
});

describe("reconnect", () => {
  it("redials a configured peer after it restarts on the same port", async () => {
    const fast = { reconnectBaseMs: 20, reconnectMaxMs: 200 };
    const a = await node("alice", { allow: ["bob"], limits: fast });
    const b1 = await node("bob", { allow: ["alice"] });
    await connect(a, b1);
    await assertWorks(a, b1, "before restart");
    const port = b1.port;
    await b1.net.close();
    await waitFor(() => a.downs.length === 1, 5000, "peer down");
    expect(a.downs[0]).toEqual({ peer: b1.key, reason: "closed-by-peer" });
    await sleep(300); // a few failed dials while bob is away
    const b2 = await node("bob", { allow: ["alice"], port });
    await waitFor(() => a.net.connectedPeers().includes(b2.key) && b2.net.connectedPeers().includes(a.key), 5000, "reconnected");
    await assertWorks(a, b2, "after restart");
    expect(a.ups).toEqual([b1.key, b1.key]);
    expect(a.net.stats().dials).toBeGreaterThanOrEqual(2);
    expect(a.net.stats().closes["dial-failed"]).toBeGreaterThanOrEqual(1);
  });

  it("backs off: a peer that is down for a second is dialled a handful of times, not hundreds", async () => {
    const gone = await node("bob", { allow: [] });
    const port = gone.port;
    await closeAll();
    const a = await node("alice", { allow: ["bob"], limits: { reconnectBaseMs: 20, reconnectMaxMs: 400 } });
    a.net.addPeer(key("bob"), `ws://127.0.0.1:${port}/`);
    await sleep(1200);
    const dials = a.net.stats().dials;
    // 0, ~20, ~40, ~80, ~160, ~320, ~400, ~400 ms (each less up to half): about 6 to 9 dials in 1.2 s.
    expect(dials).toBeGreaterThanOrEqual(4);
    expect(dials).toBeLessThanOrEqual(14);
    expect(a.net.stats().closes["dial-failed"]).toBe(dials);
  });
});

describe("management", () => {
  it("disconnect closes a peer, which redials if configured; removePeer stops that", async () => {
    const a = await node("alice", { allow: ["bob"], limits: { reconnectBaseMs: 20, reconnectMaxMs: 100 } });
    const b = await node("bob", { allow: ["alice"] });
    await connect(a, b);
    a.net.disconnect(b.key);
    expect(a.downs).toEqual([{ peer: b.key, reason: "disconnected" }]);
    await waitFor(() => a.ups.length === 2, 5000, "redialled");
    a.net.removePeer(b.key);
    a.net.disconnect(b.key);
    await sleep(300);
    expect(a.ups.length).toBe(2);
    expect(a.net.connectedPeers()).toEqual([]);
    expect(b.net.stats().closedByPeer.disconnected).toBe(2);
  });

  it("maxPeers bounds authenticated connections", async () => {
    const hub = await node("hub", { allow: ["p1", "p2"], limits: { maxPeers: 1 } });
    const p1 = await node("p1", { allow: ["hub"] });
    const p2 = await node("p2", { allow: ["hub"], limits: { reconnectBaseMs: 10_000, reconnectMaxMs: 10_000 } });
    await connect(p1, hub);
    p2.net.addPeer(hub.key, hub.url);
    await waitFor(() => hub.net.stats().closes["too-many-peers"] === 1, 5000, "second peer refused");
    expect(hub.net.connectedPeers()).toEqual([p1.key]);
    await assertWorks(p1, hub, "the first peer");
  });
});

describe("timeouts", () => {
  it("the default handshake timeout is 5 s", () => {
    expect(DEFAULT_LIMITS.handshakeTimeoutMs).toBe(5000);
  });

  it("a connection that never starts the handshake is closed at the (short, configured) handshake timeout", async () => {
    const b = await node("bob", { allow: ["alice"], limits: { handshakeTimeoutMs: 300 } });
    const silent = await tcp(b.port);
    const ms = await socketClosed(silent);
    expect(ms).toBeGreaterThan(200);
    expect(ms).toBeLessThan(3000);
    expect(b.net.stats().closes["handshake-timeout"]).toBe(1);
    expect(b.net.stats().pendingHandshakes).toBe(0);
  });

  it("a dialler gives up on a server that accepts TCP and never answers", async () => {
    const mute: Server = createServer(() => undefined);
    await new Promise<void>((r) => mute.listen(0, "127.0.0.1", () => r()));
    const port = (mute.address() as { port: number }).port;
    try {
      const a = await node("alice", { allow: ["bob"], limits: { handshakeTimeoutMs: 300, reconnectBaseMs: 10_000, reconnectMaxMs: 10_000 } });
      const t0 = performance.now();
      a.net.addPeer(key("bob"), `ws://127.0.0.1:${port}/`);
      await waitFor(() => a.net.stats().closes["handshake-timeout"] === 1, 3000, "dialler timeout");
      expect(performance.now() - t0).toBeGreaterThan(200);
    } finally {
      mute.close();
    }
  });

  it("an open connection that goes silent is closed at the idle timeout; pings keep a quiet one alive", async () => {
    const limits = { pingIntervalMs: 50, idleTimeoutMs: 250 };
    const a = await node("alice", { allow: ["bob"], limits });
    const b = await node("bob", { allow: ["alice"], limits });
    await connect(a, b);
    await sleep(600); // no messages, but pings both ways
    expect(a.net.connectedPeers()).toEqual([b.key]);
    expect(a.net.stats().peers[b.key].rttMs).toBeGreaterThanOrEqual(0);
    expect(a.net.stats().closes["idle-timeout"]).toBe(0);
  });
});

const SMALL_QUEUES: ChannelSpec[] = [
  { name: "consensus", id: 1, priority: 40, maxMessageBytes: 1 << 20 },
  { name: "lossy", id: 2, priority: 20, maxMessageBytes: 1 << 20, queue: { maxMessages: 3, whenFull: "drop-newest" } },
  { name: "careful", id: 3, priority: 10, maxMessageBytes: 1 << 20, queue: { maxMessages: 4, whenFull: "refuse" } },
];

describe("queues, priorities and rate limits", () => {
  it("a flood on a low-priority channel does not delay a high-priority message much", async () => {
    const channels: ChannelSpec[] = [
      { name: "consensus", id: 1, priority: 40, maxMessageBytes: 1 << 20 },
      { name: "mempool", id: 4, priority: 10, maxMessageBytes: 1 << 20, queue: { maxMessages: 10_000, maxBytes: 64 << 20 } },
    ];
    // The send rate keeps bytes in the priority queues rather than in socket buffers, where no priority applies.
    const a = await node("alice", { allow: ["bob"], channels, limits: { sendBytesPerSecond: 4 << 20, burstBytes: 64 << 10 } });
    const b = await node("bob", { allow: ["alice"], channels });
    await connect(a, b);
    const FLOOD = 200;
    const chunk = Buffer.alloc(16 << 10, 1);
    for (let i = 0; i < FLOOD; i++) expect(a.net.send(b.key, "mempool", chunk)).toBe("queued");
    a.net.send(b.key, "consensus", Buffer.from("urgent"));
    await waitFor(() => b.inbox.some((m) => m.channel === "consensus"), 10_000, "urgent message");
    const before = b.inbox.findIndex((m) => m.channel === "consensus");
    // FIFO order would put it after all 200; strict priority after the few already written (about 5).
    expect(before).toBeLessThan(FLOOD / 5);
    await waitFor(() => b.inbox.length === FLOOD + 1, 10_000, "the flood");
  });

  it("limits the send rate; the receiver announced its rate and never had to pause reading", async () => {
    const rate = 256 << 10;
    const a = await node("alice", { allow: ["bob"] });
    const b = await node("bob", { allow: ["alice"], limits: { receiveBytesPerSecond: rate, burstBytes: 32 << 10 } });
    await connect(a, b);
    const total = 20;
    const chunk = Buffer.alloc(16 << 10, 2);
    const t0 = performance.now();
    for (let i = 0; i < total; i++) a.net.send(b.key, "consensus", chunk);
    await waitFor(() => b.inbox.length === total, 20_000, "rate-limited transfer");
    const elapsed = performance.now() - t0;
    // 320 KiB at 256 KiB/s after a 32 KiB burst: at least (320 - 32 - 16) / 256 s = 1.06 s.
    expect(elapsed).toBeGreaterThan(900);
    expect(elapsed).toBeLessThan(15_000);
    expect(b.net.stats().peers[a.key].readPauses).toBe(0);
  });

  it("a full drop-newest queue drops and counts; a full refuse queue refuses, then calls onDrain", async () => {
    const limits = { sendBytesPerSecond: 64 << 10, burstBytes: 1024 };
    const a = await node("alice", { allow: ["bob"], channels: SMALL_QUEUES, limits });
    const b = await node("bob", { allow: ["alice"], channels: SMALL_QUEUES });
    await connect(a, b);
    const chunk = Buffer.alloc(4096, 3);
    const lossy = Array.from({ length: 8 }, () => a.net.send(b.key, "lossy", chunk));
    // The first goes out at once (the bucket starts full), three wait, the rest are dropped.
    expect(lossy).toEqual(["queued", "queued", "queued", "queued", "dropped", "dropped", "dropped", "dropped"]);
    const careful = Array.from({ length: 6 }, () => a.net.send(b.key, "careful", chunk));
    expect(careful).toEqual(["queued", "queued", "queued", "queued", "refused", "refused"]);
    const s = a.net.stats().channels;
    expect(s.lossy.dropped).toBe(4);
    expect(s.careful.refused).toBe(2);
    expect(a.net.stats().peers[b.key].queuedMessages).toBe(7);
    await waitFor(() => a.drains.length > 0, 5000, "onDrain");
    expect(a.drains).toEqual([{ peer: b.key, channel: "careful" }]);
    await waitFor(() => b.inbox.length === 8, 5000, "queued messages delivered");
  });

  it("send refuses caller mistakes with coded errors", async () => {
    const a = await node("alice", { allow: ["bob"] });
    expect(codeOf(() => a.net.send(key("bob"), "consensu", Buffer.from("x")))).toBe("NET_UNKNOWN_CHANNEL");
    try {
      a.net.send(key("bob"), "consensu", Buffer.from("x"));
    } catch (e) {
      expect(isStatecellError(e) && e.remedy).toBe('use "consensus"');
    }
    expect(codeOf(() => a.net.send(key("bob"), "consensus", Buffer.alloc((1 << 20) + 1)))).toBe("NET_MESSAGE_TOO_LARGE");
    expect(codeOf(() => a.net.send(key("bob"), "consensus", "text" as unknown as Uint8Array))).toBe("NET_NOT_BYTES");
    expect(codeOf(() => a.net.send("not-a-key", "consensus", Buffer.from("x")))).toBe("NET_BAD_PEER_KEY");
    expect(a.net.send(key("bob"), "consensus", Buffer.from("x"))).toBe("not-connected");
    expect(codeOf(() => a.net.addPeer(key("bob"), "http://127.0.0.1:1/"))).toBe("NET_BAD_OPTIONS");
    await expect(node("bob", { port: a.port })).rejects.toMatchObject({ code: "NET_LISTEN_FAILED" });
    await a.net.close();
    expect(codeOf(() => a.net.send(key("bob"), "consensus", Buffer.from("x")))).toBe("NET_CLOSED");
  });
});

describe("options", () => {
  it("refuses bad channel declarations and limits with NET_BAD_OPTIONS", async () => {
    const bad: Array<Partial<ChannelSpec>[]> = [
      [],
      [{ name: "Consensus", id: 1, priority: 1, maxMessageBytes: 10 }],
      [{ name: "a", id: 0, priority: 1, maxMessageBytes: 10 }],
      [{ name: "a", id: 1, priority: 1, maxMessageBytes: 10 }, { name: "b", id: 1, priority: 2, maxMessageBytes: 10 }],
      [{ name: "a", id: 1, priority: 1, maxMessageBytes: 10 }, { name: "b", id: 2, priority: 1, maxMessageBytes: 10 }],
      [{ name: "a", id: 1, priority: 1, maxMessageBytes: 17 << 20 }],
      [{ name: "a", id: 1, priority: 1, maxMessageBytes: 10, queue: { whenFull: "block" as "refuse" } }],
    ];
    for (const channels of bad) {
      await expect(node("x", { channels: channels as ChannelSpec[], listen: false })).rejects.toMatchObject({ code: "NET_BAD_OPTIONS" });
    }
    await expect(node("x", { limits: { idleTimeoutMs: 10, pingIntervalMs: 10 }, listen: false })).rejects.toMatchObject({ code: "NET_BAD_OPTIONS" });
    await expect(node("x", { limits: { handshakeTimeoutMs: 0 }, listen: false })).rejects.toMatchObject({ code: "NET_BAD_OPTIONS" });
    await expect(node("x", { limits: { handshakeTimeotMs: 5 } as never, listen: false })).rejects.toMatchObject({ code: "NET_BAD_OPTIONS" });
    await expect(node("x", { networkId: "", listen: false })).rejects.toMatchObject({ code: "NET_BAD_OPTIONS" });
    await expect(node("x", { channels: STATECELL_CHANNELS, listen: false })).resolves.toBeDefined();
  });
});
