/**
 * The global chain: building a global snapshot from what L0 accepted since the
 * last one, certifying it, and checking global snapshots and acknowledgements
 * as a channel or an auditor does, offline, with nothing but L0's public keys.
 *
 * A global snapshot's certificate is a consensus commit certificate for
 * (L0_CONSENSUS_CHANNEL, L0_CONSENSUS_CELL, ordinal, round, hash), whatever
 * the mode: an embedded L0 is a group of one whose key precommits at round 0;
 * a cluster of L0 validators certifies with the precommits that decided the
 * global snapshot (docs/l0.md, "Cluster mode"). One check serves both.
 */
import type { CommitCertificate } from "../consensus/types.js";
import type { KeyPair } from "../core/keys.js";
import { refuse, short } from "./errors.js";
import { encodingSuite, requireSuite } from "./encoding.js";
import { checkCertificateShape, HEX64, HEX128 } from "./shapes.js";
import { membersOf } from "./signatures.js";
import { ENCODING_V1, GENESIS_HASH, L0_CONSENSUS_CELL, L0_CONSENSUS_CHANNEL, type Ack, type CertifiedGlobal, type GlobalEntry, type GlobalEvent, type GlobalSnapshot, type Refusal, type RegisteredGroup, type SignedAck } from "./types.js";

/** The previous link a new global snapshot continues (null before the first). */
export interface GlobalTip {
  ordinal: number;
  hash: string;
  time: number;
}

/**
 * The next global snapshot: ordinal and prevHash follow `tip`, time never goes
 * back, snapshots sorted by (channel, height, hash), events in the order given.
 */
export function buildGlobal(tip: GlobalTip | null, now: number, snapshots: readonly GlobalEntry[], events: readonly GlobalEvent[], encoding: string = ENCODING_V1): { global: GlobalSnapshot; hash: string } {
  const sorted = [...snapshots].sort((a, b) => (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : a.height - b.height || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0)));
  const global: GlobalSnapshot = {
    type: "global",
    encoding,
    ordinal: (tip?.ordinal ?? 0) + 1,
    prevHash: tip?.hash ?? GENESIS_HASH,
    time: Math.max(Math.floor(now), tip?.time ?? 0),
    snapshots: sorted.map((e) => ({ channel: e.channel, height: e.height, hash: e.hash })),
    events: [...events],
  };
  const suite = requireSuite(encoding);
  return { global, hash: suite.hashBytes(suite.recordBytes("global", global)) };
}

/** An embedded L0's certificate of a global snapshot: its own precommit at round 0. */
export function certifyEmbedded(global: GlobalSnapshot, hash: string, key: KeyPair): CommitCertificate {
  const suite = requireSuite(global.encoding);
  const bytes = suite.precommitBytes(L0_CONSENSUS_CHANNEL, L0_CONSENSUS_CELL, global.ordinal, 0, hash);
  return {
    channel: L0_CONSENSUS_CHANNEL,
    cell: L0_CONSENSUS_CELL,
    height: global.ordinal,
    round: 0,
    valueId: hash,
    signatures: [{ validator: key.publicKey, signature: suite.sign(key, bytes) }],
  };
}

/** L0's validators as a channel or auditor configures them: one key and threshold 1 for an embedded L0. */
export function embeddedValidators(key: string): RegisteredGroup {
  return { validators: [{ name: "l0", key }], threshold: 1 };
}

export type GlobalCheck = { ok: true } | { ok: false; refusal: Refusal };

/**
 * Checks a certified global snapshot: its encoding is known, it hashes to
 * `hash`, a threshold of `l0` precommitted to it at its ordinal, and, given
 * the previous link, it follows it (ordinal + 1, prevHash, time not before).
 */
export function verifyGlobal(certified: CertifiedGlobal, l0: RegisteredGroup, prev?: { ordinal: number; hash: string; time?: number }): GlobalCheck {
  const fail = (refusal: Refusal): GlobalCheck => ({ ok: false, refusal });
  const g = certified?.global;
  const suite = encodingSuite(g?.encoding);
  if (suite === undefined) return fail(refuse("L0_ENCODING", `the global snapshot's encoding ${String(g?.encoding).slice(0, 40)} is unknown here`, "check it with a statecell that knows its encoding", null, ENCODING_V1));
  let hash: string;
  try {
    hash = suite.hashBytes(suite.recordBytes("global", g));
  } catch {
    return fail(refuse("L0_BAD_GLOBAL", "the global snapshot is not plain JSON", "fetch it again from L0", null, null));
  }
  if (hash !== certified.hash) return fail(refuse("L0_HASH", `global snapshot ${g.ordinal} hashes to ${short(hash)}, not to the claimed ${short(certified.hash)}`, "fetch it again from another L0 validator: this copy was altered", certified.hash, hash));
  const bad = checkCertificateShape(certified.certificate);
  if (bad) return fail(bad);
  const c = certified.certificate;
  if (c.channel !== L0_CONSENSUS_CHANNEL || c.cell !== L0_CONSENSUS_CELL || c.height !== g.ordinal || c.valueId !== hash) {
    return fail(refuse("L0_CERTIFICATE", `the certificate is not for global snapshot ${g.ordinal} (${short(hash)})`, "fetch the global snapshot again", { height: c.height, valueId: c.valueId }, { height: g.ordinal, valueId: hash }));
  }
  const m = membersOf(l0);
  const bytes = suite.precommitBytes(L0_CONSENSUS_CHANNEL, L0_CONSENSUS_CELL, g.ordinal, c.round, hash);
  const seen = new Set<string>();
  for (const s of c.signatures) {
    if (!m.has(s.validator)) return fail(refuse("L0_SIGNER_OUTSIDE_GROUP", `${short(s.validator)} is not one of L0's validators`, "configure L0's validator keys as L0 publishes them (GET /v1/info)", s.validator, l0.validators.map((v) => v.key)));
    if (seen.has(s.validator)) return fail(refuse("L0_DUPLICATE_SIGNER", `${short(s.validator)} signed twice`, "fetch the global snapshot again", s.validator, "distinct signers"));
    seen.add(s.validator);
    if (!suite.verify(s.validator, bytes, s.signature)) return fail(refuse("L0_BAD_SIGNATURE", `the signature of ${short(s.validator)} is not a precommit of global snapshot ${g.ordinal}`, "fetch the global snapshot again", s.signature, "a precommit"));
  }
  if (seen.size < l0.threshold) return fail(refuse("L0_THRESHOLD", `${seen.size} of L0's validators signed global snapshot ${g.ordinal}; ${l0.threshold} must`, "fetch the global snapshot again", seen.size, l0.threshold));
  if (prev !== undefined) {
    if (g.ordinal !== prev.ordinal + 1) return fail(refuse("L0_HEIGHT", `global snapshot ${g.ordinal} does not follow ${prev.ordinal}`, "check the global snapshots in order", g.ordinal, prev.ordinal + 1));
    if (g.prevHash !== prev.hash) return fail(refuse("L0_PREV_HASH", `global snapshot ${g.ordinal} names ${short(g.prevHash)} before it, not ${short(prev.hash)}`, "this chain is not the one you hold: keep both as evidence", g.prevHash, prev.hash));
    if (prev.time !== undefined && g.time < prev.time) return fail(refuse("L0_BAD_GLOBAL", `global snapshot ${g.ordinal}'s time goes back`, "keep both as evidence", g.time, prev.time));
  }
  return { ok: true };
}

/** Signs an acknowledgement with L0's key. */
export function signAck(ack: Ack, key: KeyPair): SignedAck {
  const suite = requireSuite(ack.encoding);
  return { ack, signature: suite.sign(key, suite.recordBytes("ack", ack)) };
}

/**
 * Checks an acknowledgement as the channel side stores it: signed by one of
 * L0's keys over its exact bytes and, given `expected`, about that very
 * snapshot.
 */
export function verifyAck(signed: SignedAck, l0Keys: readonly string[], expected?: { channel: string; height: number; hash: string }): GlobalCheck {
  const a = signed?.ack;
  const suite = encodingSuite(a?.encoding);
  if (suite === undefined) return { ok: false, refusal: refuse("L0_ENCODING", "the acknowledgement's encoding is unknown here", "check it with a statecell that knows its encoding", null, ENCODING_V1) };
  if (a.type !== "ack" || typeof a.l0 !== "string" || !HEX64.test(a.l0) || typeof signed.signature !== "string" || !HEX128.test(signed.signature)) {
    return { ok: false, refusal: refuse("L0_BAD_ACK", "the acknowledgement is not { ack: { type: \"ack\", ..., l0 }, signature }", "store the acknowledgement L0 answered unchanged", null, null) };
  }
  if (!l0Keys.includes(a.l0)) return { ok: false, refusal: refuse("L0_BAD_ACK", `the acknowledgement is signed by ${short(a.l0)}, not one of L0's keys`, "configure L0's keys as L0 publishes them (GET /v1/info)", a.l0, [...l0Keys]) };
  if (expected !== undefined && (a.channel !== expected.channel || a.height !== expected.height || a.hash !== expected.hash)) {
    return { ok: false, refusal: refuse("L0_BAD_ACK", `the acknowledgement is for ${String(a.channel)} height ${String(a.height)} ${short(a.hash)}, not for the snapshot sent`, "resend the snapshot: this answer is not for it", { channel: a.channel, height: a.height, hash: a.hash }, expected) };
  }
  let bytes: Uint8Array;
  try {
    bytes = suite.recordBytes("ack", a);
  } catch {
    return { ok: false, refusal: refuse("L0_BAD_ACK", "the acknowledgement is not plain JSON", "store it unchanged", null, null) };
  }
  if (!suite.verify(a.l0, bytes, signed.signature)) return { ok: false, refusal: refuse("L0_BAD_ACK", "the acknowledgement's signature does not verify", "resend the snapshot and store the new answer", signed.signature, "L0's signature") };
  return { ok: true };
}
