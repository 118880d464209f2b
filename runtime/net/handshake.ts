/**
 * Mutual authentication: a Noise XX handshake (Curve25519, ChaChaPoly,
 * BLAKE2b; the noise-handshake package) whose payloads carry each side's
 * ed25519 identity signing its Noise static key and the handshake hash so
 * far (docs/net.md "Handshake"):
 *
 *   -> e, payload = prologue (in clear; lets the responder name a wrong version or network)
 *   <- e, ee, s, es, payload = identity(responder)
 *   -> s, se, payload = identity(initiator)
 *
 * Prologue: "statecell/net/1", a zero byte, the network id. Noise mixes it
 * into the handshake hash, so sides with different prologues cannot finish.
 *
 * identity (97 bytes): 0x01, ed25519 public key (32), signature (64) over
 *   "statecell/net/1 identity", 0x00, role (0x01 responder, 0x02 initiator),
 *   the signer's Noise static key (32), the handshake hash h (64) as it stood
 *   before the signer's message.
 * The responder's h covers the prologue and the initiator's ephemeral key
 * (fresh per attempt); the initiator's h also covers the responder's
 * ephemeral and static keys and signed payload. So a recorded handshake
 * cannot be replayed: the other side's new ephemeral key changes h and the
 * keys, and the old messages no longer decrypt or verify.
 *
 * Pure apart from randomness (fresh Noise keys per handshake): no I/O and no
 * clock; the connection feeds it messages and decides what to do with the
 * peer key it reports. Failures are results with the close reason, never throws.
 */
import NoiseState from "noise-handshake";
import { utf8 } from "../core/canonical.js";
import { bytesToHex, hexToBytes } from "../core/hash.js";
import { signBytes, verifyBytes, type KeyPair } from "../core/keys.js";
import type { CloseReason } from "./reasons.js";

/** Protocol name and version in the prologue. */
export const PROTOCOL = "statecell/net/1";
const PROTOCOL_BYTES = utf8(PROTOCOL);
const IDENTITY_TAG = utf8(`${PROTOCOL} identity`);
const IDENTITY_VERSION = 1;
const ROLE_RESPONDER = 1;
const ROLE_INITIATOR = 2;
/** Identity payload: version, ed25519 key, signature. */
export const IDENTITY_BYTES = 1 + 32 + 64;
const DH_BYTES = 32;
const MAC_BYTES = 16;
/** The network id is at most 64 characters, so a first message is at most this long. */
const MAX_FIRST_MESSAGE = DH_BYTES + PROTOCOL_BYTES.length + 1 + 64;
/** e, encrypted s, encrypted identity. */
export const SECOND_MESSAGE_BYTES = DH_BYTES + DH_BYTES + MAC_BYTES + IDENTITY_BYTES + MAC_BYTES;
/** encrypted s, encrypted identity. */
export const THIRD_MESSAGE_BYTES = DH_BYTES + MAC_BYTES + IDENTITY_BYTES + MAC_BYTES;

/** "statecell/net/1" 0x00 networkId. */
export function prologueFor(networkId: string): Uint8Array {
  const id = utf8(networkId);
  const out = new Uint8Array(PROTOCOL_BYTES.length + 1 + id.length);
  out.set(PROTOCOL_BYTES, 0);
  out.set(id, PROTOCOL_BYTES.length + 1);
  return out;
}

/** What a finished handshake yields: the peer's identity and the two transport keys. */
export interface SessionKeys {
  /** The peer's ed25519 public key, 64 hex. */
  peerKey: string;
  /** Key of the frames this side sends. */
  sendKey: Uint8Array;
  /** Key of the frames this side receives. */
  receiveKey: Uint8Array;
  /** Final handshake hash (64 bytes): binds both static and both ephemeral keys and the prologue. */
  hash: Uint8Array;
}

/** A refused handshake step, with the reason the connection closes for. */
export type HandshakeFailure = { ok: false; reason: CloseReason };

function fail(reason: CloseReason): HandshakeFailure {
  return { ok: false, reason };
}

function signedBytes(role: number, noiseStatic: Uint8Array, h: Uint8Array): Uint8Array {
  const out = new Uint8Array(IDENTITY_TAG.length + 2 + noiseStatic.length + h.length);
  out.set(IDENTITY_TAG, 0);
  out[IDENTITY_TAG.length + 1] = role;
  out.set(noiseStatic, IDENTITY_TAG.length + 2);
  out.set(h, IDENTITY_TAG.length + 2 + noiseStatic.length);
  return out;
}

function identityPayload(identity: KeyPair, role: number, noiseStatic: Uint8Array, h: Uint8Array): Uint8Array {
  const out = new Uint8Array(IDENTITY_BYTES);
  out[0] = IDENTITY_VERSION;
  out.set(hexToBytes(identity.publicKey), 1);
  out.set(hexToBytes(signBytes(identity, signedBytes(role, noiseStatic, h))), 33);
  return out;
}

/** The identity in a payload, when its signature over (role, the sender's Noise static key, h) verifies. */
function readIdentity(payload: Uint8Array, role: number, remoteStatic: Uint8Array | null, h: Uint8Array): string | null {
  if (payload.length !== IDENTITY_BYTES || payload[0] !== IDENTITY_VERSION || remoteStatic === null) return null;
  const key = bytesToHex(payload.subarray(1, 33));
  const sig = bytesToHex(payload.subarray(33));
  return verifyBytes(key, signedBytes(role, remoteStatic, h), sig) ? key : null;
}

/** Why a first message's prologue differs from ours, or null when it is ours. */
function prologueMismatch(theirs: Uint8Array, ours: Uint8Array): CloseReason | null {
  if (Buffer.from(theirs).equals(Buffer.from(ours))) return null;
  const sep = theirs.indexOf(0);
  if (sep < 0) return "handshake-failed";
  const protocol = Buffer.from(theirs.subarray(0, sep)).toString("latin1");
  if (!protocol.startsWith("statecell/net/")) return "handshake-failed";
  return protocol === PROTOCOL ? "wrong-network" : "wrong-version";
}

/**
 * noise-handshake keeps the remote ephemeral key as a view into the message
 * it read and zeroes it when the handshake completes, so it is given a copy:
 * the caller's buffer (a recorded message, a socket's buffer) stays intact.
 */
function copyOf(message: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(message);
}

function keysOf(noise: NoiseState, peerKey: string): SessionKeys {
  // noise-handshake's split: `tx` encrypts what this side sends (initiator.tx === responder.rx).
  return { peerKey, sendKey: noise.tx!, receiveKey: noise.rx!, hash: noise.hash! };
}

/**
 * The dialling side. `start()` gives the first message; `readResponse(m2)`
 * verifies the responder's identity and returns its key (the caller checks
 * it is the key it dialled and that it is allowed, before revealing its own
 * identity); `finish()` gives the third message and the session keys.
 */
export class InitiatorHandshake {
  private readonly noise = new NoiseState("XX", true);
  private h: Uint8Array | null = null;
  private peerKey: string | null = null;
  private step = 0;

  constructor(
    private readonly identity: KeyPair,
    private readonly prologue: Uint8Array,
  ) {
    this.noise.initialise(prologue);
  }

  start(): Uint8Array {
    if (this.step !== 0) throw new Error("start() is the first step");
    this.step = 1;
    const m = this.noise.send(this.prologue);
    this.h = this.noise.getHandshakeHash();
    return m;
  }

  readResponse(message: Uint8Array): { ok: true; peerKey: string } | HandshakeFailure {
    if (this.step !== 1) return fail("handshake-failed");
    this.step = 2;
    if (message.length !== SECOND_MESSAGE_BYTES) return fail("handshake-failed");
    let payload: Uint8Array;
    try {
      payload = this.noise.recv(copyOf(message));
    } catch {
      // A wrong ephemeral or static key, a tampered byte, another prologue: the AEAD tag fails.
      return fail("handshake-failed");
    }
    const key = readIdentity(payload, ROLE_RESPONDER, this.noise.rs, this.h!);
    if (key === null) return fail("bad-identity");
    if (key === this.identity.publicKey) return fail("self");
    this.peerKey = key;
    return { ok: true, peerKey: key };
  }

  finish(): { ok: true; message: Uint8Array; keys: SessionKeys } | HandshakeFailure {
    if (this.step !== 2 || this.peerKey === null) return fail("handshake-failed");
    this.step = 3;
    try {
      const payload = identityPayload(this.identity, ROLE_INITIATOR, this.noise.s.publicKey, this.noise.getHandshakeHash());
      const message = this.noise.send(payload);
      return { ok: true, message, keys: keysOf(this.noise, this.peerKey) };
    } catch {
      return fail("handshake-failed");
    }
  }
}

/**
 * The accepting side. `respond(m1)` checks the prologue and gives the
 * second message; `readFinal(m3)` verifies the initiator's identity and
 * gives the session keys (the caller checks the key is allowed).
 */
export class ResponderHandshake {
  private readonly noise = new NoiseState("XX", false);
  private h: Uint8Array | null = null;
  private step = 0;

  constructor(
    private readonly identity: KeyPair,
    private readonly prologue: Uint8Array,
  ) {
    this.noise.initialise(prologue);
  }

  respond(message: Uint8Array): { ok: true; message: Uint8Array } | HandshakeFailure {
    if (this.step !== 0) return fail("handshake-failed");
    this.step = 1;
    if (message.length <= DH_BYTES || message.length > MAX_FIRST_MESSAGE) return fail("handshake-failed");
    const mismatch = prologueMismatch(message.subarray(DH_BYTES), this.prologue);
    if (mismatch !== null) return fail(mismatch);
    try {
      this.noise.recv(copyOf(message));
      const payload = identityPayload(this.identity, ROLE_RESPONDER, this.noise.s.publicKey, this.noise.getHandshakeHash());
      const reply = this.noise.send(payload);
      this.h = this.noise.getHandshakeHash();
      return { ok: true, message: reply };
    } catch {
      // An ephemeral key of low order (the DH yields zero): libsodium refuses it.
      return fail("handshake-failed");
    }
  }

  readFinal(message: Uint8Array): { ok: true; keys: SessionKeys } | HandshakeFailure {
    if (this.step !== 1) return fail("handshake-failed");
    this.step = 2;
    if (message.length !== THIRD_MESSAGE_BYTES) return fail("handshake-failed");
    let payload: Uint8Array;
    try {
      payload = this.noise.recv(copyOf(message));
    } catch {
      return fail("handshake-failed");
    }
    const key = readIdentity(payload, ROLE_INITIATOR, this.noise.rs, this.h!);
    if (key === null) return fail("bad-identity");
    if (key === this.identity.publicKey) return fail("self");
    return { ok: true, keys: keysOf(this.noise, key) };
  }
}
