/**
 * Hostile block values given to the cell application: wrong shapes,
 * unhashable parts, objects that throw when read. Each is an invalid value
 * (the node prevotes nil), never an exception; applying one as if certified
 * is a divergence, reported with its code.
 */
import { describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { StatecellError } from "../../../runtime/core/errors.js";
import { GENESIS_HASH } from "../../../runtime/consensus/index.js";
import { cellApplication, genesisCellChain, type CellBlockValue } from "../../../runtime/consensus/cell-application.js";
import { counterPlan } from "./cell-plans.js";

const plan = counterPlan();
const T = 1_700_000_000_000;

function honest(): CellBlockValue {
  const app = cellApplication(plan, "c");
  return app.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: T, state: genesisCellChain(), pending: [{ data: { id: "a", n: 1 } }, { data: { id: "b", n: 70 } }] }) as unknown as CellBlockValue;
}

const throwing = new Proxy({}, {
  get() {
    throw new Error("read");
  },
  ownKeys() {
    throw new Error("keys");
  },
  getOwnPropertyDescriptor() {
    throw new Error("descriptor");
  },
});
const cyclic: Record<string, unknown> = { id: "z", n: 1 };
cyclic.self = cyclic;
const getter = Object.defineProperty({ id: "g" }, "n", { enumerable: true, get: () => { throw new Error("getter"); } });

/** Hostile variants of an honest block, by name. */
function variants(): Array<[string, unknown]> {
  const h = honest();
  const with_ = (patch: Record<string, unknown>) => ({ ...structuredClone(h), ...patch });
  return [
    ["null", null],
    ["a number", 7],
    ["text", "block"],
    ["a list", []],
    ["an empty object", {}],
    ["an extra field", with_({ extra: 1 })],
    ["a missing field", (() => { const v: Record<string, unknown> = with_({}); delete v.outputsHash; return v; })()],
    ["inputs that are not a list", with_({ inputs: { 0: 1 } })],
    ["fewer verdicts than inputs", with_({ verdicts: [{ accepted: true }] })],
    ["a height that is not an integer", with_({ height: 1.5 })],
    ["a time that is Infinity", with_({ time: Infinity })],
    ["a stateRoot that is a number", with_({ stateRoot: 5 })],
    ["an undefined input", with_({ inputs: [undefined, h.inputs[1]] })],
    ["a function input", with_({ inputs: [() => 1, h.inputs[1]] })],
    ["a BigInt inside an input", with_({ inputs: [{ id: "a", n: 10n }, h.inputs[1]] })],
    ["a Symbol input", with_({ inputs: [Symbol("s"), h.inputs[1]] })],
    ["an input that contains itself", with_({ inputs: [cyclic, h.inputs[1]] })],
    ["an input whose getter throws", with_({ inputs: [getter, h.inputs[1]] })],
    ["a Map input", with_({ inputs: [new Map([["id", "a"]]), h.inputs[1]] })],
    ["an input proxy that throws on every read", with_({ inputs: [throwing, h.inputs[1]] })],
    ["a million inputs (a sparse list)", with_({ inputs: new Array(1_000_000), verdicts: new Array(1_000_000) })],
    ["a verdict proxy that throws", with_({ verdicts: [throwing, h.verdicts[1]] })],
    ["a verdict with a BigInt", with_({ verdicts: [{ accepted: 1n }, h.verdicts[1]] })],
    ["a verdict that contains itself", with_({ verdicts: [cyclic, h.verdicts[1]] })],
    ["a verdict with an extra message", with_({ verdicts: [h.verdicts[0], { ...h.verdicts[1], message: "70 is more than 50" }] })],
    ["the whole value a proxy that throws", throwing],
  ];
}

describe("hostile block values are invalid, never an exception", () => {
  for (const [name, v] of variants()) {
    it(`${name}: validateValue answers false`, () => {
      const app = cellApplication(plan, "c");
      let answer: unknown;
      expect(() => (answer = app.validateValue({ height: 1, prevHash: GENESIS_HASH, state: genesisCellChain() }, v as Json))).not.toThrow();
      expect(answer).toBe(false);
    });
  }

  it("the honest value these are made from is valid", () => {
    expect(cellApplication(plan, "c").validateValue({ height: 1, prevHash: GENESIS_HASH, state: genesisCellChain() }, structuredClone(honest()) as unknown as Json)).toBe(true);
  });

  it("applying any of them as if certified throws CONSENSUS_APP_DIVERGED, never a TypeError", () => {
    for (const [name, v] of variants()) {
      let code: string | undefined;
      try {
        cellApplication(plan, "c").applyValue(genesisCellChain(), v as Json);
      } catch (e) {
        code = e instanceof StatecellError ? e.code : `not coded: ${String(e)}`;
      }
      expect(`${name}: ${code}`).toBe(`${name}: CONSENSUS_APP_DIVERGED`);
    }
  });

  it("a cell the plan does not have is refused when the application is made: CONSENSUS_UNKNOWN_CELL", () => {
    expect(() => cellApplication(plan, "nope")).toThrow(expect.objectContaining({ code: "CONSENSUS_UNKNOWN_CELL" }));
  });
});
