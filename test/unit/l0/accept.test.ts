/**
 * Acceptance of channel snapshots through the embedded service (an in-memory
 * store): each refusal with its code and its actual and required values,
 * idempotent resubmission, and the signed acknowledgement.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keyPairFromName } from "../../../runtime/core/index.js";
import { GENESIS_HASH, openL0, recordHash, verifyAck, type L0Service, type SnapshotAnswer } from "../../../runtime/l0/index.js";
import { certificate, defHash, group, L0_KEY, snapshot, submission, TestChannel } from "./helpers.js";

let l0: L0Service;
let ch: TestChannel;
const snap = group("snap", 4); // 3 of 4

beforeEach(() => {
  l0 = openL0({ store: ":memory:", key: L0_KEY, now: () => 1_700_000_000_000 });
  ch = new TestChannel("air-quality", snap);
  expect(l0.register(ch.registration()).ok).toBe(true);
});
afterEach(() => l0.close());

function refusal(a: SnapshotAnswer) {
  if (a.ok) throw new Error(`expected a refusal, got ${a.status}`);
  return a.refusal;
}

describe("accepting snapshots", () => {
  it("accepts heights 1, 2, 3 in order and answers an acknowledgement signed by L0 for the pending ordinal", () => {
    for (let h = 1; h <= 3; h++) {
      const sub = ch.next();
      const a = l0.submitSnapshot(sub);
      expect(a).toMatchObject({ ok: true, status: "accepted" });
      if (!a.ok) return;
      expect(a.ack.ack).toEqual({ type: "ack", encoding: "statecell/1", channel: "air-quality", height: h, hash: sub.hash, ordinal: 1, l0: L0_KEY.publicKey });
      expect(verifyAck(a.ack, [L0_KEY.publicKey], { channel: "air-quality", height: h, hash: sub.hash })).toEqual({ ok: true });
      ch.advance(sub);
    }
    expect(l0.channel("air-quality")!.head).toEqual(ch.head);
  });

  it("the same snapshot again answers the same acknowledgement, whichever quorum certified it this time", () => {
    const sub = ch.next();
    const first = l0.submitSnapshot(sub);
    const pending = l0.pending;
    const other = { ...sub, certificate: certificate(sub.snapshot.channel, 1, sub.hash, snap.keys.slice(1, 4), 3) };
    expect(l0.submitSnapshot(sub)).toEqual({ ...first, status: "known" });
    expect(l0.submitSnapshot(other)).toEqual({ ...first, status: "known" });
    expect(l0.pending).toBe(pending);
    // After the global snapshot is cut the answer is still the same acknowledgement (ordinal 1).
    l0.cut();
    expect(l0.submitSnapshot(sub)).toEqual({ ...first, status: "known" });
  });

  it("an acknowledgement changed in any field does not verify", () => {
    const a = l0.submitSnapshot(ch.next());
    if (!a.ok) throw new Error("refused");
    expect(verifyAck({ ...a.ack, ack: { ...a.ack.ack, ordinal: 2 } }, [L0_KEY.publicKey]).ok).toBe(false);
    expect(verifyAck(a.ack, [keyPairFromName("other").publicKey]).ok).toBe(false);
  });
});

describe("refusals carry a code, the actual and the required values", () => {
  it("L0_UNREGISTERED: a channel L0 has no registration for", () => {
    const r = refusal(l0.submitSnapshot(submission(snapshot("water", 1, GENESIS_HASH), snap.keys.slice(0, 3))));
    expect(r).toMatchObject({ code: "L0_UNREGISTERED", actual: "water" });
  });

  it("L0_HEIGHT: a gap above the head", () => {
    const s = submission(snapshot("air-quality", 3, GENESIS_HASH), snap.keys.slice(0, 3));
    expect(refusal(l0.submitSnapshot(s))).toMatchObject({ code: "L0_HEIGHT", actual: 3, required: 1 });
  });

  it("L0_PREV_HASH: a previous hash that is not L0's head", () => {
    l0.submitSnapshot(ch.advance(ch.next()));
    const wrong = submission(snapshot("air-quality", 2, "ab".repeat(32)), snap.keys.slice(0, 3));
    expect(refusal(l0.submitSnapshot(wrong))).toMatchObject({ code: "L0_PREV_HASH", actual: "ab".repeat(32), required: ch.head.hash });
  });

  it("L0_HASH: a claimed hash the canonical bytes do not hash to", () => {
    const sub = ch.next();
    const claimed = "cd".repeat(32);
    expect(refusal(l0.submitSnapshot({ ...sub, hash: claimed }))).toMatchObject({ code: "L0_HASH", actual: claimed, required: sub.hash });
  });

  it("L0_SIGNER_OUTSIDE_GROUP: a key that is not in the registered snapshot group", () => {
    const outsider = keyPairFromName("outsider");
    const r = refusal(l0.submitSnapshot(ch.next({ keys: [snap.keys[0], snap.keys[1], outsider] })));
    expect(r).toMatchObject({ code: "L0_SIGNER_OUTSIDE_GROUP", actual: outsider.publicKey });
    expect(r.required).toEqual(snap.keys.map((k) => k.publicKey));
  });

  it("L0_DUPLICATE_SIGNER: one validator twice does not make two", () => {
    const r = refusal(l0.submitSnapshot(ch.next({ keys: [snap.keys[0], snap.keys[1], snap.keys[1]] })));
    expect(r).toMatchObject({ code: "L0_DUPLICATE_SIGNER", actual: snap.keys[1].publicKey });
  });

  it("L0_BAD_SIGNATURE: a precommit of another round than the certificate's, or a forged signature", () => {
    const sub = ch.next();
    const otherRound = certificate("air-quality", 1, sub.hash, snap.keys.slice(0, 3), 1);
    const mixed = { ...sub, certificate: { ...sub.certificate, signatures: [sub.certificate.signatures[0], sub.certificate.signatures[1], otherRound.signatures[2]] } };
    expect(refusal(l0.submitSnapshot(mixed))).toMatchObject({ code: "L0_BAD_SIGNATURE", actual: otherRound.signatures[2].signature });
    const forged = { ...sub, certificate: { ...sub.certificate, signatures: sub.certificate.signatures.map((s, i) => (i === 0 ? { ...s, signature: "0".repeat(128) } : s)) } };
    expect(refusal(l0.submitSnapshot(forged)).code).toBe("L0_BAD_SIGNATURE");
  });

  it("L0_THRESHOLD: 2 of 4 valid signatures where 3 are registered", () => {
    expect(refusal(l0.submitSnapshot(ch.next({ keys: snap.keys.slice(0, 2) })))).toMatchObject({ code: "L0_THRESHOLD", actual: 2, required: 3 });
  });

  it("L0_TOO_LARGE: a submission over maxSnapshotBytes", () => {
    const small = openL0({ store: ":memory:", key: L0_KEY, maxSnapshotBytes: 4_096 });
    try {
      small.register(ch.registration());
      expect(refusal(small.submitSnapshot(ch.next({ cells: 40 })))).toMatchObject({ code: "L0_TOO_LARGE", required: 4_096 });
    } finally {
      small.close();
    }
  });

  it("L0_DEFINITION: a definition hash that is not the registered one", () => {
    expect(refusal(l0.submitSnapshot(ch.next({ definitionHash: defHash("other") })))).toMatchObject({ code: "L0_DEFINITION", actual: defHash("other"), required: defHash("v1") });
  });

  it("L0_ENCODING: an encoding this L0 does not know, before anything is hashed", () => {
    const sub = ch.next();
    const r = refusal(l0.submitSnapshot({ ...sub, snapshot: { ...sub.snapshot, encoding: "statecell/9" } }));
    expect(r).toMatchObject({ code: "L0_ENCODING", actual: "statecell/9", required: ["statecell/1"] });
  });

  it("L0_CERTIFICATE: a certificate of another height or value", () => {
    const sub = ch.next();
    const r = refusal(l0.submitSnapshot({ ...sub, certificate: certificate("air-quality", 2, sub.hash, snap.keys.slice(0, 3)) }));
    expect(r).toMatchObject({ code: "L0_CERTIFICATE", required: { channel: "air-quality", cell: "snapshots", height: 1, valueId: sub.hash } });
  });

  it("L0_BAD_SNAPSHOT: an unknown field, a bad name, a negative cell height", () => {
    const sub = ch.next();
    expect(refusal(l0.submitSnapshot({ ...sub, snapshot: { ...sub.snapshot, fee: 1 } })).code).toBe("L0_BAD_SNAPSHOT");
    expect(refusal(l0.submitSnapshot({ ...sub, extra: true })).code).toBe("L0_BAD_SNAPSHOT");
    expect(refusal(l0.submitSnapshot({ ...sub, snapshot: { ...sub.snapshot, cells: { "bad name": sub.snapshot.cells.readings } } })).code).toBe("L0_BAD_SNAPSHOT");
    expect(refusal(l0.submitSnapshot({ ...sub, snapshot: { ...sub.snapshot, cells: { readings: { ...sub.snapshot.cells.readings, height: -1 } } } })).code).toBe("L0_BAD_SNAPSHOT");
    expect(refusal(l0.submitSnapshot(null)).code).toBe("L0_BAD_SNAPSHOT");
  });

  it("L0_TOKEN: a token state for a channel registered without a token", () => {
    const r = refusal(l0.submitSnapshot(ch.next({ token: { stateRoot: "ee".repeat(32) } })));
    expect(r).toMatchObject({ code: "L0_TOKEN", required: null });
  });

  it("nothing refused changes the head", () => {
    l0.submitSnapshot(ch.next({ keys: snap.keys.slice(0, 2) }));
    l0.submitSnapshot({ ...ch.next(), hash: "cd".repeat(32) });
    expect(l0.channel("air-quality")!.head).toEqual({ height: 0, hash: GENESIS_HASH });
    expect(l0.pending).toBe(1); // the registration event only
  });
});

describe("hash of a snapshot", () => {
  it("is recomputed from the canonical bytes: key order and whitespace of what was sent do not matter", () => {
    const sub = ch.next();
    const reordered = JSON.parse(JSON.stringify({ certificate: sub.certificate, hash: sub.hash, snapshot: Object.fromEntries(Object.entries(sub.snapshot).reverse()) })) as unknown;
    expect(l0.submitSnapshot(reordered)).toMatchObject({ ok: true, status: "accepted" });
    expect(recordHash("snapshot", sub.snapshot)).toBe(sub.hash);
  });
});
