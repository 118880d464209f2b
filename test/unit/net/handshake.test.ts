/**
 * The handshake as a pure exchange of messages (no sockets): mutual
 * authentication, the prologue, and refusals of replayed, tampered and
 * forged messages.
 */
import NoiseState from "noise-handshake";
import { describe, expect, it } from "vitest";
import { hexToBytes } from "../../../runtime/core/hash.js";
import { keyPairFromName, signBytes } from "../../../runtime/core/keys.js";
import { utf8 } from "../../../runtime/core/canonical.js";
import {
  IDENTITY_BYTES,
  InitiatorHandshake,
  ResponderHandshake,
  SECOND_MESSAGE_BYTES,
  THIRD_MESSAGE_BYTES,
  prologueFor,
  type SessionKeys,
} from "../../../runtime/net/handshake.js";
import { FrameOpener, FrameSealer } from "../../../runtime/net/transport-cipher.js";

const ALICE = keyPairFromName("alice");
const BOB = keyPairFromName("bob");
const P = prologueFor("test-net");

interface Run {
  first: Uint8Array;
  second: Uint8Array;
  third: Uint8Array;
  initiator: SessionKeys;
  responder: SessionKeys;
}

function handshake(init = ALICE, resp = BOB, pi = P, pr = P): Run {
  const i = new InitiatorHandshake(init, pi);
  const r = new ResponderHandshake(resp, pr);
  const first = i.start();
  const a = r.respond(first);
  if (!a.ok) throw new Error(a.reason);
  const b = i.readResponse(a.message);
  if (!b.ok) throw new Error(b.reason);
  const c = i.finish();
  if (!c.ok) throw new Error(c.reason);
  const d = r.readFinal(c.message);
  if (!d.ok) throw new Error(d.reason);
  return { first, second: a.message, third: c.message, initiator: c.keys, responder: d.keys };
}

describe("a handshake between two identities", () => {
  it("each side learns the other's ed25519 key; keys and hash agree; frames flow both ways", () => {
    const run = handshake();
    expect(run.initiator.peerKey).toBe(BOB.publicKey);
    expect(run.responder.peerKey).toBe(ALICE.publicKey);
    expect(Buffer.from(run.initiator.hash).equals(Buffer.from(run.responder.hash))).toBe(true);
    expect(run.initiator.hash.length).toBe(64);
    const aToB = new FrameSealer(run.initiator.sendKey);
    const bFromA = new FrameOpener(run.responder.receiveKey);
    const bToA = new FrameSealer(run.responder.sendKey);
    const aFromB = new FrameOpener(run.initiator.receiveKey);
    expect(bFromA.open(aToB.seal([utf8("to bob")]))?.toString()).toBe("to bob");
    expect(aFromB.open(bToA.seal([utf8("to alice")]))?.toString()).toBe("to alice");
    // The two directions use different keys: a frame cannot be reflected back to its sender.
    expect(Buffer.from(run.initiator.sendKey).equals(Buffer.from(run.initiator.receiveKey))).toBe(false);
    expect(aFromB.open(aToB.seal([utf8("reflected")]))).toBeNull();
    expect([run.second.length, run.third.length]).toEqual([SECOND_MESSAGE_BYTES, THIRD_MESSAGE_BYTES]);
  });

  it("fresh ephemeral keys every time: two runs share no message, key or hash", () => {
    const x = handshake();
    const y = handshake();
    for (const k of ["first", "second", "third"] as const) expect(Buffer.from(x[k]).equals(Buffer.from(y[k]))).toBe(false);
    expect(Buffer.from(x.initiator.hash).equals(Buffer.from(y.initiator.hash))).toBe(false);
  });

  it("the prologue names protocol version 1 and the network", () => {
    expect(Buffer.from(P).toString("latin1")).toBe("statecell/net/1\0test-net");
  });
});

describe("refusals", () => {
  it("a recorded first and third message replayed to a new responder", () => {
    const old = handshake();
    const r = new ResponderHandshake(BOB, P);
    expect(r.respond(old.first).ok).toBe(true); // the first message carries nothing secret: it is answered anew
    expect(r.readFinal(old.third)).toEqual({ ok: false, reason: "handshake-failed" });
  });

  it("a recorded second message replayed to a new initiator", () => {
    const old = handshake();
    const i = new InitiatorHandshake(ALICE, P);
    i.start();
    expect(i.readResponse(old.second)).toEqual({ ok: false, reason: "handshake-failed" });
  });

  it("any single flipped bit in the second or third message", () => {
    const run = handshake();
    for (let at = 0; at < SECOND_MESSAGE_BYTES; at++) {
      const i = new InitiatorHandshake(ALICE, P);
      const r = new ResponderHandshake(BOB, P);
      const second = r.respond(i.start());
      if (!second.ok) throw new Error("setup");
      const m = Buffer.from(second.message);
      m[at] ^= 1;
      expect(i.readResponse(m).ok).toBe(false);
    }
    for (let at = 0; at < THIRD_MESSAGE_BYTES; at++) {
      const i = new InitiatorHandshake(ALICE, P);
      const r = new ResponderHandshake(BOB, P);
      const second = r.respond(i.start());
      if (!second.ok || !i.readResponse(second.message).ok) throw new Error("setup");
      const third = i.finish();
      if (!third.ok) throw new Error("setup");
      const m = Buffer.from(third.message);
      m[at] ^= 1;
      expect(r.readFinal(m).ok).toBe(false);
    }
    expect(run.third.length).toBe(THIRD_MESSAGE_BYTES);
  });

  it("another network, another version, and a cleartext prologue that lies", () => {
    const r1 = new ResponderHandshake(BOB, P);
    expect(r1.respond(new InitiatorHandshake(ALICE, prologueFor("other")).start())).toEqual({ ok: false, reason: "wrong-network" });
    const v2 = Buffer.from("statecell/net/2\0test-net");
    const first = Buffer.concat([Buffer.from(new InitiatorHandshake(ALICE, P).start().subarray(0, 32)), v2]);
    expect(new ResponderHandshake(BOB, P).respond(first)).toEqual({ ok: false, reason: "wrong-version" });
    // Claiming test-net in clear while hashing another prologue: the keys differ and the answer does not decrypt.
    const liar = new NoiseState("XX", true);
    liar.initialise(prologueFor("other"));
    const lie = liar.send(P);
    const r = new ResponderHandshake(BOB, P);
    const answer = r.respond(lie);
    expect(answer.ok).toBe(true);
    if (answer.ok) expect(() => liar.recv(answer.message)).toThrow();
  });

  it("messages of the wrong length, and a node talking to itself", () => {
    expect(new ResponderHandshake(BOB, P).respond(new Uint8Array(10)).ok).toBe(false);
    expect(new ResponderHandshake(BOB, P).respond(new Uint8Array(2000)).ok).toBe(false);
    const i = new InitiatorHandshake(ALICE, P);
    i.start();
    expect(i.readResponse(new Uint8Array(SECOND_MESSAGE_BYTES + 1))).toEqual({ ok: false, reason: "handshake-failed" });
    expect(() => handshake(ALICE, ALICE)).toThrow("self");
  });
});

/** An initiator written by hand, to send identity payloads the real one never would. */
function forgedThird(payloadOf: (noiseStatic: Uint8Array, h: Uint8Array) => Uint8Array): string | true {
  const noise = new NoiseState("XX", true);
  noise.initialise(P);
  const r = new ResponderHandshake(BOB, P);
  const second = r.respond(noise.send(P));
  if (!second.ok) throw new Error("setup");
  noise.recv(second.message);
  const third = noise.send(payloadOf(noise.s.publicKey, noise.getHandshakeHash()));
  const res = r.readFinal(third);
  return res.ok ? true : res.reason;
}

function identityPayload(signer: typeof ALICE, claimed: string, role: number, noiseStatic: Uint8Array, h: Uint8Array): Uint8Array {
  const tag = utf8("statecell/net/1 identity");
  const msg = Buffer.concat([tag, Buffer.from([0, role]), noiseStatic, h]);
  return Buffer.concat([Buffer.from([1]), hexToBytes(claimed), hexToBytes(signBytes(signer, msg))]);
}

describe("identity payloads", () => {
  it("the hand-written initiator is faithful: a correct payload is accepted", () => {
    expect(forgedThird((s, h) => identityPayload(ALICE, ALICE.publicKey, 2, s, h))).toBe(true);
  });

  it("a key the sender cannot sign for, a signature over another static key, another role or another hash", () => {
    const MALLORY = keyPairFromName("mallory");
    expect(forgedThird((s, h) => identityPayload(MALLORY, ALICE.publicKey, 2, s, h))).toBe("bad-identity");
    expect(forgedThird((_s, h) => identityPayload(ALICE, ALICE.publicKey, 2, new Uint8Array(32).fill(9), h))).toBe("bad-identity");
    expect(forgedThird((s, h) => identityPayload(ALICE, ALICE.publicKey, 1, s, h))).toBe("bad-identity");
    expect(forgedThird((s) => identityPayload(ALICE, ALICE.publicKey, 2, s, new Uint8Array(64)))).toBe("bad-identity");
    expect(forgedThird(() => new Uint8Array(IDENTITY_BYTES))).toBe("bad-identity");
    expect(forgedThird(() => new Uint8Array(IDENTITY_BYTES - 1))).toBe("handshake-failed"); // the length is fixed
  });
});
