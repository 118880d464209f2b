/**
 * The cell as replicated application, without the sandbox: what a block
 * value carries (codes and rule names only), what stays beside it for
 * clients, how a certified value is applied, what the block limits let in,
 * and how a broken node stops instead of voting.
 */
import { describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { StatecellError } from "../../../runtime/core/errors.js";
import { GENESIS_HASH } from "../../../runtime/consensus/index.js";
import { cellApplication, genesisCellChain, type CellBlockValue, type CellChainState } from "../../../runtime/consensus/cell-application.js";
import { counterPlan, hookPlan, recordingRunner, signed, signedPlan } from "./cell-plans.js";

const T = 1_700_000_000_000;
const build = (app: ReturnType<typeof cellApplication>, pending: readonly Json[], state: CellChainState = genesisCellChain(), height = 1, prevHash = GENESIS_HASH) =>
  app.buildValue({ height, round: 0, prevHash, time: T + height * 1000, state, pending: pending.map(sub) }) as unknown as CellBlockValue;
/**
 * A submission as a block carries it, `{ data }`, for plain data; left as it
 * is when it already is one (a signed envelope) or is not an object (raw text,
 * which no submission is).
 */
const sub = (d: Json): Json => {
  if (typeof d !== "object" || d === null || Array.isArray(d)) return d;
  const keys = Object.keys(d);
  return keys.includes("data") && keys.every((k) => ["data", "op", "signer", "signature"].includes(k)) ? d : { data: d };
};
const ctx = (state: CellChainState = genesisCellChain(), height = 1, prevHash = GENESIS_HASH) => ({ height, prevHash, state });
const asJson = (v: unknown) => v as Json;

function thrown(f: () => unknown): StatecellError {
  try {
    f();
  } catch (e) {
    if (e instanceof StatecellError) return e;
    throw new Error(`threw something else: ${String(e)}`);
  }
  throw new Error("did not throw");
}

describe("block verdicts: codes and rule names only", () => {
  const plan = counterPlan();
  const pending: Json[] = [{ id: "a", n: 1 }, { id: "b", n: 99 }, { id: "c", n: "x" }, { id: "a", n: 2 }];

  it("a block's verdicts are { accepted } or { accepted: false, code, rule? }, with no message or path", () => {
    const v = build(cellApplication(plan, "c"), pending);
    expect(v.verdicts).toEqual([
      { accepted: true },
      { accepted: false, code: "CELL_RULE", rule: "small" },
      { accepted: false, code: "CELL_SCHEMA" },
      { accepted: false, code: "CELL_DUPLICATE_KEY" },
    ]);
  });

  it("the full verdicts (messages, paths) of a value the application executed stay beside it: verdictsOf", () => {
    const proposer = cellApplication(plan, "c");
    const v = build(proposer, pending);
    const full = proposer.verdictsOf(asJson(v));
    expect(full?.[1]).toMatchObject({ accepted: false, code: "CELL_RULE", rule: "small", message: "99 is more than 50" });
    expect(full?.[2]).toMatchObject({ accepted: false, code: "CELL_SCHEMA" });
    expect((full?.[2] as { message: string }).message.length).toBeGreaterThan(0);
    expect(full?.[3]).toMatchObject({ code: "CELL_DUPLICATE_KEY", path: "/records/a" });

    // A validator knows them once it validated the value, and after applying it.
    const validator = cellApplication(plan, "c");
    const copy = structuredClone(v) as unknown as Json;
    expect(validator.verdictsOf(copy)).toBeUndefined();
    expect(validator.validateValue(ctx(), copy)).toBe(true);
    expect(validator.verdictsOf(copy)).toEqual(full);
    const other = structuredClone(v) as unknown as Json;
    validator.applyValue(genesisCellChain(), other);
    expect(validator.verdictsOf(other)).toEqual(full);
  });

  it("validators whose hooks word a refusal differently (another engine's TypeError text) agree on the block", () => {
    const hp = hookPlan();
    const refuse = (word: string) => recordingRunner((c) => (c.index === 1 ? { ok: false, reason: `TypeError: ${word}` } : { ok: true }));
    const proposer = cellApplication(hp, "h", { code: () => refuse("Cannot read properties of undefined (reading 'x')") });
    const validator = cellApplication(hp, "h", { code: () => refuse("undefined is not an object (evaluating 'd.x')") });
    const v = build(proposer, [{ n: 1 }, { n: 2 }]);
    expect(v.verdicts[1]).toEqual({ accepted: false, code: "CELL_CODE_REJECT" });
    expect(validator.validateValue(ctx(), structuredClone(v) as unknown as Json)).toBe(true);
    expect((proposer.verdictsOf(asJson(v))?.[1] as { message: string }).message).toContain("reading 'x'");
  });

  it("a proposal whose verdicts carry messages is not the block the validator computes", () => {
    const app = cellApplication(plan, "c");
    const v = structuredClone(build(app, pending));
    (v.verdicts[1] as Record<string, Json>).message = "99 is more than 50";
    expect(cellApplication(plan, "c").validateValue(ctx(), asJson(v))).toBe(false);
  });
});

describe("applying a certified value", () => {
  const hp = hookPlan();
  // The proposer's run times input 0 out; a run without the proposer's verdicts would not.
  const flaky = () => recordingRunner((c, n) => (c.index === 0 && (n === 0 || c.opts?.verify?.timedOut.includes(0)) ? { fault: "SANDBOX_TIMEOUT", message: "validate ran over 50 ms" } : { ok: true }));

  it("on a state it did not validate, re-executes in the validator's mode (the proposer's SANDBOX_TIMEOUT as verify.timedOut) and reaches the block's root", () => {
    const proposer = cellApplication(hp, "h", { code: (() => { const r = flaky(); return () => r; })() });
    const v = build(proposer, [{ n: 1 }, { n: 2 }]);
    expect(v.verdicts[0]).toEqual({ accepted: false, code: "SANDBOX_TIMEOUT" });

    const runner = flaky();
    runner.calls.push([]); // this node's first run is not the proposer's
    const node = cellApplication(hp, "h", { code: () => runner });
    const s = node.applyValue(genesisCellChain(), structuredClone(v) as unknown as Json);
    expect(s.stateRoot).toBe(v.stateRoot);
    expect(s.cell).toMatchObject({ count: 1 });
    expect(runner.calls[1][0].opts?.verify).toEqual({ timedOut: [0] });
  });

  it("a validator re-executing a proposal passes the proposer's timed-out inputs by their block index", () => {
    const proposer = cellApplication(hp, "h", { code: () => recordingRunner((c) => (c.index === 2 ? { fault: "SANDBOX_TIMEOUT", message: "over" } : { ok: true })) });
    const v = build(proposer, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const runner = recordingRunner((c) => (c.opts?.verify?.timedOut.includes(c.index) ? { fault: "SANDBOX_TIMEOUT", message: "over" } : { ok: true }));
    const validator = cellApplication(hp, "h", { code: () => runner });
    expect(validator.validateValue(ctx(), structuredClone(v) as unknown as Json)).toBe(true);
    expect(runner.calls[0][0].opts?.verify).toEqual({ timedOut: [2] });
  });

  it("a certified value whose root this node does not reach stops it: CONSENSUS_APP_DIVERGED names the height and both roots", () => {
    const plan = counterPlan();
    const app = cellApplication(plan, "c");
    const v = build(app, [{ id: "a", n: 1 }]);
    const bad = { ...structuredClone(v), stateRoot: "ab".repeat(32) };
    const e = thrown(() => cellApplication(plan, "c").applyValue(genesisCellChain(), asJson(bad)));
    expect(e.code).toBe("CONSENSUS_APP_DIVERGED");
    expect(e.message).toContain("height 1");
    expect(e.message).toContain("ab".repeat(32));
    expect(e.message).toContain(v.stateRoot);
    expect(e.remedy).toBeTruthy();
  });

  it("a certified value carrying a submission this node refuses at admission stops it: CONSENSUS_APP_DIVERGED", () => {
    const plan = counterPlan();
    const v = build(cellApplication(plan, "c"), [{ id: "a", n: 1 }]);
    const bad = { ...structuredClone(v), inputs: [{ data: { id: "a", n: 1, constructor: 1 } }] };
    expect(thrown(() => cellApplication(plan, "c").applyValue(genesisCellChain(), asJson(bad))).code).toBe("CONSENSUS_APP_DIVERGED");
  });
});

describe("a broken node stops instead of voting", () => {
  it("an exception escaping executeBlock (no code runner for a cell with code) is CONSENSUS_APP_FAULT, not an invalid value", () => {
    const hp = hookPlan();
    const proposer = cellApplication(hp, "h", { code: () => recordingRunner(() => ({ ok: true })) });
    const v = build(proposer, [{ n: 1 }]);
    const broken = cellApplication(hp, "h");
    const e = thrown(() => broken.validateValue(ctx(), structuredClone(v) as unknown as Json));
    expect(e.code).toBe("CONSENSUS_APP_FAULT");
    expect(e.message).toContain("CELL_NO_CODE_RUNNER");
    expect(thrown(() => broken.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: T, state: genesisCellChain(), pending: [] })).code).toBe("CONSENSUS_APP_FAULT");
  });
});

describe("what enters a block: admission and the plan's block limits", () => {
  const limited = counterPlan("limits: { maxInputBytes: 1024, maxBlockBytes: 2048, maxBlockInputs: 3 }");
  const pad = (id: string, chars: number): Json => ({ id, n: 1, pad: "p".repeat(chars) });

  it("the proposer leaves out what admission refuses (size, JSON text, forbidden keys, bad numbers) and keeps the order of the rest", () => {
    const app = cellApplication(limited, "c");
    const pending: Json[] = [{ id: "a", n: 1 }, pad("big", 5000), '{"id": "t", "n": 1', { id: "k", n: 1, constructor: 2 }, { id: "b", n: 2 }];
    const v = build(app, pending);
    expect(v.inputs).toEqual([{ data: { id: "a", n: 1 } }, { data: { id: "b", n: 2 } }]);
    expect(v.verdicts).toEqual([{ accepted: true }, { accepted: true }]);
    // Refused submissions leave the pending inputs; nothing else does.
    expect(app.remainingInputs!(pending.map(sub), asJson(v))).toEqual([]);
  });

  it("the proposer stops at maxInputs and at maxBytes of canonical submission bytes; what did not fit stays pending, in order", () => {
    const app = cellApplication(limited, "c");
    const many: Json[] = ["a", "b", "c", "d", "e"].map((id) => sub({ id, n: 1 }));
    const v = build(app, many);
    expect(v.inputs.map((i) => (i as { data: { id: string } }).data.id)).toEqual(["a", "b", "c"]);
    expect(app.remainingInputs!(many, asJson(v))).toEqual([many[3], many[4]]);

    // Each is ~930 canonical bytes: two fit in 2,048, the third waits.
    const heavy: Json[] = ["x", "y", "z"].map((id) => sub(pad(id, 900)));
    const h = build(app, heavy);
    expect(h.inputs.map((i) => (i as { data: { id: string } }).data.id)).toEqual(["x", "y"]);
    expect(app.remainingInputs!(heavy, asJson(h))).toEqual([heavy[2]]);
  });

  it("at a validator, whose pool holds other objects than the block, what the block carried leaves by content, key order aside", () => {
    const proposer = cellApplication(limited, "c");
    const validator = cellApplication(limited, "c");
    const many: Json[] = ["a", "b", "c", "d", "e"].map((id) => sub({ id, n: 1 }));
    const v = build(proposer, many);
    // The block as it arrives: parsed from the wire, so none of its objects is one of the validator's.
    const received = JSON.parse(JSON.stringify(v)) as Json;
    const pool: Json[] = ["e", "c", "d", "b", "a"].map((id) => ({ data: { n: 1, id } }));
    expect(validator.remainingInputs!(pool, received)).toEqual([pool[0], pool[2]]);
    // Asked again after the next decision, the answers are the same (each entry's text is remembered, not changed).
    expect(validator.remainingInputs!(pool, received)).toEqual([pool[0], pool[2]]);
  });

  it("a signed submission is counted with its envelope, and a bad signature never enters a block", () => {
    const sp = signedPlan();
    const app = cellApplication(sp, "s");
    const good = signed(sp, "s", "ann", { choice: "parks" });
    const forged = { ...(good as Record<string, Json>), data: { choice: "transit" } };
    const v = build(app, [forged, good]);
    expect(v.inputs).toEqual([good]);
    expect(app.remainingInputs!([forged, good], asJson(v))).toEqual([]);
  });

  it("a validator finds a value invalid when an input fails admission, whatever verdict the proposer wrote for it", () => {
    const app = cellApplication(limited, "c");
    const honest = build(app, [{ id: "a", n: 1 }]);
    for (const [input, verdict] of [
      [pad("big", 5000), { accepted: false, code: "CELL_TOO_LARGE" }],
      ['{"id": "t"', { accepted: false, code: "CELL_NOT_JSON" }],
      [{ id: "k", n: 1, constructor: 2 }, { accepted: false, code: "CELL_FORBIDDEN_KEY" }],
    ] as Array<[Json, Json]>) {
      const bad = { ...structuredClone(honest), inputs: [...honest.inputs, sub(input)], verdicts: [...honest.verdicts, verdict] };
      expect(cellApplication(limited, "c").validateValue(ctx(), asJson(bad))).toBe(false);
    }
  });

  it("a validator finds a value invalid when it exceeds maxInputs or maxBytes", () => {
    const loose = cellApplication(counterPlan(), "c");
    const four = build(loose, ["a", "b", "c", "d"].map((id) => ({ id, n: 1 })));
    expect(four.inputs).toHaveLength(4);
    expect(cellApplication(counterPlan(), "c").validateValue(ctx(), structuredClone(four) as unknown as Json)).toBe(true);
    expect(cellApplication(limited, "c").validateValue(ctx(), structuredClone(four) as unknown as Json)).toBe(false);

    const heavy = build(loose, ["x", "y", "z"].map((id) => pad(id, 900)));
    expect(heavy.inputs).toHaveLength(3);
    expect(cellApplication(limited, "c").validateValue(ctx(), structuredClone(heavy) as unknown as Json)).toBe(false);
  });
});
