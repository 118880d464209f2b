/**
 * Forks: two different valid snapshots for one height are kept as evidence
 * and freeze the channel; only a resume record signed by a threshold of the
 * snapshot group unfreezes it, naming the snapshot to continue from. A fork
 * is never settled by counting signatures.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keyPairFromName } from "../../../runtime/core/index.js";
import { ENCODING_V1, openL0, type L0Service, type Resume, type SnapshotAnswer } from "../../../runtime/l0/index.js";
import { group, L0_KEY, signed, TestChannel } from "./helpers.js";

let l0: L0Service;
let ch: TestChannel;
const snap = group("snap", 4);

beforeEach(() => {
  l0 = openL0({ store: ":memory:", key: L0_KEY });
  ch = new TestChannel("air-quality", snap);
  l0.register(ch.registration());
});
afterEach(() => l0.close());

const code = (a: SnapshotAnswer) => (a.ok ? a.status : a.refusal.code);
const resume = (height: number, hash: string, freeze = 1): Resume => ({ type: "resume", encoding: ENCODING_V1, channel: "air-quality", registration: 1, freeze, height, hash });

/** Heights 1..2 accepted; returns the accepted 2 and a conflicting certified 2' (other signers, even all four). */
function forkAt2() {
  l0.submitSnapshot(ch.advance(ch.next()));
  const kept = ch.next({ keys: snap.keys.slice(0, 3) });
  const other = ch.next({ salt: "b", keys: snap.keys });
  expect(code(l0.submitSnapshot(kept))).toBe("accepted");
  return { kept, other };
}

describe("a fork", () => {
  it("is kept as evidence and freezes the channel, even when the second snapshot has more signatures", () => {
    const { kept, other } = forkAt2();
    const a = l0.submitSnapshot(other);
    expect(code(a)).toBe("L0_FORK");
    const view = l0.channel("air-quality")!;
    expect(view.status).toBe("frozen");
    expect(view.frozen).toEqual({ freeze: 1, height: 2, hashes: [kept.hash, other.hash] });
    expect(view.head).toEqual({ height: 2, hash: kept.hash });
    expect(view.forks.map((f) => [f.height, f.hash, f.status])).toEqual([[2, other.hash, "evidence"]]);
    // The global ledger records the fork.
    const g = l0.cut()!;
    expect(g.global.events).toContainEqual({ kind: "fork", channel: "air-quality", height: 2, hash: other.hash, kept: kept.hash });
  });

  it("a frozen channel refuses the next height with L0_FROZEN, and the evidence again with L0_FORK (no second freeze)", () => {
    const { kept, other } = forkAt2();
    l0.submitSnapshot(other);
    ch.head = { height: 2, hash: kept.hash };
    const r = l0.submitSnapshot(ch.next());
    expect(r.ok ? null : r.refusal).toMatchObject({ code: "L0_FROZEN", actual: { height: 2, hashes: [kept.hash, other.hash] } });
    expect(code(l0.submitSnapshot(other))).toBe("L0_FORK");
    expect(code(l0.submitSnapshot(kept))).toBe("known");
    expect(l0.channel("air-quality")!.freezes).toBe(1);
  });

  it("a conflicting snapshot whose certificate is below the threshold is refused and freezes nothing", () => {
    forkAt2();
    expect(code(l0.submitSnapshot(ch.next({ salt: "c", keys: snap.keys.slice(0, 2) })))).toBe("L0_THRESHOLD");
    expect(code(l0.submitSnapshot(ch.next({ salt: "c", keys: [snap.keys[0], snap.keys[1], keyPairFromName("x")] })))).toBe("L0_SIGNER_OUTSIDE_GROUP");
    expect(l0.channel("air-quality")!.status).toBe("active");
  });

  it("an older height can fork too: a conflicting height 1 while the head is 2", () => {
    const { kept } = forkAt2();
    const older = new TestChannel("air-quality", snap).next({ salt: "z" });
    expect(code(l0.submitSnapshot(older))).toBe("L0_FORK");
    expect(l0.channel("air-quality")!.frozen).toMatchObject({ height: 1 });
    expect(l0.channel("air-quality")!.head.hash).toBe(kept.hash);
  });
});

describe("resuming a frozen channel", () => {
  it("from the accepted snapshot: the channel continues on it", () => {
    const { kept, other } = forkAt2();
    l0.submitSnapshot(other);
    const a = l0.resume(signed(resume(2, kept.hash), snap));
    expect(a).toMatchObject({ ok: true, status: "resumed", height: 2, hash: kept.hash });
    ch.head = { height: 2, hash: kept.hash };
    expect(code(l0.submitSnapshot(ch.advance(ch.next())))).toBe("accepted");
    expect(l0.channel("air-quality")!.status).toBe("active");
  });

  it("from the evidence: the other branch becomes the chain, with a new acknowledgement; the old one is superseded", () => {
    const { kept, other } = forkAt2();
    l0.submitSnapshot(other);
    expect(l0.resume(signed(resume(2, other.hash), snap))).toMatchObject({ ok: true, height: 2, hash: other.hash });
    const again = l0.submitSnapshot(other);
    expect(again).toMatchObject({ ok: true, status: "known" });
    expect(again.ok && again.ack.ack.hash).toBe(other.hash);
    expect(code(l0.submitSnapshot(kept))).toBe("superseded");
    ch.head = { height: 2, hash: other.hash };
    expect(code(l0.submitSnapshot(ch.advance(ch.next())))).toBe("accepted");
    const g = l0.cut()!;
    expect(g.global.snapshots.filter((e) => e.height === 2).map((e) => e.hash).sort()).toEqual([kept.hash, other.hash].sort());
    expect(g.global.events.map((e) => e.kind)).toEqual(["registration", "fork", "resume"]);
  });

  it("to a lower height: the snapshots above it are superseded and a superseded one sent again as the next is accepted again", () => {
    const { kept, other } = forkAt2();
    l0.submitSnapshot(other);
    const one = l0.channel("air-quality")!;
    const h1 = l0.snapshots("air-quality", 1, 1)![0].hash;
    expect(l0.resume(signed(resume(1, h1), snap))).toMatchObject({ ok: true, height: 1 });
    expect(l0.channel("air-quality")!.head).toEqual({ height: 1, hash: h1 });
    expect(one.head.height).toBe(2);
    expect(code(l0.submitSnapshot(kept))).toBe("accepted");
    expect(l0.channel("air-quality")!.head).toEqual({ height: 2, hash: kept.hash });
  });

  it("is refused below the threshold, for another freeze, for a snapshot L0 does not hold, and when not frozen", () => {
    const { kept, other } = forkAt2();
    expect(l0.resume(signed(resume(2, kept.hash), snap))).toMatchObject({ ok: false, refusal: { code: "L0_NOT_FROZEN" } });
    l0.submitSnapshot(other);
    expect(l0.resume(signed(resume(2, kept.hash), snap, 2))).toMatchObject({ ok: false, refusal: { code: "L0_THRESHOLD", actual: 2, required: 3 } });
    expect(l0.resume(signed(resume(2, kept.hash, 2), snap))).toMatchObject({ ok: false, refusal: { code: "L0_RESUME_FREEZE", actual: 2, required: 1 } });
    expect(l0.resume(signed(resume(2, "ab".repeat(32)), snap))).toMatchObject({ ok: false, refusal: { code: "L0_RESUME_UNKNOWN" } });
    expect(l0.resume(signed({ ...resume(2, kept.hash), registration: 2 }, snap))).toMatchObject({ ok: false, refusal: { code: "L0_REGISTRATION_VERSION" } });
    expect(l0.channel("air-quality")!.status).toBe("frozen");
  });

  it("naming evidence that does not follow L0's snapshot below it is refused with L0_RESUME_LINK", () => {
    const { kept } = forkAt2();
    // A certified height 2 on top of another height 1 (the group forked at 1 and L0 only saw the second branch's 2).
    const branch = new TestChannel("air-quality", snap);
    branch.advance(branch.next({ salt: "other-1" }));
    const stray = branch.next({ salt: "other-2" });
    expect(code(l0.submitSnapshot(stray))).toBe("L0_FORK");
    expect(l0.resume(signed(resume(2, stray.hash), snap))).toMatchObject({ ok: false, refusal: { code: "L0_RESUME_LINK", actual: branch.head.hash } });
    expect(l0.resume(signed(resume(2, kept.hash), snap)).ok).toBe(true);
  });

  it("an old resume record cannot be replayed after a later fork, and the same record again answers what it did", () => {
    const { kept, other } = forkAt2();
    l0.submitSnapshot(other);
    const first = signed(resume(2, kept.hash), snap);
    const done = l0.resume(first);
    expect(l0.resume(first)).toEqual({ ...done, status: "known" });
    ch.head = { height: 2, hash: kept.hash };
    l0.submitSnapshot(ch.advance(ch.next()));
    const fork3 = new TestChannel("air-quality", snap);
    fork3.head = { height: 2, hash: kept.hash };
    expect(code(l0.submitSnapshot(fork3.next({ salt: "again" })))).toBe("L0_FORK");
    expect(l0.channel("air-quality")!.frozen!.freeze).toBe(2);
    // The first record (freeze 1) is known and changes nothing; freeze 2 needs its own record.
    expect(l0.resume(first)).toMatchObject({ ok: true, status: "known" });
    expect(l0.channel("air-quality")!.status).toBe("frozen");
    expect(l0.resume(signed(resume(3, ch.head.hash, 2), snap))).toMatchObject({ ok: true, status: "resumed" });
  });
});
