/**
 * Snapshots across a governed upgrade: which definition a snapshot names
 * (the one L0 holds in force from its snapshot height), the cap that keeps a
 * block of the new version out of every snapshot named after the old one, and
 * how the node reads L0's answer about an upgrade before it stages it.
 */
import { describe, expect, it } from "vitest";
import { keyPairFromName, signBytes } from "../../../runtime/core/keys.js";
import { requireChannel } from "../../../runtime/definition/index.js";
import { cachingVerifier, GENESIS_HASH, precommitString, validatorSet, type CommitCertificate } from "../../../runtime/consensus/index.js";
import { boundaryHeights, definitionAt, HeadAnnouncer, headCapAt, snapshotApplication, snapshotProblem, type CertifiedHead, type SnapshotChainState, type SnapshotValue, type SnapshotVersion } from "../../../runtime/node/l0/index.js";
import { upgradeSchedule } from "../../../runtime/node/l0/upgrade-schedule.js";
import type { UpgradeReadiness } from "../../../runtime/l0/governance.js";

const plan = requireChannel(`
channel: up
version: 1
groups:
  a: { validators: [a1, a2, a3, a4], threshold: 3 }
cells:
  one: { group: a, accepts: { type: object } }
  two: { group: a, accepts: { type: object } }
snapshots: { group: a, every: 2 }
`, { file: "up.yaml" });
const keyOf = (n: string) => keyPairFromName(`up-${n}`);
const keys = Object.fromEntries(plan.groups.a.validators.map((v) => [v, keyOf(v).publicKey]));
const sets = { one: validatorSet(plan.groups.a, keys), two: validatorSet(plan.groups.a, keys) };
const V2 = "2".repeat(64);
const V3 = "3".repeat(64);

function certify(cell: string, height: number, valueId: string): CommitCertificate {
  const text = new TextEncoder().encode(precommitString("up", cell, height, 0, valueId));
  return { channel: "up", cell, height, round: 0, valueId, signatures: ["a1", "a2", "a3"].map((s) => ({ validator: keyOf(s).publicKey, signature: signBytes(keyOf(s), text) })) };
}
const hashOf = (cell: string, height: number) => `${cell === "one" ? "1" : "2"}${String(height).padStart(63, "0")}`;
const head = (cell: string, height: number): CertifiedHead => ({ height, hash: hashOf(cell, height), stateRoot: "c".repeat(64), certificate: certify(cell, height, hashOf(cell, height)) });

describe("which definition a snapshot names, and how far its heads reach", () => {
  const versions: SnapshotVersion[] = [{ hash: plan.hash, activation: 1 }, { hash: V2, activation: 40, atSnapshot: 5 }, { hash: V3, activation: 90, atSnapshot: 12 }];

  it("names each version from the snapshot height L0 scheduled it at, and caps heads below the block before its activation until then", () => {
    expect([1, 4, 5, 11, 12, 30].map((h) => definitionAt(versions, h))).toEqual([plan.hash, plan.hash, V2, V2, V3, V3]);
    expect([1, 4, 5, 11, 12].map((h) => headCapAt(versions, h))).toEqual([39, 39, 89, 89, undefined]);
    expect([...boundaryHeights(versions)].sort()).toEqual([39, 89]);
  });

  it("a version L0 has not scheduled changes neither the name nor the heads", () => {
    const unscheduled: SnapshotVersion[] = [{ hash: plan.hash, activation: 1 }, { hash: V2, activation: 40 }];
    expect(definitionAt(unscheduled, 100)).toBe(plan.hash);
    expect(headCapAt(unscheduled, 1)).toBeUndefined();
    expect(boundaryHeights(unscheduled).size).toBe(0);
  });
});

describe("the snapshot application across an upgrade L0 scheduled at snapshot 3 for block 10", () => {
  const versions: SnapshotVersion[] = [{ hash: plan.hash, activation: 1 }, { hash: V2, activation: 10, atSnapshot: 3 }];
  const heads: Record<string, CertifiedHead | undefined> = { one: head("one", 14), two: head("two", 6) };
  const exact = new Map([["one/9", head("one", 9)]]);
  const ports = {
    heads: () => heads,
    local: () => undefined,
    definitionHash: (h: number) => definitionAt(versions, h),
    headCap: (h: number) => headCapAt(versions, h),
    headAt: (c: string, h: number) => exact.get(`${c}/${h}`),
    isDefinition: (x: string) => versions.some((v) => v.hash === x),
    tokenGenesisRoot: () => null,
  };
  const app = snapshotApplication(plan, sets, cachingVerifier(), ports);
  const genesis: SnapshotChainState = { height: 0, hash: GENESIS_HASH, cells: null };
  const build = (height: number, state: SnapshotChainState) => app.buildValue({ height, round: 0, prevHash: state.hash, time: 1, state, pending: [] }) as unknown as SnapshotValue;
  const problem = (v: unknown, state: SnapshotChainState, height: number, certified = false) => snapshotProblem(plan, sets, cachingVerifier(), ports, state, height, state.hash, v, certified);

  it("below snapshot 3, a cell past block 9 is named at block 9 under the old definition; from 3 on, the new definition and the freshest heads", () => {
    const s1 = build(1, genesis);
    expect(s1.snapshot.definitionHash).toBe(plan.hash);
    expect(s1.snapshot.cells.one.height).toBe(9);
    expect(s1.snapshot.cells.two.height).toBe(6);
    expect(problem(s1, genesis, 1)).toBeUndefined();
    const st1 = app.applyValue(genesis, s1 as never);
    const s2 = build(2, st1);
    expect(s2.snapshot.cells.one).toEqual(s1.snapshot.cells.one);
    expect(s2.certificates.one).toBeNull();
    const st2 = app.applyValue(st1, s2 as never);
    const s3 = build(3, st2);
    expect(s3.snapshot.definitionHash).toBe(V2);
    expect(s3.snapshot.cells.one.height).toBe(14);
    expect(problem(s3, st2, 3)).toBeUndefined();
  });

  it("refuses a proposal below snapshot 3 that names a block of the new version, or the new definition early, or the old one late", () => {
    const s1 = build(1, genesis);
    const past = structuredClone(s1);
    past.snapshot.cells.one = { height: 14, hash: heads.one!.hash, stateRoot: "c".repeat(64) };
    past.certificates.one = heads.one!.certificate;
    expect(problem(past, genesis, 1)).toMatch(/cell one head 14 is past block 9/);
    const early = structuredClone(s1);
    early.snapshot.definitionHash = V2;
    expect(problem(early, genesis, 1)).toMatch(/is not the definition in force/);
    const st1 = app.applyValue(genesis, s1 as never);
    const st2 = app.applyValue(st1, build(2, st1) as never);
    const late = structuredClone(build(3, st2));
    late.snapshot.definitionHash = plan.hash;
    expect(problem(late, st2, 3)).toMatch(/is not the definition in force/);
  });

  it("without the exact head at block 9, the proposer keeps the cell where the last snapshot had it", () => {
    exact.clear();
    try {
      const s1 = build(1, genesis);
      expect(s1.snapshot.cells.one.height).toBe(0);
      expect(problem(s1, genesis, 1)).toBeUndefined();
    } finally {
      exact.set("one/9", head("one", 9));
    }
  });

  it("a certified snapshot caught up later is taken on its quorum's word for a version of the channel this node has not seen scheduled", () => {
    const s1 = build(1, genesis);
    const named = structuredClone(s1);
    named.snapshot.definitionHash = V2;
    expect(problem(named, genesis, 1, true)).toBeUndefined();
    const stranger = structuredClone(s1);
    stranger.snapshot.definitionHash = "9".repeat(64);
    expect(problem(stranger, genesis, 1, true)).toMatch(/is not the definition in force/);
  });
});

describe("what L0's answer about an upgrade means to a node", () => {
  const FROM = "f".repeat(64);
  const proposal = (status: UpgradeReadiness["status"], over: Partial<UpgradeReadiness["record"]> = {}): UpgradeReadiness => ({
    hash: "e".repeat(64),
    record: { type: "upgrade", encoding: "statecell/1", channel: "up", registration: 1, fromDefinitionHash: FROM, toDefinitionHash: V2, atHeight: 7, ...over },
    status,
    approvals: [{ name: "a1", key: keys.a1 }, { name: "a2", key: keys.a2 }],
    missing: ["a3", "a4"],
    threshold: 3,
    ready: status !== "open",
    refusal: null,
  });

  it("scheduled or in effect from the version before: staged with the snapshot height", () => {
    expect(upgradeSchedule("up", FROM, V2, [proposal("scheduled")])).toEqual({ ok: true, schedule: { atSnapshot: 7, record: "e".repeat(64) } });
    expect(upgradeSchedule("up", FROM, V2, [proposal("in-effect", { atHeight: 3 })])).toMatchObject({ ok: true, schedule: { atSnapshot: 3 } });
  });

  it("anything else is NODE_UPGRADE_NOT_SCHEDULED, saying who approved and who is missing", () => {
    const none = upgradeSchedule("up", FROM, V2, []);
    expect(none).toMatchObject({ ok: false, code: "NODE_UPGRADE_NOT_SCHEDULED", message: expect.stringMatching(/holds no upgrade of up/) });
    const open = upgradeSchedule("up", FROM, V2, [proposal("open")]);
    expect(open).toMatchObject({ ok: false, code: "NODE_UPGRADE_NOT_SCHEDULED", message: expect.stringMatching(/open, 2 of 3 approvals \(a1, a2\), missing a3, a4/) });
    expect(open.ok ? "" : open.remedy).toMatch(/statecell channel approve/);
    // Scheduled, but from another definition than the one this node runs: not this node's upgrade.
    expect(upgradeSchedule("up", "0".repeat(64), V2, [proposal("scheduled")])).toMatchObject({ ok: false, code: "NODE_UPGRADE_NOT_SCHEDULED" });
    expect(upgradeSchedule("up", FROM, V2, [proposal("replaced"), proposal("expired")])).toMatchObject({ ok: false });
  });
});

describe("announcing heads to snapshot validators that do not host a cell", () => {
  it("sends the block before a scheduled activation at once, even when the next block follows within the announce interval", async () => {
    const sent: number[] = [];
    const a = new HeadAnnouncer("up", ["peer"], (_p, _c, bytes) => void sent.push((JSON.parse(new TextDecoder().decode(bytes)) as { m: { height: number } }).m.height), Date.now, () => new Set([9]));
    const block = (h: number) => ({ height: h, value: { stateRoot: "c".repeat(64) }, certificate: certify("one", h, hashOf("one", h)) }) as never;
    try {
      a.committed("one", block(8));
      a.committed("one", block(9));
      a.committed("one", block(10));
      await new Promise((r) => setTimeout(r, 250));
      // 8 is coalesced away (the latest wins), 9 goes out at once, 10 after the interval.
      expect(sent).toEqual([9, 10]);
    } finally {
      a.stop();
    }
  });
});
