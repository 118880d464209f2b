import { describe, expect, it } from "vitest";
import { GENESIS_HASH, MemorySignerStore, MemoryWal, restore, step, type ConsensusEffect, type SignedRecord, type Vote, type WalEntry } from "../../../runtime/consensus/index.js";
import { broadcasts, config, drops, feed, fresh, id, lockedOn, msg, proposal, value, vote } from "./harness.js";

const V = value("v");
const W = value("w");

/** Runs effects the way a driver does: persist and wal into the stores. */
function apply(effects: ConsensusEffect[], store: MemorySignerStore, wal: MemoryWal): void {
  for (const e of effects) {
    if (e.kind === "persist") store.save(e.record);
    if (e.kind === "wal") wal.append(e.entry);
  }
}

describe("signer guard", () => {
  it("persists the record before the signed message leaves", () => {
    const { effects } = lockedOn(V);
    const order = effects.filter((e) => e.kind === "persist" || e.kind === "broadcast").map((e) => (e.kind === "persist" ? `persist:${e.record.step}` : `send:${e.message.type}`));
    expect(order).toEqual(["persist:1", "send:prevote", "persist:2", "send:precommit"]);
  });

  it("after a restart, re-sends the identical signed bytes for the same (h, r, step) instead of signing a different value", () => {
    // Before the crash: prevoted v at (1, 0).
    const before = feed(fresh(0), [{ kind: "start", now: 1 }, msg(proposal(1, 0, V))]);
    const record = before.state.signer as SignedRecord;
    expect(record.valueId).toBe(id(V));
    // After a restart that lost the WAL: the proposal it now sees is invalid, so the rules say prevote nil.
    const bad = value("x", 1, { bad: true });
    const after = feed(fresh(0, {}, record), [{ kind: "start", now: 2 }, msg(proposal(1, 0, bad))]);
    const sent = broadcasts(after.effects);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBe(record.message);
    expect((sent[0] as Vote).valueId).toBe(id(V));
    expect(after.effects.some((e) => e.kind === "persist")).toBe(false);
  });

  it("refuses to sign for an earlier (h, r, step) than the one it recorded", () => {
    const record: SignedRecord = { height: 1, round: 2, step: 2, valueId: null, message: vote(0, "precommit", 2, null) };
    const r = feed(fresh(0, {}, record), [{ kind: "start", now: 1 }, msg(proposal(1, 0, V))]);
    expect(broadcasts(r.effects)).toEqual([]);
    expect(drops(r.effects)).toEqual(["signer-guard"]);
    expect(r.state.step).toBe("prevote"); // the state still moves on; only the signature is refused
  });

  it("a proposer restarted in the round it proposed re-sends its stored proposal, not a new block", () => {
    const first = step(fresh(1), { kind: "start", now: 100 });
    const rec = first.state.signer as SignedRecord;
    // Its last signature was the prevote; replaying the WAL restores the proposal and re-sends only what the guard allows.
    const wal = new MemoryWal();
    const store = new MemorySignerStore();
    apply(first.effects, store, wal);
    const back = restore(config(1), { height: 1, prevHash: GENESIS_HASH, app: 0, signer: store.load() }, wal.entries(1), 999);
    expect(store.load()).toEqual(rec);
    const sent = broadcasts(back.effects);
    // Proposal (same (h, r, 0) is below the record: refused), prevote (same step: identical bytes).
    expect(sent).toEqual([rec.message]);
    expect(back.state.step).toBe("prevote");
    expect(back.state.rounds[0].proposals.map((p) => p.value)).toEqual([{ height: 1, tag: "built-r0", time: 100 }]);
  });
});

describe("restart from the WAL", () => {
  it("resumes the height with its round, lock and votes", () => {
    const store = new MemorySignerStore();
    const wal = new MemoryWal();
    const a = lockedOn(V);
    const b = feed(a.state, [msg(vote(1, "precommit", 0, null)), msg(vote(2, "precommit", 0, null))]);
    const c = feed(b.state, [{ kind: "timeout", timeout: { step: "precommit", height: 1, round: 0 }, now: 50 }]);
    apply([...a.effects, ...b.effects, ...c.effects], store, wal);
    expect(c.state.round).toBe(1);
    const back = restore(config(0), { height: 1, prevHash: GENESIS_HASH, app: 0, signer: store.load() }, wal.entries(1), 60);
    expect(back.state.round).toBe(1);
    expect(back.state.lockedRound).toBe(0);
    expect(back.state.locked?.valueId).toBe(id(V));
    expect(Object.keys(back.state.rounds[0].prevotes)).toHaveLength(3);
    // Replayed events are not logged twice.
    expect(back.effects.filter((e) => e.kind === "wal")).toEqual([]);
    // Locked after the restart: a new value in round 1 gets a nil prevote.
    const r = feed(back.state, [msg(proposal(2, 1, W))]);
    expect(broadcasts(r.effects).map((m) => (m as Vote).valueId)).toEqual([null]);
  });
});

describe("in-memory stores that crash mid-write", () => {
  const rec = (round: number): SignedRecord => ({ height: 1, round, step: 1, valueId: null, message: vote(0, "prevote", round, null) });

  it("signer store: a torn write falls back to the previous record; a lost one too", () => {
    const s = new MemorySignerStore();
    expect(s.load()).toBeNull();
    s.save(rec(0));
    s.save(rec(1));
    s.crashDuring(rec(2), "tear");
    expect(s.load()?.round).toBe(1);
    const t = new MemorySignerStore();
    t.save(rec(0));
    t.crashDuring(rec(1), "lose");
    expect(t.load()?.round).toBe(0);
  });

  it("WAL: a torn last entry is skipped; truncation keeps later heights", () => {
    const w = new MemoryWal();
    const e = (height: number, round: number): WalEntry => ({ height, event: { kind: "timeout", timeout: { step: "precommit", height, round }, now: 0 } });
    w.append(e(1, 0));
    w.append(e(2, 0));
    w.crashDuring(e(2, 1), "tear");
    expect(w.entries(2)).toEqual([e(2, 0)]);
    w.truncateBelow(2);
    expect(w.entries(1)).toEqual([]);
    expect(w.size).toBe(2);
  });

  it("both stores read back equal copies of what was written, which the writer can no longer change", () => {
    const w = new MemoryWal();
    const m = vote(0, "prevote", 0, null);
    const entry: WalEntry = { height: 1, event: { kind: "message", frame: m, now: 5 } };
    const expected = JSON.parse(JSON.stringify(entry)) as WalEntry;
    w.append(entry);
    expect(() => {
      (m as { round: number }).round = 3;
    }).toThrow(TypeError);
    const back = w.entries(1);
    expect(back).toEqual([expected]);
    expect(back[0]).not.toBe(entry);
    back[0].height = 9; // a copy: changing it changes nothing kept
    expect(w.entries(1)).toEqual([expected]);
    const s = new MemorySignerStore();
    const r = rec(0);
    s.save(r);
    expect(Object.isFrozen(r.message)).toBe(true);
    expect(s.load()).toEqual(rec(0));
    expect(s.load()).not.toBe(r);
  });
});

describe("evidence", () => {
  it("two different prevotes of one validator at one (h, r): evidence with both signed messages, reported once", () => {
    const v1 = vote(2, "prevote", 0, id(V));
    const v2 = vote(2, "prevote", 0, null);
    const v3 = vote(2, "prevote", 0, id(W));
    const r = feed(fresh(0), [{ kind: "start", now: 1 }, msg(v1), msg(v2), msg(v3)]);
    const ev = r.effects.filter((e) => e.kind === "evidence");
    expect(ev).toHaveLength(1);
    if (ev[0].kind !== "evidence") return;
    expect(ev[0].evidence).toMatchObject({ kind: "duplicate-vote", validator: v1.validator, height: 1, round: 0, type: "prevote" });
    expect(ev[0].evidence.first).toBe(v1);
    expect(ev[0].evidence.second).toBe(v2);
    // Each conflicting vote counts toward its own value (distinct senders), the validator once in the total.
    expect(r.state.rounds[0].prevoteCount).toEqual({ [id(V)]: 1, nil: 1, [id(W)]: 1 });
    expect(r.state.rounds[0].prevoteTotal).toBe(1);
  });

  it("an equivocating proposer: duplicate-proposal evidence, both proposals kept", () => {
    const r = feed(fresh(0), [{ kind: "start", now: 1 }, msg(proposal(1, 0, V)), msg(proposal(1, 0, W))]);
    const ev = r.effects.find((e) => e.kind === "evidence");
    expect(ev?.kind === "evidence" && ev.evidence.kind).toBe("duplicate-proposal");
    expect(r.state.rounds[0].proposals.map((p) => p.valueId)).toEqual([id(V), id(W)]);
  });
});
