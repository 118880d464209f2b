/**
 * The global chain: global snapshots cut from what L0 accepted, hash-chained,
 * certified by L0's key as a one-validator commit certificate, checked offline
 * with nothing but L0's public key; acknowledgements name the ordinal that
 * includes their snapshot.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keyPairFromName } from "../../../runtime/core/index.js";
import { embeddedValidators, GENESIS_HASH, openL0, verifyGlobal, type CertifiedGlobal, type L0Service } from "../../../runtime/l0/index.js";
import { group, L0_KEY, TestChannel } from "./helpers.js";

let l0: L0Service;
let clock = 1_700_000_000_000;
const snap = group("snap", 4);

beforeEach(() => {
  clock = 1_700_000_000_000;
  l0 = openL0({ store: ":memory:", key: L0_KEY, now: () => clock });
});
afterEach(() => l0.close());

describe("global snapshots", () => {
  it("are cut from what was accepted, chained by hash, and each acknowledgement names the ordinal that includes it", () => {
    const a = new TestChannel("air-quality", snap);
    const b = new TestChannel("water", snap);
    l0.register(a.registration());
    l0.register(b.registration());
    const acks = [l0.submitSnapshot(a.advance(a.next())), l0.submitSnapshot(b.advance(b.next()))];
    const g1 = l0.cut()!;
    clock += 1_000;
    acks.push(l0.submitSnapshot(a.advance(a.next())));
    const g2 = l0.cut()!;
    expect(l0.cut()).toBeNull(); // nothing pending: no empty global snapshot
    expect(g1.global).toMatchObject({ type: "global", encoding: "statecell/1", ordinal: 1, prevHash: GENESIS_HASH, time: 1_700_000_000_000 });
    expect(g1.global.snapshots.map((e) => `${e.channel}@${e.height}`)).toEqual(["air-quality@1", "water@1"]);
    expect(g2.global).toMatchObject({ ordinal: 2, prevHash: g1.hash, time: 1_700_000_001_000 });
    for (const ack of acks) {
      if (!ack.ok) throw new Error("refused");
      const g = l0.global(ack.ack.ack.ordinal)!;
      expect(g.global.snapshots).toContainEqual({ channel: ack.ack.ack.channel, height: ack.ack.ack.height, hash: ack.ack.ack.hash });
    }
    const set = embeddedValidators(L0_KEY.publicKey);
    expect(verifyGlobal(g1, set)).toEqual({ ok: true });
    expect(verifyGlobal(g2, set, { ordinal: 1, hash: g1.hash, time: g1.global.time })).toEqual({ ok: true });
    expect(l0.latestGlobal()).toEqual(g2);
    expect(l0.global(1)).toEqual(g1);
    expect(l0.global(3)).toBeUndefined();
  });

  it("time never goes back, even when L0's clock does", () => {
    const a = new TestChannel("air-quality", snap);
    l0.register(a.registration());
    const g1 = l0.cut()!;
    clock -= 60_000;
    l0.submitSnapshot(a.advance(a.next()));
    expect(l0.cut()!.global.time).toBe(g1.global.time);
  });

  it("an altered global snapshot, a certificate by another key, or a broken link does not verify", () => {
    const a = new TestChannel("air-quality", snap);
    l0.register(a.registration());
    const g1 = l0.cut()!;
    l0.submitSnapshot(a.advance(a.next()));
    const g2 = l0.cut()!;
    const set = embeddedValidators(L0_KEY.publicKey);
    const altered: CertifiedGlobal = { ...g2, global: { ...g2.global, snapshots: [] } };
    expect(verifyGlobal(altered, set)).toMatchObject({ ok: false, refusal: { code: "L0_HASH" } });
    expect(verifyGlobal(g2, embeddedValidators(keyPairFromName("other").publicKey))).toMatchObject({ ok: false, refusal: { code: "L0_SIGNER_OUTSIDE_GROUP" } });
    expect(verifyGlobal(g2, set, { ordinal: 1, hash: "ab".repeat(32) })).toMatchObject({ ok: false, refusal: { code: "L0_PREV_HASH" } });
    expect(verifyGlobal(g2, set, { ordinal: 2, hash: g1.hash })).toMatchObject({ ok: false, refusal: { code: "L0_HEIGHT" } });
    const forged: CertifiedGlobal = { ...g2, certificate: { ...g2.certificate, signatures: [{ ...g2.certificate.signatures[0], signature: "1".repeat(128) }] } };
    expect(verifyGlobal(forged, set)).toMatchObject({ ok: false, refusal: { code: "L0_BAD_SIGNATURE" } });
  });

  it("a global snapshot is cut at once when maxPerGlobal entries are pending, so every acknowledgement keeps its ordinal", () => {
    l0.close();
    l0 = openL0({ store: ":memory:", key: L0_KEY, now: () => clock, maxPerGlobal: 3 });
    const a = new TestChannel("air-quality", snap);
    l0.register(a.registration());
    const subs = Array.from({ length: 5 }, () => a.advance(a.next()));
    const answers = l0.submitSnapshots(subs);
    const ordinals = answers.map((x) => (x.ok ? x.ack.ack.ordinal : -1));
    expect(ordinals).toEqual([1, 1, 2, 2, 2]);
    l0.cut();
    expect(l0.global(1)!.global.snapshots.map((e) => e.height)).toEqual([1, 2]);
    expect(l0.global(2)!.global.snapshots.map((e) => e.height)).toEqual([3, 4, 5]);
  });
});
