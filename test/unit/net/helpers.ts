/**
 * Test helpers for runtime/net: nodes on 127.0.0.1 with free ports, a
 * polling wait, and a raw peer that speaks the protocol by hand (so hostile
 * tests can send what an honest node never would).
 */
import { createConnection, type Socket } from "node:net";
import { WebSocket } from "ws";
import { keyPairFromName, type KeyPair } from "../../../runtime/core/keys.js";
import { TYPE_DATA, TYPE_HELLO, decodeFrame, frameHeader, helloBody, type Frame } from "../../../runtime/net/frame.js";
import { InitiatorHandshake, prologueFor } from "../../../runtime/net/handshake.js";
import { createPeerNetwork, STATECELL_CHANNELS, type ChannelSpec, type NetLimits, type PeerNetwork, type CloseReason } from "../../../runtime/net/index.js";
import { FrameOpener, FrameSealer } from "../../../runtime/net/transport-cipher.js";

export const NETWORK = "test-net";

/** Resolves when `cond()` is true; rejects after `ms` with `what`. */
export async function waitFor(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function key(name: string): string {
  return keyPairFromName(name).publicKey;
}

export interface Received {
  from: string;
  channel: string;
  text: string;
  bytes: Uint8Array;
  at: number;
}

export interface TestNode {
  name: string;
  identity: KeyPair;
  key: string;
  net: PeerNetwork;
  url: string;
  port: number;
  inbox: Received[];
  ups: string[];
  downs: Array<{ peer: string; reason: CloseReason }>;
  drains: Array<{ peer: string; channel: string }>;
  /** The allow set the network reads (tests may change it, then call recheckAllowed). */
  allowSet: Set<string>;
}

const open: PeerNetwork[] = [];

/** Closes every network the helpers created (afterEach). */
export async function closeAll(): Promise<void> {
  const nets = open.splice(0);
  await Promise.all(nets.map((n) => n.close()));
}

export interface NodeOptions {
  allow?: string[];
  limits?: Partial<NetLimits>;
  channels?: readonly ChannelSpec[];
  networkId?: string;
  listen?: boolean;
  port?: number;
  onMessage?: (node: TestNode, from: string, channel: string, bytes: Uint8Array) => void;
  identity?: KeyPair;
}

/** A node named `name` (key from keyPairFromName), allowing the named peers, listening on a free port. */
export async function node(name: string, opts: NodeOptions = {}): Promise<TestNode> {
  const identity = opts.identity ?? keyPairFromName(name);
  const allow = new Set((opts.allow ?? []).map(key));
  const t: TestNode = { name, identity, key: identity.publicKey, net: undefined as unknown as PeerNetwork, url: "", port: 0, inbox: [], ups: [], downs: [], drains: [], allowSet: allow };
  t.net = createPeerNetwork(
    { identity, networkId: opts.networkId ?? NETWORK, channels: opts.channels ?? STATECELL_CHANNELS, allow, limits: opts.limits },
    {
      onMessage: (from, channel, bytes) => {
        t.inbox.push({ from, channel, text: Buffer.from(bytes).toString("utf8"), bytes, at: performance.now() });
        opts.onMessage?.(t, from, channel, bytes);
      },
      onPeerUp: (p) => t.ups.push(p),
      onPeerDown: (p, reason) => t.downs.push({ peer: p, reason }),
      onDrain: (p, channel) => t.drains.push({ peer: p, channel }),
    },
  );
  open.push(t.net);
  if (opts.listen !== false) {
    const l = await t.net.listen({ port: opts.port ?? 0 });
    t.url = l.url;
    t.port = l.port;
  }
  return t;
}

/** `a` dials `b` and both see each other. */
export async function connect(a: TestNode, b: TestNode): Promise<void> {
  a.net.addPeer(b.key, b.url);
  await waitFor(() => a.net.connectedPeers().includes(b.key) && b.net.connectedPeers().includes(a.key), 5000, `${a.name} <-> ${b.name}`);
}

/** Sends one message each way and waits for both to arrive (the pair still works). */
export async function assertWorks(a: TestNode, b: TestNode, tag: string): Promise<void> {
  const before = [a.inbox.length, b.inbox.length];
  a.net.send(b.key, "consensus", Buffer.from(`${tag}: ${a.name} to ${b.name}`));
  b.net.send(a.key, "mempool", Buffer.from(`${tag}: ${b.name} to ${a.name}`));
  await waitFor(
    () =>
      b.inbox.slice(before[1]).some((m) => m.text === `${tag}: ${a.name} to ${b.name}`) &&
      a.inbox.slice(before[0]).some((m) => m.text === `${tag}: ${b.name} to ${a.name}`),
    5000,
    `${tag} round trip`,
  );
}

/** A WebSocket opened to `url` (resolves on open). */
export function openWs(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Resolves with the close code and reason when `ws` closes. */
export function closedOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve({ code: 1006, reason: "" });
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/** The next binary message on `ws`. */
export function nextMessage(ws: WebSocket, ms = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no message")), ms);
    ws.once("message", (d) => {
      clearTimeout(t);
      resolve(d as Buffer);
    });
    ws.once("close", () => {
      clearTimeout(t);
      reject(new Error("closed before a message"));
    });
  });
}

/** A peer driven by hand: handshake with the real code, then any frame or bytes the test wants. */
export interface RawPeer {
  ws: WebSocket;
  sealer: FrameSealer;
  opener: FrameOpener;
  /** Handshake messages this peer sent (first, third), for replay tests. */
  sent: { first: Uint8Array; third: Uint8Array };
  /** Frames received after the handshake. */
  frames: Frame[];
  closed: Promise<{ code: number; reason: string }>;
  /** Seals `plain` (a whole frame: header and body) and sends it. */
  sendPlain(plain: Uint8Array): Buffer;
  /** Seals and sends a data frame. */
  sendData(channel: number, body: Uint8Array): Buffer;
  /** Sends bytes as one WebSocket message, unsealed. */
  sendWire(bytes: Uint8Array): void;
}

/**
 * Dials `url` as `identity`, expecting `expectedKey`, and completes the
 * handshake and hello: the remote node then counts this peer as connected.
 */
export async function rawPeer(url: string, identity: KeyPair, expectedKey: string, networkId = NETWORK): Promise<RawPeer> {
  const ws = await openWs(url);
  const closed = closedOf(ws);
  const hs = new InitiatorHandshake(identity, prologueFor(networkId));
  const first = hs.start();
  ws.send(first);
  const second = await nextMessage(ws);
  const r = hs.readResponse(second);
  if (!r.ok) throw new Error(`raw peer: ${r.reason}`);
  if (r.peerKey !== expectedKey) throw new Error("raw peer: unexpected responder");
  const f = hs.finish();
  if (!f.ok) throw new Error(`raw peer: ${f.reason}`);
  ws.send(f.message);
  const sealer = new FrameSealer(f.keys.sendKey);
  const opener = new FrameOpener(f.keys.receiveKey);
  const frames: Frame[] = [];
  const hello = await nextMessage(ws);
  const plain = opener.open(hello);
  if (plain === null) throw new Error("raw peer: hello does not decrypt");
  const h = decodeFrame(plain);
  if ("error" in h || h.type !== TYPE_HELLO) throw new Error("raw peer: first frame is not hello");
  ws.on("message", (d: Buffer) => {
    const p = opener.open(d);
    if (p === null) return;
    const fr = decodeFrame(Buffer.from(p));
    if (!("error" in fr)) frames.push(fr);
  });
  const peer: RawPeer = {
    ws,
    sealer,
    opener,
    sent: { first, third: f.message },
    frames,
    closed,
    sendPlain(p) {
      const wire = sealer.seal([p]);
      ws.send(wire);
      return wire;
    },
    sendData(channel, body) {
      return peer.sendPlain(Buffer.concat([frameHeader(TYPE_DATA, channel), body]));
    },
    sendWire(bytes) {
      ws.send(bytes);
    },
  };
  peer.sendPlain(Buffer.concat([frameHeader(TYPE_HELLO, 0), helloBody(Infinity, 1 << 20)]));
  return peer;
}

/** A plain TCP connection to a node's port. */
export function tcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Resolves when the TCP socket closes (ms elapsed since the call). */
export function socketClosed(s: Socket): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(0);
    s.once("close", () => resolve(performance.now() - t0));
    s.on("error", () => undefined);
    s.resume();
  });
}
