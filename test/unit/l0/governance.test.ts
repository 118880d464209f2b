/**
 * Registrations (version 1 and later versions) and governed upgrades: who must
 * sign, what each refusal says, approvals that arrive one at a time with their
 * readiness, and an upgrade taking effect at its height.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ENCODING_V1, openL0, recordHash, type L0Service, type SnapshotAnswer, type Upgrade } from "../../../runtime/l0/index.js";
import { defHash, group, L0_KEY, registration, signed, TestChannel } from "./helpers.js";

let l0: L0Service;
const snap = group("snap", 4);

beforeEach(() => {
  l0 = openL0({ store: ":memory:", key: L0_KEY });
});
afterEach(() => l0.close());

const code = (a: SnapshotAnswer) => (a.ok ? a.status : a.refusal.code);

describe("registration", () => {
  it("version 1 is registered when a threshold of its own snapshot group signs it; the same record again is known", () => {
    const rec = signed(registration("air-quality", snap), snap);
    expect(l0.register(rec)).toEqual({ ok: true, status: "registered", channel: "air-quality", version: 1, hash: recordHash("registration", rec.record), fromHeight: 1 });
    expect(l0.register(rec)).toMatchObject({ ok: true, status: "known" });
    expect(l0.channel("air-quality")).toMatchObject({ status: "active", nextHeight: 1, definitionHash: defHash("v1") });
    expect(l0.cut()!.global.events).toEqual([{ kind: "registration", channel: "air-quality", version: 1, hash: recordHash("registration", rec.record) }]);
  });

  it("is refused below the threshold, with an unsafe threshold, or as a second version 1", () => {
    expect(l0.register(signed(registration("air-quality", snap), snap, 2))).toMatchObject({ ok: false, refusal: { code: "L0_THRESHOLD", actual: 2, required: 3 } });
    const unsafe = { ...snap, threshold: 2 };
    expect(l0.register(signed(registration("air-quality", unsafe), unsafe))).toMatchObject({ ok: false, refusal: { code: "L0_UNSAFE_THRESHOLD", actual: 2, required: { min: 3, max: 4 } } });
    l0.register(signed(registration("air-quality", snap), snap));
    const other = group("other", 4);
    expect(l0.register(signed(registration("air-quality", other), other))).toMatchObject({ ok: false, refusal: { code: "L0_ALREADY_REGISTERED" } });
    expect(l0.register(signed(registration("water", snap, { version: 2, prev: "ab".repeat(32) }), snap))).toMatchObject({ ok: false, refusal: { code: "L0_UNREGISTERED" } });
  });

  it("a later version is signed by a threshold of the previous version's group, and from then on its group certifies snapshots", () => {
    const ch = new TestChannel("air-quality", snap);
    const v1 = ch.registration();
    l0.register(v1);
    l0.submitSnapshot(ch.advance(ch.next()));
    const next = group("next", 4);
    const v2 = registration("air-quality", next, { version: 2, prev: recordHash("registration", v1.record) });
    // Signed by the new group only: refused, the old group must approve its successor.
    expect(l0.register(signed(v2, next))).toMatchObject({ ok: false, refusal: { code: "L0_SIGNER_OUTSIDE_GROUP" } });
    expect(l0.register(signed({ ...v2, prev: "ab".repeat(32) }, snap))).toMatchObject({ ok: false, refusal: { code: "L0_REGISTRATION_PREV", required: recordHash("registration", v1.record) } });
    expect(l0.register(signed({ ...v2, version: 3 }, snap))).toMatchObject({ ok: false, refusal: { code: "L0_REGISTRATION_VERSION", actual: 3, required: 2 } });
    expect(l0.register(signed({ ...v2, definitionHash: defHash("v2") }, snap))).toMatchObject({ ok: false, refusal: { code: "L0_DEFINITION" } });
    expect(l0.register(signed(v2, snap))).toMatchObject({ ok: true, status: "registered", version: 2, fromHeight: 2 });
    expect(code(l0.submitSnapshot(ch.next()))).toBe("L0_SIGNER_OUTSIDE_GROUP");
    expect(code(l0.submitSnapshot(ch.advance(ch.next({ keys: next.keys.slice(1) }))))).toBe("accepted");
    expect(l0.channel("air-quality")!.versions.map((v) => [v.version, v.fromHeight])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it("a registration with a token requires a token state in every snapshot", () => {
    const ch = new TestChannel("points", snap);
    l0.register(ch.registration({ token: { name: "Points", symbol: "PTS", decimals: 0, genesis: { alice: 100 }, supply: 100 } }));
    expect(code(l0.submitSnapshot(ch.next()))).toBe("L0_TOKEN");
    expect(code(l0.submitSnapshot(ch.next({ token: { stateRoot: "ee".repeat(32) } })))).toBe("accepted");
  });
});

describe("upgrades", () => {
  let ch: TestChannel;
  const upgrade = (atHeight: number, to = defHash("v2"), from = defHash("v1")): Upgrade => ({ type: "upgrade", encoding: ENCODING_V1, channel: "air-quality", registration: 1, fromDefinitionHash: from, toDefinitionHash: to, atHeight });

  beforeEach(() => {
    ch = new TestChannel("air-quality", snap);
    l0.register(ch.registration());
    l0.submitSnapshot(ch.advance(ch.next()));
  });

  it("approvals arrive one at a time; readiness shows who approved, who is missing and whether the threshold is met", () => {
    const u = upgrade(3);
    const a1 = l0.upgrade(signed(u, snap, 1, 0));
    expect(a1).toMatchObject({ ok: true, status: "open", upgrade: { approvals: [{ name: "snap-1" }], missing: ["snap-2", "snap-3", "snap-4"], threshold: 3, ready: false } });
    expect(l0.upgrade(signed(u, snap, 1, 0))).toMatchObject({ ok: true, status: "open", upgrade: { approvals: [{ name: "snap-1" }] } });
    l0.upgrade(signed(u, snap, 1, 3));
    const list = l0.upgrades("air-quality")!;
    expect(list.upgrades).toHaveLength(1);
    expect(list.upgrades[0]).toMatchObject({ status: "open", missing: ["snap-2", "snap-3"], ready: false });
    const a3 = l0.upgrade(signed(u, snap, 1, 1));
    expect(a3).toMatchObject({ ok: true, status: "scheduled", upgrade: { approvals: [{ name: "snap-1" }, { name: "snap-2" }, { name: "snap-4" }], missing: ["snap-3"], ready: true } });
    expect(l0.upgrades("air-quality")!.scheduled).toEqual({ fromHeight: 3, definitionHash: defHash("v2"), source: recordHash("upgrade", u) });
  });

  it("takes effect at its height: before it the old definition, from it the new one", () => {
    l0.upgrade(signed(upgrade(3), snap));
    expect(code(l0.submitSnapshot(ch.next({ definitionHash: defHash("v2") })))).toBe("L0_DEFINITION");
    expect(code(l0.submitSnapshot(ch.advance(ch.next())))).toBe("accepted");
    const old = l0.submitSnapshot(ch.next());
    expect(old.ok ? null : old.refusal).toMatchObject({ code: "L0_DEFINITION", actual: defHash("v1"), required: defHash("v2") });
    ch.definitionHash = defHash("v2");
    expect(code(l0.submitSnapshot(ch.advance(ch.next())))).toBe("accepted");
    expect(l0.upgrades("air-quality")!.upgrades[0].status).toBe("in-effect");
    expect(l0.channel("air-quality")!.definitionHash).toBe(defHash("v2"));
  });

  it("an invalid upgrade is refused: signed by an outsider, under an old registration, from another definition, or approved after its height", () => {
    const outsiders = group("out", 4);
    expect(l0.upgrade(signed(upgrade(3), outsiders))).toMatchObject({ ok: false, refusal: { code: "L0_SIGNER_OUTSIDE_GROUP" } });
    expect(l0.upgrade(signed({ ...upgrade(3), registration: 2 }, snap))).toMatchObject({ ok: false, refusal: { code: "L0_REGISTRATION_VERSION", actual: 2, required: 1 } });
    expect(l0.upgrade(signed(upgrade(3, defHash("v2"), defHash("v0")), snap))).toMatchObject({ ok: false, refusal: { code: "L0_UPGRADE_FROM", required: defHash("v1") } });
    // Two approvals before height 2 is accepted, the third after: too late, and the channel goes on with v1.
    const late = upgrade(2);
    l0.upgrade(signed(late, snap, 2));
    l0.submitSnapshot(ch.advance(ch.next()));
    const r = l0.upgrade(signed(late, snap, 1, 2));
    expect(r).toMatchObject({ ok: false, refusal: { code: "L0_UPGRADE_HEIGHT", actual: 2, required: 3 }, upgrade: { status: "refused" } });
    expect(code(l0.submitSnapshot(ch.advance(ch.next())))).toBe("accepted");
  });

  it("a scheduled upgrade the channel never deploys does not block it: a later approved record replaces or cancels it", () => {
    l0.upgrade(signed(upgrade(2), snap));
    expect(code(l0.submitSnapshot(ch.next()))).toBe("L0_DEFINITION");
    // Cancel: from v1 to v1 at height 2.
    const cancel = upgrade(2, defHash("v1"));
    expect(l0.upgrade(signed(cancel, snap))).toMatchObject({ ok: true, status: "scheduled" });
    expect(l0.upgrades("air-quality")!.upgrades.map((u) => u.status)).toEqual(["replaced", "scheduled"]);
    expect(code(l0.submitSnapshot(ch.advance(ch.next())))).toBe("accepted");
  });

  it("a cancellation that is itself replaced by a later upgrade is marked replaced, and only the last one is scheduled", () => {
    l0.upgrade(signed(upgrade(5), snap));
    l0.upgrade(signed(upgrade(5, defHash("v1")), snap)); // cancels the first
    l0.upgrade(signed(upgrade(6, defHash("v3")), snap)); // replaces the cancellation
    expect(l0.upgrades("air-quality")!.upgrades.map((u) => u.status)).toEqual(["replaced", "replaced", "scheduled"]);
    expect(l0.upgrades("air-quality")!.scheduled).toMatchObject({ fromHeight: 6, definitionHash: defHash("v3") });
  });

  it("an upgrade refused as too late is answered with the same refusal when its approvals are sent again", () => {
    const late = upgrade(1);
    const first = l0.upgrade(signed(late, snap));
    expect(first).toMatchObject({ ok: false, refusal: { code: "L0_UPGRADE_HEIGHT" } });
    expect(l0.upgrade(signed(late, snap))).toEqual(first);
  });

  it("open proposals are bounded, and an upgrade approved by a threshold at once needs no open slot", () => {
    for (let i = 0; i < 16; i++) expect(l0.upgrade(signed(upgrade(100 + i), snap, 1)).ok).toBe(true);
    expect(l0.upgrade(signed(upgrade(200), snap, 1))).toMatchObject({ ok: false, refusal: { code: "L0_UPGRADES_FULL", actual: 16, required: 16 } });
    expect(l0.upgrade(signed(upgrade(300), snap))).toMatchObject({ ok: true, status: "scheduled" });
  });
});
