import { describe, expect, it } from "vitest";
import { canonicalString } from "../../../runtime/core/canonical.js";
import { GENESIS_HASH, proposerOf, signingString, step, validatorSet, verifyCertificate, type Proposal, type Vote } from "../../../runtime/consensus/index.js";
import { broadcasts, drops, feed, fresh, id, KEYMAP, GROUP, lockedOn, msg, proposal, PUB, SET, started, timeouts, value, vote } from "./harness.js";

const V = value("v");
const W = value("w");

describe("rule 1: start of a round", () => {
  it("rotates the proposer by height and round over the plan order", () => {
    expect(proposerOf(SET, 1, 0)).toBe(PUB[1]);
    expect(proposerOf(SET, 1, 3)).toBe(PUB[0]);
    expect(proposerOf(SET, 2, 0)).toBe(PUB[2]);
  });

  it("the proposer builds a block from pending inputs, persists before broadcasting, with block time from its own clock", () => {
    const s0 = fresh(1);
    const r = step(s0, { kind: "start", now: 777 });
    const kinds = r.effects.map((e) => e.kind);
    expect(kinds.indexOf("persist")).toBeGreaterThanOrEqual(0);
    expect(kinds.indexOf("persist")).toBeLessThan(kinds.indexOf("broadcast"));
    const p = broadcasts(r.effects)[0] as Proposal;
    expect(p.type).toBe("proposal");
    expect(p.validRound).toBe(-1);
    expect(p.value).toEqual({ height: 1, tag: "built-r0", time: 777 });
    // Its own proposal makes it prevote at once (rule 2), also persisted first.
    expect(broadcasts(r.effects).map((m) => m.type)).toEqual(["proposal", "prevote"]);
  });

  it("a non-proposer starts timeoutPropose(0) = base", () => {
    const r = step(fresh(0), { kind: "start", now: 1 });
    expect(broadcasts(r.effects)).toEqual([]);
    expect(timeouts(r.effects)).toEqual([{ step: "propose", round: 0, duration: 100 }]);
  });

  it("timeouts grow with the round: base + r * delta", () => {
    const s = feed(started(0), [msg(vote(1, "prevote", 4, null)), msg(vote(2, "prevote", 4, null))]);
    expect(s.state.round).toBe(4);
    expect(timeouts(s.effects)).toContainEqual({ step: "propose", round: 4, duration: 140 });
  });

  it("the proposer re-proposes its validValue with validRound", () => {
    const { state } = lockedOn(V);
    expect(state.valid?.valueId).toBe(id(V));
    // Node a proposes at round 3; two validators at round 3 make it skip there (rule 9).
    const r = feed(state, [msg(vote(1, "prevote", 3, null)), msg(vote(2, "prevote", 3, null))]);
    const p = broadcasts(r.effects).find((m) => m.type === "proposal") as Proposal;
    expect(p.round).toBe(3);
    expect(p.valueId).toBe(id(V));
    expect(p.validRound).toBe(0);
  });
});

describe("rule 2: proposal with validRound -1", () => {
  it("prevotes a valid value", () => {
    const r = feed(started(0), [msg(proposal(1, 0, V))]);
    expect(broadcasts(r.effects).map((m) => [m.type, (m as Vote).valueId])).toEqual([["prevote", id(V)]]);
    expect(r.state.step).toBe("prevote");
  });

  it("prevotes nil for an invalid value (re-execution differs)", () => {
    const bad = value("x", 1, { bad: true });
    const r = feed(started(0), [msg(proposal(1, 0, bad))]);
    expect((broadcasts(r.effects)[0] as Vote).valueId).toBeNull();
  });

  it("prevotes nil for a new value when locked on another", () => {
    const { state } = lockedOn(V);
    expect(state.lockedRound).toBe(0);
    // Round 1 (proposer c) proposes w with no proof-of-lock.
    const r = feed(state, [msg(vote(1, "precommit", 1, null)), msg(vote(2, "precommit", 1, null)), msg(proposal(2, 1, W))]);
    expect(r.state.round).toBe(1);
    const pv = broadcasts(r.effects).filter((m) => m.type === "prevote" && m.round === 1) as Vote[];
    expect(pv.map((m) => m.valueId)).toEqual([null]);
  });

  it("with the locking rule disabled (mutation-test flag), prevotes the new value anyway", () => {
    const { state } = lockedOn(V, { test: { unsafeDisableLocking: true } });
    const r = feed(state, [msg(vote(1, "precommit", 1, null)), msg(vote(2, "precommit", 1, null)), msg(proposal(2, 1, W))]);
    const pv = broadcasts(r.effects).filter((m) => m.type === "prevote" && m.round === 1) as Vote[];
    expect(pv.map((m) => m.valueId)).toEqual([id(W)]);
  });
});

describe("rule 3: proposal with a proof-of-lock round", () => {
  it("prevotes the value once a quorum prevoted it at validRound, even when locked earlier on another", () => {
    const { state } = lockedOn(V);
    // Round 1: b, c, d prevote w (node a does not see the proposal of round 1).
    let r = feed(state, [msg(vote(1, "prevote", 1, id(W))), msg(vote(2, "prevote", 1, id(W))), msg(vote(3, "prevote", 1, id(W)))]);
    expect(r.state.round).toBe(1);
    // Round 2 (proposer d) re-proposes w with validRound 1.
    r = feed(r.state, [msg(vote(1, "precommit", 2, null)), msg(vote(2, "precommit", 2, null)), msg(proposal(3, 2, W, 1))]);
    const pv = broadcasts(r.effects).filter((m) => m.type === "prevote" && m.round === 2) as Vote[];
    expect(pv.map((m) => m.valueId)).toEqual([id(W)]);
  });

  it("waits (no prevote) while the proof-of-lock prevotes are missing", () => {
    const s = feed(started(0), [msg(vote(2, "precommit", 1, null)), msg(vote(3, "precommit", 1, null))]).state;
    const r = feed(s, [msg(proposal(2, 1, W, 0))]);
    expect(broadcasts(r.effects)).toEqual([]);
    expect(r.state.step).toBe("propose");
  });

  it("prevotes nil when locked after validRound on another value", () => {
    // Locked on v at round 1; proposal of w with validRound 0 < lockedRound.
    let r = feed(started(0), [msg(vote(1, "prevote", 0, id(W))), msg(vote(2, "prevote", 0, id(W))), msg(vote(3, "prevote", 0, id(W)))]);
    r = feed(r.state, [msg(vote(1, "precommit", 1, null)), msg(vote(2, "precommit", 1, null))]);
    expect(r.state.round).toBe(1);
    r = feed(r.state, [msg(proposal(2, 1, V)), msg(vote(1, "prevote", 1, id(V))), msg(vote(2, "prevote", 1, id(V)))]);
    expect(r.state.lockedRound).toBe(1);
    r = feed(r.state, [msg(vote(1, "precommit", 3, null)), msg(vote(2, "precommit", 3, null))]);
    expect(r.state.round).toBe(3);
    // a is the proposer of round 3 and proposes its validValue v; use round 4 instead (proposer b).
    r = feed(r.state, [msg(vote(1, "precommit", 4, null)), msg(vote(2, "precommit", 4, null)), msg(proposal(1, 4, W, 0))]);
    const pv = broadcasts(r.effects).filter((m) => m.type === "prevote" && m.round === 4) as Vote[];
    expect(pv.map((m) => m.valueId)).toEqual([null]);
  });
});

describe("rules 4 to 7: quorums of prevotes and precommits", () => {
  it("rule 4: a quorum of mixed prevotes starts timeoutPrevote once; when it fires, precommit nil", () => {
    let r = feed(started(0), [msg(proposal(1, 0, V)), msg(vote(1, "prevote", 0, null)), msg(vote(2, "prevote", 0, id(W)))]);
    expect(timeouts(r.effects).filter((t) => t.step === "prevote")).toEqual([{ step: "prevote", round: 0, duration: 50 }]);
    r = feed(r.state, [msg(vote(3, "prevote", 0, null))]);
    expect(timeouts(r.effects).filter((t) => t.step === "prevote")).toEqual([]);
    r = feed(r.state, [{ kind: "timeout", timeout: { step: "prevote", height: 1, round: 0 }, now: 9 }]);
    expect(broadcasts(r.effects).map((m) => [m.type, (m as Vote).valueId])).toEqual([["precommit", null]]);
    expect(r.effects.some((e) => e.kind === "wal" && e.entry.event.kind === "timeout")).toBe(true);
  });

  it("rule 5: proposal + quorum of prevotes for it: lock, precommit it, set validValue", () => {
    const { state, effects } = lockedOn(V);
    expect(state.locked?.valueId).toBe(id(V));
    expect(state.lockedRound).toBe(0);
    expect(state.validRound).toBe(0);
    expect(state.step).toBe("precommit");
    expect(broadcasts(effects).map((m) => m.type)).toEqual(["prevote", "precommit"]);
    expect((broadcasts(effects)[1] as Vote).valueId).toBe(id(V));
  });

  it("rule 5 in the precommit step: sets validValue without locking", () => {
    // a precommits nil on timeout, then sees the proposal and a prevote quorum for v.
    let r = feed(started(0), [msg(vote(1, "prevote", 0, null)), msg(vote(2, "prevote", 0, null)), msg(vote(3, "prevote", 0, id(V)))]);
    r = feed(r.state, [{ kind: "timeout", timeout: { step: "propose", height: 1, round: 0 }, now: 9 }]);
    expect(r.state.step).toBe("precommit"); // nil quorum (rule 6) after own nil prevote
    r = feed(r.state, [msg(proposal(1, 0, V)), msg(vote(1, "prevote", 0, id(V))), msg(vote(2, "prevote", 0, id(V)))]);
    expect(r.state.validRound).toBe(0);
    expect(r.state.lockedRound).toBe(-1);
    expect(broadcasts(r.effects).filter((m) => m.type === "precommit")).toEqual([]);
  });

  it("rule 6: a quorum of nil prevotes: precommit nil", () => {
    const r = feed(started(0), [msg(proposal(1, 0, V)), msg(vote(1, "prevote", 0, null)), msg(vote(2, "prevote", 0, null)), msg(vote(3, "prevote", 0, null))]);
    const pc = broadcasts(r.effects).filter((m) => m.type === "precommit") as Vote[];
    expect(pc.map((m) => m.valueId)).toEqual([null]);
  });

  it("rule 7: a quorum of mixed precommits starts timeoutPrecommit; when it fires, round r + 1", () => {
    let r = feed(started(0), [msg(vote(1, "precommit", 0, null)), msg(vote(2, "precommit", 0, id(V))), msg(vote(3, "precommit", 0, null))]);
    expect(timeouts(r.effects).filter((t) => t.step === "precommit")).toEqual([{ step: "precommit", round: 0, duration: 60 }]);
    r = feed(r.state, [{ kind: "timeout", timeout: { step: "precommit", height: 1, round: 0 }, now: 9 }]);
    expect(r.state.round).toBe(1);
    expect(r.state.step).toBe("propose");
    // A stale timeout (old round) does nothing.
    const again = feed(r.state, [{ kind: "timeout", timeout: { step: "precommit", height: 1, round: 0 }, now: 10 }]);
    expect(again.state.round).toBe(1);
    expect(again.effects).toEqual([]);
  });

  it("timeoutPropose: prevote nil", () => {
    const r = feed(started(0), [{ kind: "timeout", timeout: { step: "propose", height: 1, round: 0 }, now: 9 }]);
    expect(broadcasts(r.effects).map((m) => [m.type, (m as Vote).valueId])).toEqual([["prevote", null]]);
  });
});

describe("rule 8: decision", () => {
  it("proposal + quorum of precommits: decide with a certificate that verifies, then height + 1", () => {
    const r = feed(started(0), [msg(proposal(1, 0, V)), msg(vote(1, "precommit", 0, id(V))), msg(vote(2, "precommit", 0, id(V))), msg(vote(3, "precommit", 0, id(V)))]);
    const d = r.effects.find((e) => e.kind === "decide");
    expect(d?.kind).toBe("decide");
    if (d?.kind !== "decide") return;
    expect(d.valueId).toBe(id(V));
    expect(d.block.certificate.signatures.map((s) => s.validator)).toEqual([PUB[1], PUB[2], PUB[3]]);
    expect(verifyCertificate(GROUP, KEYMAP, { channel: "ch", cell: "cell", height: 1, valueId: id(V) }, d.block.certificate)).toEqual({ ok: true, signers: [PUB[1], PUB[2], PUB[3]] });
    expect(r.state.height).toBe(2);
    expect(r.state.prevHash).toBe(id(V));
    expect(r.state.app).toBe(1);
    expect(r.state.lockedRound).toBe(-1);
  });

  it("decides on precommits of an earlier round while in a later one", () => {
    let r = feed(started(0), [msg(vote(1, "precommit", 2, null)), msg(vote(2, "precommit", 2, null))]);
    expect(r.state.round).toBe(2);
    r = feed(r.state, [msg(proposal(1, 0, V)), msg(vote(1, "precommit", 0, id(V))), msg(vote(2, "precommit", 0, id(V)))]);
    expect(r.effects.some((e) => e.kind === "decide")).toBe(false);
    r = feed(r.state, [msg(vote(3, "precommit", 0, id(V)))]);
    expect(r.effects.some((e) => e.kind === "decide")).toBe(true);
  });

  it("does not decide on a quorum of precommits without the proposal, nor on an invalid value", () => {
    const votes = [1, 2, 3].map((i) => msg(vote(i, "precommit", 0, id(V))));
    expect(feed(started(0), votes).effects.some((e) => e.kind === "decide")).toBe(false);
    const bad = value("x", 1, { bad: true });
    const r = feed(started(0), [msg(proposal(1, 0, bad)), ...[1, 2, 3].map((i) => msg(vote(i, "precommit", 0, id(bad))))]);
    expect(r.effects.some((e) => e.kind === "decide")).toBe(false);
  });

  it("a group of one decides alone on start", () => {
    const solo = { name: "solo", validators: ["a"], threshold: { written: 1, quorum: 1, size: 1, safetyFaults: 0, livenessFaults: 0 } };
    const r = step(fresh(0, { validators: validatorSet(solo, KEYMAP) }), { kind: "start", now: 3 });
    const d = r.effects.find((e) => e.kind === "decide");
    expect(d?.kind === "decide" && d.block.height).toBe(1);
    expect(r.state.height).toBe(2);
    expect(r.state.step).toBe("new-height");
  });
});

describe("rule 9: round skip", () => {
  it("f + 1 = 2 messages from a higher round move the node there; one does not", () => {
    let r = feed(started(0), [msg(vote(1, "prevote", 5, null))]);
    expect(r.state.round).toBe(0);
    r = feed(r.state, [msg(vote(2, "precommit", 5, null))]);
    expect(r.state.round).toBe(5);
  });

  it("jumps to the highest round f + 1 validators reached", () => {
    const r = feed(started(0), [msg(vote(1, "prevote", 9, null)), msg(vote(2, "prevote", 4, null)), msg(vote(3, "prevote", 7, null))]);
    expect(r.state.round).toBe(7);
  });
});

describe("pure", () => {
  it("does not change the state it is given, and repeats itself", () => {
    const s = lockedOn(V).state;
    const snapshot = JSON.stringify({ ...s, config: null });
    const ev = msg(vote(3, "precommit", 0, id(V)));
    const a = step(s, ev);
    const b = step(s, ev);
    expect(JSON.stringify({ ...s, config: null })).toBe(snapshot);
    expect(JSON.stringify(a.effects)).toBe(JSON.stringify(b.effects));
  });

  it("signs canonical bytes: the fast encoding equals RFC 8785", () => {
    const p = proposal(1, 0, V);
    expect(signingString(p)).toBe(canonicalString(["statecell/consensus/1", "ch", "cell", "proposal", 1, 0, -1, id(V)]));
    const v = vote(2, "prevote", 3, null);
    expect(signingString(v)).toBe(canonicalString(["statecell/consensus/1", "ch", "cell", "prevote", 1, 3, null]));
  });

  it("genesis hash is 64 zeros", () => {
    expect(GENESIS_HASH).toBe("0".repeat(64));
  });
});

describe("frames from strangers are dropped and counted", () => {
  const cases: Array<[string, unknown, string]> = [
    ["not an object", "prevote", "malformed"],
    ["unknown field", { ...vote(1, "prevote", 0, null), extra: 1 }, "malformed"],
    ["negative height", { ...vote(1, "prevote", 0, null), height: -1 }, "malformed"],
    ["huge round", { ...vote(1, "prevote", 0, null), round: 1e12 }, "malformed"],
    ["validRound not earlier", { ...proposal(1, 0, V), validRound: 0 }, "malformed"],
    ["other channel", { ...vote(1, "prevote", 0, null), channel: "other" }, "wrong-channel"],
    ["other cell", { ...vote(1, "prevote", 0, null), cell: "other" }, "wrong-cell"],
    ["non-member", { ...vote(1, "prevote", 0, null), validator: "ab".repeat(32) }, "non-member"],
    ["bad signature", { ...vote(1, "prevote", 0, null), signature: "00".repeat(64) }, "bad-signature"],
    ["signature of another member", { ...vote(1, "prevote", 0, null), validator: PUB[2] }, "bad-signature"],
    ["not the proposer", proposal(2, 0, V), "not-proposer"],
    ["value does not hash to valueId", { ...proposal(1, 0, V), value: W }, "bad-value-id"],
  ];
  for (const [name, frame, reason] of cases) {
    it(`${name}: ${reason}`, () => {
      const r = feed(started(0), [msg(frame)]);
      expect(drops(r.effects)).toEqual([reason]);
      expect(broadcasts(r.effects)).toEqual([]);
    });
  }

  it("stale height", () => {
    const s = feed(started(0), [msg(proposal(1, 0, V)), ...[1, 2, 3].map((i) => msg(vote(i, "precommit", 0, id(V))))]).state;
    expect(s.height).toBe(2);
    expect(drops(feed(s, [msg(vote(1, "prevote", 0, null))]).effects)).toEqual(["stale-height"]);
  });

  it("an identical message twice is a duplicate", () => {
    const v = vote(1, "prevote", 0, null);
    expect(drops(feed(started(0), [msg(v), msg(v)]).effects)).toEqual(["duplicate"]);
  });

  it("a message from the next height is kept and used on arrival there; it also asks for catch-up", () => {
    const next = proposal(2, 0, value("n", 2), -1, 2); // proposer of (2, 0) is c
    let r = feed(started(0), [msg(next)]);
    expect(r.effects.filter((e) => e.kind === "request-catchup")).toEqual([{ kind: "request-catchup", peer: PUB[2], fromHeight: 1 }]);
    r = feed(r.state, [msg(proposal(1, 0, V)), ...[1, 2, 3].map((i) => msg(vote(i, "precommit", 0, id(V))))]);
    expect(r.state.height).toBe(2);
    expect(timeouts(r.effects)).toContainEqual({ step: "commit", round: 0, duration: 0 });
    // When the commit timeout fires, round 0 starts and the buffered proposal is prevoted.
    r = feed(r.state, [{ kind: "timeout", timeout: { step: "commit", height: 2, round: 0 }, now: 9 }]);
    const pv = broadcasts(r.effects).filter((m) => m.height === 2 && m.type === "prevote") as Vote[];
    expect(pv.map((m) => m.valueId)).toEqual([id(value("n", 2))]);
  });
});
