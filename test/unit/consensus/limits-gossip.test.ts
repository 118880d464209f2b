import { describe, expect, it } from "vitest";
import { gossipMessages, type Vote } from "../../../runtime/consensus/index.js";
import { drops, feed, id, lockedOn, msg, proposal, started, value, vote } from "./harness.js";

const V = value("v");

describe("bounds on what peers can make a node keep", () => {
  it("messages more than 32 rounds ahead are not stored, but count toward a round skip", () => {
    let r = feed(started(0), [msg(vote(1, "prevote", 40, null))]);
    expect(drops(r.effects)).toEqual(["round-too-far"]);
    expect(r.state.rounds[40]).toBeUndefined();
    r = feed(r.state, [msg(vote(2, "prevote", 50, null))]);
    expect(r.state.round).toBe(40);
  });

  it("keeps at most 3 conflicting votes per validator, round and type", () => {
    const ids = ["1", "2", "3", "4"].map((t) => id(value(t)));
    const r = feed(started(0), ids.map((x) => msg(vote(1, "prevote", 0, x))));
    expect(drops(r.effects)).toEqual(["equivocation"]);
    expect(r.state.rounds[0].prevotes[vote(1, "prevote", 0, null).validator]).toHaveLength(3);
  });

  it("keeps at most 4 proposals per round from an equivocating proposer", () => {
    const r = feed(started(0), ["1", "2", "3", "4", "5"].map((t) => msg(proposal(1, 0, value(t)))));
    expect(drops(r.effects).filter((d) => d === "too-many-proposals")).toHaveLength(1);
    expect(r.state.rounds[0].proposals).toHaveLength(4);
  });
});

describe("gossipMessages", () => {
  it("relays own and others' messages of the current round and of the lock round", () => {
    const { state } = lockedOn(V);
    const s = feed(state, [msg(vote(1, "precommit", 2, null)), msg(vote(2, "precommit", 2, null)), msg(vote(3, "prevote", 7, null))]).state;
    expect(s.round).toBe(2);
    const out = gossipMessages(s);
    const rounds = new Set(out.map((m) => m.round));
    expect([...rounds].sort()).toEqual([0, 2]); // current 2, previous 1 (empty), lock 0; not 7
    // The proof-of-lock of round 0: the proposal and the three prevotes for v, including others'.
    const pol = out.filter((m) => m.round === 0 && m.type === "prevote") as Vote[];
    expect(pol.map((m) => m.valueId)).toEqual([id(V), id(V), id(V)]);
    expect(out.some((m) => m.type === "proposal" && m.round === 0)).toBe(true);
  });
});

describe("observers", () => {
  it("a node without a key follows and decides but never signs", () => {
    const r = feed(started(null), [msg(proposal(1, 0, V)), ...[1, 2, 3].map((i) => msg(vote(i, "precommit", 0, id(V))))]);
    expect(r.effects.filter((e) => e.kind === "broadcast" || e.kind === "persist")).toEqual([]);
    expect(r.effects.some((e) => e.kind === "decide")).toBe(true);
  });
});
