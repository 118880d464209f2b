/**
 * Hostile frames and a broken node: frames are bounded before anything
 * encodes them, and a node whose application or rules misbehave stops with a
 * coded error instead of voting or going on silently.
 */
import { describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { StatecellError } from "../../../runtime/core/errors.js";
import { DEFAULT_LIMITS, parseFrame, step, validatorSet, type Application, type ConsensusState, type Proposal } from "../../../runtime/consensus/index.js";
import { APP, broadcasts, drops, fresh, KEYMAP, msg, proposal, SET, started, value } from "./harness.js";

const MiB = 1024 * 1024;

/** The harness app, counting valueId calls (each one encodes the whole value). */
function countingApp(): Application<number> & { hashed: number } {
  const app = {
    ...APP,
    hashed: 0,
    valueId(v: Json) {
      app.hashed++;
      return APP.valueId(v);
    },
  };
  return app;
}

/** A proposal from b at round 0 whose value id is not computed (the frame must be dropped before it matters). */
function bigProposal(v: unknown): Proposal {
  return { ...proposal(1, 0, value("small")), value: v as Json };
}

function thrown(f: () => unknown): StatecellError {
  try {
    f();
  } catch (e) {
    if (e instanceof StatecellError) return e;
    throw new Error(`threw something else: ${String(e)}`);
  }
  throw new Error("did not throw");
}

describe("frames are bounded before their value is encoded", () => {
  it("the default bound is 1 MiB (maxFrameBytes 1,048,576)", () => {
    expect(DEFAULT_LIMITS.maxFrameBytes).toBe(1_048_576);
  });

  it("a proposal carrying a 50 MiB string is dropped as too-large, never hashed, in well under a second", () => {
    const app = countingApp();
    const s = started(0, { app });
    const big = bigProposal({ height: 1, tag: "x".repeat(50 * MiB) });
    const t0 = performance.now();
    const r = step(s, msg(big));
    expect(performance.now() - t0).toBeLessThan(500);
    expect(drops(r.effects)).toEqual(["too-large"]);
    expect(app.hashed).toBe(0);
    expect(broadcasts(r.effects)).toEqual([]);
  });

  it("a value of 2 million array items is too-large from its length alone; 1.7 MB of keys is too-large too", () => {
    const long = new Array<number>(2_000_000).fill(0);
    const t0 = performance.now();
    expect(parseFrame(bigProposal(long))).toMatchObject({ ok: false, reason: "too-large" });
    expect(performance.now() - t0).toBeLessThan(200); // 0.07 ms measured: no item is read
    const wide: Record<string, number> = {};
    for (let i = 0; i < 60_000; i++) wide[`key-number-${i}`.padEnd(24, "-")] = i;
    expect(parseFrame(bigProposal(wide))).toMatchObject({ ok: false, reason: "too-large" });
  });

  it("a value that contains itself is refused by the bound, never walked forever", () => {
    const cyclic: Record<string, unknown> = { height: 1 };
    cyclic.self = cyclic;
    const r = step(started(0), msg(bigProposal(cyclic)));
    expect(drops(r.effects)).toEqual(["too-large"]);
  });

  it("a frame bigger than the limit in any field (unknown fields included) is refused first", () => {
    const f = { ...proposal(1, 0, value("v")), junk: "y".repeat(2 * MiB) };
    expect(parseFrame(f)).toMatchObject({ ok: false, reason: "too-large" });
  });

  it("a 900 KiB value is kept: the bound refuses only what is certainly over it", () => {
    const v = value("fits", 1, { pad: "p".repeat(900 * 1024) });
    const r = step(started(0), msg(proposal(1, 0, v)));
    expect(drops(r.effects)).toEqual([]);
    expect(r.state.rounds[0].proposals).toHaveLength(1);
  });

  it("limits.maxFrameBytes sets the bound", () => {
    const v = value("v", 1, { pad: "p".repeat(5000) });
    expect(drops(step(started(0, { limits: { maxFrameBytes: 4096 } }), msg(proposal(1, 0, v))).effects)).toEqual(["too-large"]);
    expect(parseFrame(proposal(1, 0, v), 4096)).toMatchObject({ ok: false, reason: "too-large" });
    expect(parseFrame(proposal(1, 0, v), 8192)).toMatchObject({ ok: true });
  });

  it("a certified block whose value is over the bound is too-large from a bad peer, never hashed", () => {
    const app = countingApp();
    const r = step(started(0, { app }), { kind: "certified-block", block: { height: 1, value: { pad: "z".repeat(3 * MiB) }, certificate: {} }, now: 5, from: "peer-9" });
    expect(drops(r.effects)).toEqual(["too-large"]);
    expect(r.effects).toContainEqual(expect.objectContaining({ kind: "bad-peer", peer: "peer-9", reason: "too-large" }));
    expect(app.hashed).toBe(0);
  });

  it("a proposal re-sent by gossip is dropped as a duplicate before its value is hashed, whatever value the copy carries", () => {
    const app = countingApp();
    const p = proposal(1, 0, value("v"));
    const first = step(started(0, { app }), msg(p));
    expect(app.hashed).toBe(1);
    const again = step(first.state, msg({ ...p }));
    expect(drops(again.effects)).toEqual(["duplicate"]);
    // The copy's value is never used: the proposal held is the one whose value hashed to its id.
    const altered = step(again.state, msg({ ...p, value: value("other") }));
    expect(drops(altered.effects)).toEqual(["duplicate"]);
    expect(app.hashed).toBe(1);
    expect(altered.state.rounds[0].proposals.map((x) => x.value)).toEqual([value("v")]);
    // Another signature (a forged copy) is still checked the full way.
    const forged = step(altered.state, msg({ ...p, value: value("other"), signature: "00".repeat(64) }));
    expect(drops(forged.effects)).toEqual(["bad-value-id"]);
  });
});

describe("a broken node stops with a coded error", () => {
  it("an application whose validateValue throws stops the step with CONSENSUS_APP_FAULT, not a nil prevote", () => {
    const app: Application<number> = {
      ...APP,
      validateValue: () => {
        throw new TypeError("the state store is closed");
      },
    };
    const e = thrown(() => step(started(0, { app }), msg(proposal(1, 0, value("v")))));
    expect(e.code).toBe("CONSENSUS_APP_FAULT");
    expect(e.message).toContain("validateValue");
    expect(e.message).toContain("height 1");
    expect(e.remedy).toBeTruthy();
  });

  it("a coded consensus fault from the application (CONSENSUS_APP_DIVERGED) comes out of step unchanged", () => {
    const app: Application<number> = {
      ...APP,
      applyValue: () => {
        throw new StatecellError("CONSENSUS_APP_DIVERGED", "height 1: expected root aa, got bb", { remedy: "stop" });
      },
    };
    // A group of one decides on start, and applies at once.
    const one = validatorSet({ name: "solo", validators: ["a"], threshold: { written: 1, quorum: 1, size: 1, safetyFaults: 0, livenessFaults: 0 } }, KEYMAP);
    const e = thrown(() => step(fresh(0, { app, validators: one }), { kind: "start", now: 1 }));
    expect(e.code).toBe("CONSENSUS_APP_DIVERGED");
  });

  it("rules that never settle stop with CONSENSUS_STUCK after 10,000 firings instead of returning quietly", () => {
    // A hand-built validator set with skip 0: the round-skip rule holds forever.
    const broken = { ...SET, skip: 0 };
    const s: ConsensusState<number> = fresh(0, { validators: broken });
    const e = thrown(() => step(s, { kind: "start", now: 1 }));
    expect(e.code).toBe("CONSENSUS_STUCK");
    expect(e.message).toContain("10,000");
  });

  it("hostile values stay invalid: an unhashable proposal is dropped, an invalid one prevoted nil, and nothing throws", () => {
    for (const v of [{ height: 1, n: 10n }, { height: 1, f: () => 1 }, { height: 1, u: undefined, s: Symbol("s") }]) {
      const r = step(started(0), msg(bigProposal(v)));
      expect(drops(r.effects)).toEqual(["malformed"]);
    }
    const bad = value("bad", 1, { bad: true });
    const r = step(started(0), msg(proposal(1, 0, bad)));
    expect(broadcasts(r.effects).map((m) => [m.type, (m as { valueId: string | null }).valueId])).toEqual([["prevote", null]]);
  });
});
