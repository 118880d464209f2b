/**
 * No rule may make a channel permanently unacceptable: for every refusal a
 * channel can run into, the channel (or the L0 operator) can fix the cause,
 * and then the channel is accepted again. The system L0 learns from once
 * refused every snapshot of a metagraph from ordinal 2 on, fixed only by a
 * rollback; each case here fails if a refusal sticks.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ENCODING_V1, openL0, recordHash, type L0Service, type SnapshotAnswer } from "../../../runtime/l0/index.js";
import { certificate, defHash, group, L0_KEY, registration, signed, snapshot, submission, tempDir, TestChannel } from "./helpers.js";

let l0: L0Service;
let ch: TestChannel;
const snap = group("snap", 4);

beforeEach(() => {
  l0 = openL0({ store: ":memory:", key: L0_KEY });
  ch = new TestChannel("air-quality", snap);
  l0.register(ch.registration());
  l0.submitSnapshot(ch.advance(ch.next()));
});
afterEach(() => l0.close());

const code = (a: SnapshotAnswer) => (a.ok ? a.status : a.refusal.code);

describe("a refused channel is accepted again once the cause is fixed", () => {
  it("L0_PREV_HASH: resent on L0's head, the snapshot is accepted", () => {
    expect(code(l0.submitSnapshot(submission(snapshot("air-quality", 2, "ab".repeat(32)), snap.keys.slice(0, 3))))).toBe("L0_PREV_HASH");
    expect(code(l0.submitSnapshot(ch.advance(ch.next())))).toBe("accepted");
  });

  it("L0_HEIGHT: once the missing heights are sent, the one that was early is accepted", () => {
    const s2 = ch.advance(ch.next());
    const s3 = ch.advance(ch.next());
    expect(code(l0.submitSnapshot(s3))).toBe("L0_HEIGHT");
    expect(code(l0.submitSnapshot(s2))).toBe("accepted");
    expect(code(l0.submitSnapshot(s3))).toBe("accepted");
  });

  it("L0_THRESHOLD, L0_BAD_SIGNATURE, L0_SIGNER_OUTSIDE_GROUP: the same snapshot with a proper certificate is accepted", () => {
    const sub = ch.next();
    expect(code(l0.submitSnapshot({ ...sub, certificate: certificate("air-quality", 2, sub.hash, snap.keys.slice(0, 2)) }))).toBe("L0_THRESHOLD");
    expect(code(l0.submitSnapshot({ ...sub, certificate: certificate("air-quality", 2, sub.hash, [...snap.keys.slice(0, 2), group("x", 1).keys[0]]) }))).toBe("L0_SIGNER_OUTSIDE_GROUP");
    expect(code(l0.submitSnapshot(ch.advance(sub)))).toBe("accepted");
  });

  it("L0_DEFINITION: a channel running a new definition is accepted once an upgrade to it is approved", () => {
    ch.definitionHash = defHash("v2");
    const sub = ch.next();
    expect(code(l0.submitSnapshot(sub))).toBe("L0_DEFINITION");
    l0.upgrade(signed({ type: "upgrade", encoding: ENCODING_V1, channel: "air-quality", registration: 1, fromDefinitionHash: defHash("v1"), toDefinitionHash: defHash("v2"), atHeight: 2 }, snap));
    expect(code(l0.submitSnapshot(ch.advance(sub)))).toBe("accepted");
  });

  it("L0_SIGNER_OUTSIDE_GROUP after the channel changed validators: accepted once the new version is registered", () => {
    const next = group("next", 4);
    const sub = ch.next({ keys: next.keys.slice(0, 3) });
    expect(code(l0.submitSnapshot(sub))).toBe("L0_SIGNER_OUTSIDE_GROUP");
    const v1 = l0.channel("air-quality")!.registration;
    expect(l0.register(signed(registration("air-quality", next, { version: 2, prev: v1.hash }), snap)).ok).toBe(true);
    expect(code(l0.submitSnapshot(ch.advance(sub)))).toBe("accepted");
  });

  it("L0_TOKEN: a channel that adds a token is accepted once a version with the token is registered", () => {
    const sub = ch.next({ token: { stateRoot: "ee".repeat(32) } });
    expect(code(l0.submitSnapshot(sub))).toBe("L0_TOKEN");
    const v1 = l0.channel("air-quality")!.registration;
    l0.register(signed(registration("air-quality", snap, { version: 2, prev: v1.hash, token: { name: "Points", symbol: "PTS", decimals: 0, genesis: {}, supply: 0 } }), snap));
    expect(code(l0.submitSnapshot(ch.advance(sub)))).toBe("accepted");
  });

  it("L0_ENCODING: the snapshot encoded with a known encoding is accepted", () => {
    const sub = ch.next();
    expect(code(l0.submitSnapshot({ ...sub, snapshot: { ...sub.snapshot, encoding: "statecell/2" } }))).toBe("L0_ENCODING");
    expect(code(l0.submitSnapshot(ch.advance(sub)))).toBe("accepted");
  });

  it("L0_FROZEN: the validators' resume record unfreezes the channel", () => {
    const kept = ch.next();
    l0.submitSnapshot(kept);
    expect(code(l0.submitSnapshot(ch.next({ salt: "fork" })))).toBe("L0_FORK");
    ch.advance(kept);
    expect(code(l0.submitSnapshot(ch.next()))).toBe("L0_FROZEN");
    l0.resume(signed({ type: "resume", encoding: ENCODING_V1, channel: "air-quality", registration: 1, freeze: 1, height: 2, hash: kept.hash }, snap));
    expect(code(l0.submitSnapshot(ch.advance(ch.next())))).toBe("accepted");
  });

  it("L0_TOO_LARGE: the same snapshot is accepted once the operator raises maxSnapshotBytes (the store is kept)", () => {
    const t = tempDir();
    try {
      let small = openL0({ store: t.file(), key: L0_KEY, maxSnapshotBytes: 8_192 });
      const big = new TestChannel("big", snap);
      small.register(big.registration());
      const sub = big.next({ cells: 60 });
      expect(code(small.submitSnapshot(sub))).toBe("L0_TOO_LARGE");
      small.close();
      small = openL0({ store: t.file(), key: L0_KEY, maxSnapshotBytes: 65_536 });
      expect(code(small.submitSnapshot(sub))).toBe("accepted");
      small.close();
    } finally {
      t.cleanup();
    }
  });

  it("an upgrade refused as too late leaves the channel on its definition, and a new record with a later height takes effect", () => {
    const late = { type: "upgrade" as const, encoding: ENCODING_V1, channel: "air-quality", registration: 1, fromDefinitionHash: defHash("v1"), toDefinitionHash: defHash("v2"), atHeight: 1 };
    expect(l0.upgrade(signed(late, snap))).toMatchObject({ ok: false, refusal: { code: "L0_UPGRADE_HEIGHT" } });
    expect(code(l0.submitSnapshot(ch.advance(ch.next())))).toBe("accepted");
    expect(l0.upgrade(signed({ ...late, atHeight: 3 }, snap))).toMatchObject({ ok: true, status: "scheduled" });
    ch.definitionHash = defHash("v2");
    expect(code(l0.submitSnapshot(ch.advance(ch.next())))).toBe("accepted");
    const later = { ...late, atHeight: 3 };
    expect(l0.upgrades("air-quality")!.upgrades.find((u) => u.hash === recordHash("upgrade", later))?.status).toBe("in-effect");
  });
});
