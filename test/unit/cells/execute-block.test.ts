import { describe, expect, test } from "vitest";
import { canonicalString } from "../../../runtime/core/canonical.js";
import { keyPairFromName, signBytes } from "../../../runtime/core/keys.js";
import { admitInput, executeBlock, signedMessage, stateRootOf, type CellState, type Rejected } from "../../../runtime/cells/index.js";
import { outputInput } from "../../../runtime/cells/index.js";
import { admit, header, planFromYaml } from "./helpers.js";
import { AIR } from "./channel.js";

const plan = planFromYaml(AIR);
const reading = (sensor: string, pm25: number, at = 1, extra: Record<string, unknown> = {}) => ({ sensor, district: sensor.slice(0, 3), pm25, at, ...extra });
const inputs = (...ds: unknown[]) => ds.map((d) => admit(plan, "readings", d));
const rejected = (v: unknown): Rejected => {
  expect(v).toMatchObject({ accepted: false });
  return v as Rejected;
};

describe("executeBlock: verdicts", () => {
  test("accepts, then rejects by rule with the message's placeholders filled", () => {
    const r = executeBlock(plan, "readings", {}, inputs(reading("cen-1", 12), reading("cen-2", 900)), header());
    expect(r.verdicts[0]).toEqual({ accepted: true });
    expect(r.verdicts[1]).toEqual({ accepted: false, code: "CELL_RULE", rule: "plausible", message: "PM2.5 of 900 from cen-2 is above 500" });
    expect(r.accepted).toBe(1);
  });

  test("schema rejection carries the JSON Pointer of the offending value", () => {
    const r = executeBlock(plan, "readings", {}, [{ data: { sensor: "cen-1", district: "cen", pm25: -1, at: 1 } }, { data: { sensor: "cen-1", pm25: 1, at: 1 } }], header());
    const a = rejected(r.verdicts[0]);
    expect(a.code).toBe("CELL_SCHEMA");
    expect(a.path).toBe("/pm25");
    expect(a.message).toContain("/pm25 must be >= 0");
    const b = rejected(r.verdicts[1]);
    expect(b.code).toBe("CELL_SCHEMA");
    expect(b.path).toBe("/district");
  });

  test("records are write-once across blocks and within one block", () => {
    const b1 = executeBlock(plan, "readings", {}, inputs(reading("cen-1", 1), reading("cen-1", 2)), header(1));
    expect(b1.verdicts[0].accepted).toBe(true);
    expect(rejected(b1.verdicts[1])).toMatchObject({ code: "CELL_DUPLICATE_KEY", path: "/records/cen-1" });
    const b2 = executeBlock(plan, "readings", b1.state, inputs(reading("cen-1", 3), reading("cen-2", 4)), header(2));
    expect(rejected(b2.verdicts[0]).code).toBe("CELL_DUPLICATE_KEY");
    expect(b2.verdicts[1].accepted).toBe(true);
    expect(b2.state.records?.["cen-1"]).toEqual(reading("cen-1", 1));
    expect(Object.keys(b2.state.records ?? {}).sort()).toEqual(["cen-1", "cen-2"]);
  });

  test("rules see the state as updated by earlier accepted inputs of the same block", () => {
    // under-district-cap: a district takes at most 3 readings.
    const r = executeBlock(plan, "readings", {}, inputs(reading("cen-1", 1), reading("cen-2", 1), reading("cen-3", 1), reading("cen-4", 1), reading("nor-1", 1)), header());
    expect(r.verdicts.map((v) => v.accepted)).toEqual([true, true, true, false, true]);
    expect(rejected(r.verdicts[3])).toMatchObject({ code: "CELL_RULE", rule: "under-district-cap", message: "district cen already has 3 readings" });
    expect(r.state.totals).toEqual({ cen: { count: 3 }, nor: { count: 1 } });
  });

  test("one rejected input never changes its neighbours' verdicts or effects", () => {
    const good = [reading("cen-1", 1, 10), reading("nor-1", 2, 11)];
    const alone = executeBlock(plan, "readings", {}, inputs(...good), header());
    const mixed = executeBlock(plan, "readings", {}, [...inputs(good[0]), { data: { junk: true } }, ...inputs(good[1])], header());
    expect(mixed.verdicts.map((v) => v.accepted)).toEqual([true, false, true]);
    expect(mixed.stateRoot).toBe(alone.stateRoot);
    expect(canonicalString(mixed.state)).toBe(canonicalString(alone.state));
  });

  test("declarative updates: set, add, append, and remove under when", () => {
    const b1 = executeBlock(plan, "readings", {}, inputs(reading("cen-1", 12, 1), reading("cen-2", 7, 2)), header(1));
    expect(b1.state.latest).toEqual({ "cen-1": 12, "cen-2": 7 });
    expect(b1.state.totals).toEqual({ cen: { count: 2 } });
    expect(b1.state.log).toEqual([1, 2]);
    const b2 = executeBlock(plan, "readings", b1.state, inputs(reading("cen-3", 5, 3, { close: true })), header(2));
    expect(b2.verdicts[0].accepted).toBe(true);
    expect(b2.state.latest).toEqual({ "cen-1": 12, "cen-2": 7 }); // set then removed by the same input
    expect(b2.state.log).toEqual([1, 2, 3]);
  });

  test("emits: mapping, when, fan-out to two cells, tagged with source cell and input index", () => {
    const r = executeBlock(plan, "readings", {}, inputs(reading("cen-1", 12), reading("nor-1", 300)), header());
    expect(r.outputs).toEqual([
      { to: "districts", from: "readings", input: 0, data: { district: "cen", pm25: 12 }, signer: null },
      { to: "districts", from: "readings", input: 1, data: { district: "nor", pm25: 300 }, signer: null },
      { to: "alerts", from: "readings", input: 1, data: reading("nor-1", 300), signer: null },
    ]);
  });

  test("fan-in: outputs of a block execute as the downstream cell's inputs", () => {
    const up = executeBlock(plan, "readings", {}, inputs(reading("cen-1", 12), reading("cen-2", 8), reading("nor-1", 1)), header());
    const down = executeBlock(plan, "districts", {}, up.outputs.filter((o) => o.to === "districts").map(outputInput), header());
    expect(down.accepted).toBe(3);
    expect(down.state).toEqual({ sum: { cen: 20, nor: 1 } });
  });

  test("a rejected input's partial updates are rolled back (updates are all or nothing)", () => {
    // log is a number: `append: log` conflicts after `set latest.x` already applied.
    const start: CellState = { log: 5 };
    const r = executeBlock(plan, "readings", start, inputs(reading("cen-1", 1)), header());
    expect(rejected(r.verdicts[0])).toMatchObject({ code: "CELL_STATE_CONFLICT", path: "log" });
    expect(r.state).toBe(start);
    expect(r.stateRoot).toBe(stateRootOf(start));
    expect(r.outputs).toEqual([]);
  });

  test("the input state is never mutated and the returned state is frozen", () => {
    const b1 = executeBlock(plan, "readings", {}, inputs(reading("cen-1", 1)), header(1));
    const before = canonicalString(b1.state);
    const rootBefore = b1.stateRoot;
    const b2 = executeBlock(plan, "readings", b1.state, inputs(reading("cen-2", 2), reading("nor-9", 3)), header(2));
    expect(canonicalString(b1.state)).toBe(before);
    expect(stateRootOf(b1.state)).toBe(rootBefore);
    expect(b2.stateRoot).not.toBe(rootBefore);
    expect(Object.isFrozen(b2.state)).toBe(true);
    expect(Object.isFrozen(b2.state.latest)).toBe(true);
    expect(() => {
      (b2.state.records as Record<string, unknown>)["x"] = 1;
    }).toThrow(TypeError);
  });

  test("signed cells: CELL_UNSIGNED without a signer; rules see the signer", () => {
    const signedPlan = planFromYaml(`
channel: votes
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  ballots:
    group: g
    accepts: { type: object, required: [choice], properties: { choice: { type: string } } }
    signed: true
    key: { var: signer }
    rules:
      - name: not-mallory
        require: { "!=": [ { var: signer }, "${keyPairFromName("mallory").publicKey}" ] }
        message: "{signer} may not vote"
`);
    const alice = keyPairFromName("alice");
    const data = { choice: "yes" };
    const sub = { data, signer: alice.publicKey, signature: signBytes(alice, signedMessage("votes", "ballots", data)) };
    const ok = admitInput(signedPlan, "ballots", JSON.stringify(sub));
    expect("accepted" in ok).toBe(false);
    const r = executeBlock(signedPlan, "ballots", {}, [ok as never, { data }, { data, signer: keyPairFromName("mallory").publicKey }], header());
    expect(r.verdicts[0].accepted).toBe(true);
    expect(rejected(r.verdicts[1]).code).toBe("CELL_UNSIGNED");
    expect(rejected(r.verdicts[2])).toMatchObject({ code: "CELL_RULE", rule: "not-mallory" });
    expect(Object.keys(r.state.records ?? {})).toEqual([alice.publicKey]);
  });

  test("bad record keys and bad computed paths are verdicts, not exceptions", () => {
    const p = planFromYaml(`
channel: k
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  c:
    group: g
    accepts: { type: object }
    key: { var: data.id }
    state:
      - set: byName.{data.name}
        value: 1
`);
    const r = executeBlock(p, "c", {}, [{ data: { id: { x: 1 } } }, { data: { id: "__proto__" } }, { data: { id: "a", name: "constructor" } }, { data: { id: "b", name: ["x"] } }, { data: { id: 7, name: "seven" } }], header());
    expect(rejected(r.verdicts[0]).code).toBe("CELL_BAD_KEY");
    expect(rejected(r.verdicts[1]).code).toBe("CELL_BAD_KEY");
    expect(rejected(r.verdicts[2])).toMatchObject({ code: "CELL_BAD_PATH", path: "byName.{data.name}" });
    expect(rejected(r.verdicts[3]).code).toBe("CELL_BAD_PATH");
    expect(r.verdicts[4].accepted).toBe(true);
    expect(r.state).toEqual({ byName: { seven: 1 }, records: { "7": { id: 7, name: "seven" } } });
  });

  test("inputs over the channel limits are rejected with CELL_TOO_LARGE / CELL_TOO_DEEP", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 9; i++) deep = [deep];
    const r = executeBlock(plan, "readings", {}, [{ data: reading("cen-1", 1, 1, { tags: ["x".repeat(5000)] }) }, { data: reading("cen-2", 1, 1, { tags: deep }) }], header());
    expect(rejected(r.verdicts[0]).code).toBe("CELL_TOO_LARGE");
    expect(rejected(r.verdicts[1]).code).toBe("CELL_TOO_DEEP");
  });

  test("an input of exactly maxInputBytes canonical bytes passes the limit; one byte more does not", () => {
    const base = reading("cen-1", 1, 1, { tags: [""] });
    const size = new TextEncoder().encode(canonicalString(base)).length;
    const exact = reading("cen-1", 1, 1, { tags: ["x".repeat(4096 - size)] });
    const over = reading("cen-2", 1, 1, { tags: ["x".repeat(4097 - size)] });
    expect(new TextEncoder().encode(canonicalString(exact)).length).toBe(4096);
    const r = executeBlock(plan, "readings", {}, [{ data: exact }, { data: over }], header());
    expect(r.verdicts[0].accepted).toBe(true);
    expect(rejected(r.verdicts[1])).toMatchObject({ code: "CELL_TOO_LARGE", message: "the input is 4097 bytes, over the limit of 4096" });
    expect(admitInput(plan, "readings", canonicalString(exact))).not.toHaveProperty("accepted");
    expect(admitInput(plan, "readings", canonicalString(over))).toMatchObject({ code: "CELL_TOO_LARGE" });
  });

  test("unknown cell is a caller error (thrown)", () => {
    expect(() => executeBlock(plan, "nope", {}, [], header())).toThrow(expect.objectContaining({ code: "CELL_UNKNOWN_CELL" }));
  });

  test("forks: two different blocks on the same parent each see only their own records", () => {
    const parent = executeBlock(plan, "readings", {}, inputs(reading("cen-1", 1)), header(1));
    const a = executeBlock(plan, "readings", parent.state, inputs(reading("cen-2", 2)), header(2));
    const b = executeBlock(plan, "readings", parent.state, inputs(reading("nor-1", 3), reading("cen-2", 4)), header(2));
    // A third child after both, and a child of the first fork after the second was made.
    const c = executeBlock(plan, "readings", parent.state, inputs(reading("cen-2", 5)), header(2));
    const a2 = executeBlock(plan, "readings", a.state, inputs(reading("nor-1", 6)), header(3));
    expect(Object.keys(parent.state.records ?? {})).toEqual(["cen-1"]);
    expect(Object.keys(a.state.records ?? {}).sort()).toEqual(["cen-1", "cen-2"]);
    expect(Object.keys(b.state.records ?? {}).sort()).toEqual(["cen-1", "cen-2", "nor-1"]);
    expect(b.state.records?.["cen-2"]).toEqual(reading("cen-2", 4));
    expect(c.verdicts[0].accepted).toBe(true);
    expect(c.state.records?.["cen-2"]).toEqual(reading("cen-2", 5));
    expect(a.state.records?.["cen-2"]).toEqual(reading("cen-2", 2));
    expect(a2.verdicts[0].accepted).toBe(true);
    expect(a2.state.records?.["nor-1"]).toEqual(reading("nor-1", 6));
    expect(c.stateRoot).not.toBe(a.stateRoot);
    expect(canonicalString(a.state.records)).toBe(canonicalString({ "cen-1": reading("cen-1", 1), "cen-2": reading("cen-2", 2) }));
  });

  test("rules read records, including those added earlier in the same block", () => {
    const p = planFromYaml(`
channel: tree
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  nodes:
    group: g
    accepts: { type: object, required: [id], properties: { id: { type: string }, parent: { type: string } } }
    key: { var: data.id }
    rules:
      - name: parent-exists
        require: { or: [ { "!": { var: data.parent } }, { "!!": [ { var: [ { cat: [ "state.records.", { var: data.parent } ] } ] } ] } ] }
        message: "no node {data.parent}"
`);
    const b1 = executeBlock(p, "nodes", {}, [{ data: { id: "a" } }, { data: { id: "b", parent: "a" } }, { data: { id: "c", parent: "z" } }], header(1));
    expect(b1.verdicts.map((v) => v.accepted)).toEqual([true, true, false]);
    expect(rejected(b1.verdicts[2])).toMatchObject({ rule: "parent-exists", message: "no node z" });
    const b2 = executeBlock(p, "nodes", b1.state, [{ data: { id: "d", parent: "b" } }, { data: { id: "e", parent: "c" } }], header(2));
    expect(b2.verdicts.map((v) => v.accepted)).toEqual([true, false]);
  });

  test("rules read block, token and channel roots", () => {
    const p = planFromYaml(`
channel: roots
version: 3
params: { fee: 2 }
groups: { g: { validators: [a], threshold: 1 } }
cells:
  c:
    group: g
    accepts: { type: object }
    rules:
      - name: not-future
        require: { "<=": [ { var: data.at }, { var: block.time } ] }
        message: "{data.at} is after block {block.height} at {block.time}"
      - name: can-pay
        require: { ">=": [ { var: token.balance }, { var: channel.params.fee } ] }
        message: "balance {token.balance} below fee {channel.params.fee} on {channel.name} v{channel.version}"
`);
    const h = header(7);
    const ok = executeBlock(p, "c", {}, [{ data: { at: h.time } }, { data: { at: h.time + 1 } }], h, { token: { balance: 5 } });
    expect(ok.verdicts[0].accepted).toBe(true);
    expect(rejected(ok.verdicts[1]).message).toBe(`${h.time + 1} is after block 7 at ${h.time}`);
    const poor = executeBlock(p, "c", {}, [{ data: { at: 1 } }], h, { token: { balance: 1 } });
    expect(rejected(poor.verdicts[0]).message).toBe("balance 1 below fee 2 on roots v3");
  });

  test("an empty block returns the same state and root", () => {
    const b1 = executeBlock(plan, "readings", {}, inputs(reading("cen-1", 1)), header(1));
    const b2 = executeBlock(plan, "readings", b1.state, [], header(2));
    expect(b2.state).toBe(b1.state);
    expect(b2.stateRoot).toBe(b1.stateRoot);
  });
});
