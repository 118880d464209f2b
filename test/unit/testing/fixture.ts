/**
 * A small channel whose rule coverage can be counted by hand, and helpers to
 * load it with tests written in YAML (so locations are real file:line:col).
 */
import { loadChannel } from "../../../runtime/definition/index.js";
import type { ChannelPlan } from "../../../runtime/definition/plan.js";

export const FILE = "test/fixtures/counter.yaml";

/** Three cells: `intake` (3 rules, key, emit when v > 10) -> `sums` (1 rule); `ledger` is signed; `clock` reads the block. */
export const CHANNEL = `channel: counter
version: 1
groups:
  solo: { validators: [n1], threshold: 1 }
schemas:
  Reading:
    type: object
    required: [id, v]
    additionalProperties: false
    properties: { id: { type: string }, v: { type: number } }
cells:
  intake:
    group: solo
    accepts: Reading
    key: { var: data.id }
    rules:
      - name: positive
        require: { ">": [ { var: data.v }, 0 ] }
        message: "v of {data.v} is not positive"
      - name: small
        require: { "<": [ { var: data.v }, 100 ] }
        message: "v of {data.v} is too big"
      - name: even
        require: { "==": [ { "%": [ { var: data.v }, 2 ] }, 0 ] }
        message: "v of {data.v} is odd"
    state:
      - add: total
        value: { var: data.v }
      - append: ids
        value: { var: data.id }
    emit:
      - to: sums
        when: { ">": [ { var: data.v }, 10 ] }
        data: { id: { var: data.id }, v: { var: data.v } }
  sums:
    group: solo
    direct: true
    accepts: { type: object, required: [id, v], properties: { id: { type: string }, v: { type: number } } }
    rules:
      - name: not-forty
        require: { "!=": [ { var: data.v }, 40 ] }
        message: no forty
    state:
      - append: seen
        value: { var: data.id }
  ledger:
    group: solo
    accepts: { type: object }
    signed: true
    key: { var: signer }
    state:
      - set: owner
        value: { var: signer }
      - set: last
        value: { var: data }
  clock:
    group: solo
    accepts: { type: object }
    rules:
      - name: after-second-block
        require: { ">=": [ { var: block.time }, 1700000002000 ] }
        message: "too early: {block.time}"
    state:
      - append: heights
        value: { var: block.height }
      - append: times
        value: { var: block.time }
      - set: hash
        value: { var: block.hash }
`;

/** The fixture channel with `tests` (YAML text, indented as a top-level key's list) appended. */
export function loadWithTests(tests: string): ChannelPlan {
  const { plan, problems } = loadChannel(`${CHANNEL}tests:\n${tests}`, { file: FILE });
  const errors = problems.filter((p) => p.severity === "error");
  if (!plan || errors.length > 0) throw new Error(`fixture does not load: ${JSON.stringify(errors, null, 2)}`);
  return plan;
}

/** 1-based line in the loaded text of the first line containing `needle` after the channel part. */
export function lineOf(tests: string, needle: string): number {
  const channelLines = CHANNEL.split("\n").length; // CHANNEL ends with "\n": its last element is the "tests:" line
  const i = tests.split("\n").findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line with ${needle}`);
  return channelLines + 1 + i;
}
