/**
 * The simulator's cells bundle: consensus on a real cell, every validator
 * re-executing proposals with the cells module (cellApplication). The plan
 * is a small unsigned counter cell, so a run pays no signature checks for
 * inputs: one record per input id, a rule that refuses large inputs, a rule
 * that keeps each total within 0..1000 (depends on state, so verdicts change
 * with order), and `add` state updates that move the state root.
 */
import type { Json } from "../../runtime/core/canonical.js";
import { loadChannel, type ChannelPlan } from "../../runtime/definition/index.js";
import { cellApplication, genesisCellChain, type CellBlockValue } from "../../runtime/consensus/cell-application.js";
import type { Application } from "../../runtime/consensus/types.js";
import type { SimApp } from "./sim-app.js";

const COUNTER_YAML = `
channel: sim
version: 1
groups:
  sim:
    validators: [v0, v1, v2, v3, v4, v5, v6]
    threshold: 2/3
cells:
  counter:
    group: sim
    accepts:
      type: object
      required: [id, key, n]
      additionalProperties: false
      properties:
        id: { type: string, maxLength: 32 }
        key: { type: string, maxLength: 8 }
        n: { type: integer }
    key: { var: data.id }
    rules:
      - name: at-most-50
        require: { "<=": [ { var: data.n }, 50 ] }
        message: "{data.n} is more than 50 in one input"
      - name: total-in-range
        require:
          and:
            - { ">=": [ { "+": [ { var: [ { cat: [ "state.totals.", { var: data.key } ] }, 0 ] }, { var: data.n } ] }, 0 ] }
            - { "<=": [ { "+": [ { var: [ { cat: [ "state.totals.", { var: data.key } ] }, 0 ] }, { var: data.n } ] }, 1000 ] }
        message: "the total of {data.key} would leave 0..1000"
    state:
      - add: totals.{data.key}
        value: { var: data.n }
      - add: count
        value: 1
`;

/** The counter channel's plan, loaded with the real definition loader. */
export function counterPlan(): ChannelPlan {
  const { plan, problems } = loadChannel(COUNTER_YAML, { file: "sim-counter.yaml" });
  if (!plan) throw new Error(`sim counter plan: ${problems.map((p) => `${p.code} ${p.message}`).join("; ")}`);
  return plan;
}

const plan = counterPlan();

/** The cells bundle: cellApplication(plan, "counter"), genesis at height 0. */
export const cellsSimApp: SimApp<unknown> = {
  name: "cells",
  app: cellApplication(plan, "counter") as Application<unknown>,
  genesis: genesisCellChain(),
  makeInput: (rng, seq) => {
    const key = rng.pick(["a", "b", "c", "d"]);
    const n = rng.int(-40, 60);
    // Submissions as clients send them: `{ data }` (the counter cell is neither signed nor has operations).
    if (!rng.chance(0.04)) return { data: { id: `i${seq}`, key, n } };
    // One input in 25 is bad, without another draw (seeds replay as before): half break the schema
    // (in a block, refused before any rule), half fail admission (a forbidden key: never in a block).
    const bad: Json = seq % 2 === 0 ? { id: `i${seq}`, key, n: `${n}` } : { id: `i${seq}`, key, n, constructor: 1 };
    return { data: bad };
  },
  inputId: (input) => String((input as { data?: { id?: unknown } }).data?.id),
  inputIdsOf: (value) => (value as unknown as CellBlockValue).inputs.map((i) => String((i as { data?: { id?: unknown } }).data?.id)),
  garble: (value, rng) => ({ ...(value as Record<string, Json>), stateRoot: rng.hex64() }),
};
