/**
 * Consensus on a real cell: the poll channel's seven clerks agree on blocks of
 * signed ballots, every validator re-executing each proposal with the cells
 * module (and, for the air-quality districts, the isolated-vm sandbox).
 * runLocalGroup delivers every message to every other node on a virtual
 * clock; the seeded simulator (test/simulation) covers faults.
 */
import { describe, it, expect, afterAll } from "vitest";
import { readFileSync } from "node:fs";
import type { Json } from "../../../runtime/core/canonical.js";
import { canonicalString } from "../../../runtime/core/canonical.js";
import { keyPairFromName, signBytes } from "../../../runtime/core/keys.js";
import { loadChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { checkCode, createCodeRunner, type CodeRunner } from "../../../runtime/sandbox/index.js";
import { signedMessage } from "../../../runtime/cells/index.js";
import { GENESIS_HASH, runLocalGroup, verifyCertificate } from "../../../runtime/consensus/index.js";
import { cellApplication, genesisCellChain, type CellBlockValue } from "../../../runtime/consensus/cell-application.js";

function load(file: string, edit: (text: string) => string = (t) => t): ChannelPlan {
  const read = (p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return undefined;
    }
  };
  const { plan, problems } = loadChannel(edit(readFileSync(file, "utf8")), { file }, { readFile: read, checkCode });
  if (!plan) throw new Error(problems.map((p) => p.message).join("\n"));
  return plan;
}

const poll = load("channels/poll.yaml");
const runners: CodeRunner[] = [];
afterAll(() => runners.forEach((r) => r.dispose()));

function ballot(voter: string, choice: string): Json {
  const data = { choice };
  const key = keyPairFromName(voter);
  return { data, signer: key.publicKey, signature: signBytes(key, signedMessage(poll.channel, "ballots", data)) };
}

describe("consensus on a real cell (cells module as the application)", () => {
  const pending = [ballot("ann", "parks"), ballot("ben", "transit"), ballot("ann", "housing"), ballot("cid", "bridges"), ballot("dee", "parks")];

  it("seven clerks decide the same block of ballots, with the channel's own verdicts and a verifiable certificate", () => {
    const nodes = runLocalGroup({ plan: poll, cell: "ballots", pending, heights: 1, startTime: 1_700_000_100_000 });
    const blocks = nodes.map((n) => n.decided[0]);
    expect(blocks.every((b) => b !== undefined)).toBe(true);
    const ids = new Set(blocks.map((b) => canonicalString(b.value)));
    expect(ids.size).toBe(1);

    const value = blocks[0].value as unknown as CellBlockValue;
    expect(value.inputs).toHaveLength(5);
    expect(value.verdicts.map((v) => (v as { accepted: boolean; code?: string; rule?: string }).accepted)).toEqual([true, true, false, false, true]);
    // The block carries codes and rule names only; each node keeps the messages beside it.
    expect(value.verdicts[2]).toEqual({ accepted: false, code: "CELL_DUPLICATE_KEY" });
    expect(value.verdicts[3]).toEqual({ accepted: false, code: "CELL_RULE", rule: "known-option" });
    for (const n of nodes) {
      expect(n.verdicts[0][3]).toMatchObject({ accepted: false, code: "CELL_RULE", rule: "known-option", message: '"bridges" is not one of the options' });
      expect(n.verdicts[0][2]).toMatchObject({ code: "CELL_DUPLICATE_KEY", path: expect.stringMatching(/^\/records\//) });
    }

    // Every node's replicated state has the same root, the one the block commits to.
    expect(new Set(nodes.map((n) => n.state.app.stateRoot))).toEqual(new Set([value.stateRoot]));

    const group = poll.groups.clerks;
    const keys = Object.fromEntries(group.validators.map((v) => [v, keyPairFromName(v).publicKey]));
    const app = cellApplication(poll, "ballots");
    const target = { channel: poll.channel, cell: "ballots", height: 1, valueId: app.valueId(blocks[0].value) };
    expect(verifyCertificate(group, keys, target, blocks[0].certificate)).toMatchObject({ ok: true });
    expect(blocks[0].certificate.signatures.length).toBeGreaterThanOrEqual(group.threshold.quorum);
  });

  it("two runs of the group agree byte for byte, and the second block chains to the first", () => {
    const run = () => runLocalGroup({ plan: poll, cell: "ballots", pending, heights: 2, startTime: 1_700_000_100_000 });
    const a = run();
    const b = run();
    expect(canonicalString(a.map((n) => n.decided) as unknown as Json)).toBe(canonicalString(b.map((n) => n.decided) as unknown as Json));
    const app = cellApplication(poll, "ballots");
    const [first, second] = a[0].decided;
    expect((second.value as unknown as CellBlockValue).prevHash).toBe(app.valueId(first.value));
    expect((second.value as unknown as CellBlockValue).inputs).toEqual([]);
  });

  it("a validator refuses a proposal whose verdicts, root, time or inputs were altered", () => {
    const app = cellApplication(poll, "ballots");
    const genesis = genesisCellChain();
    const ctx = { height: 1, prevHash: GENESIS_HASH, time: 1_700_000_100_000, round: 0, state: genesis, pending };
    const honest = app.buildValue(ctx) as unknown as CellBlockValue;
    const check = (v: unknown) => app.validateValue({ height: 1, prevHash: GENESIS_HASH, state: genesisCellChain() }, v as Json);
    expect(check(structuredClone(honest))).toBe(true);

    const acceptsBadOption = structuredClone(honest);
    acceptsBadOption.verdicts[3] = { accepted: true };
    expect(check(acceptsBadOption)).toBe(false);

    const wrongRoot = { ...structuredClone(honest), stateRoot: "0".repeat(64) };
    expect(check(wrongRoot)).toBe(false);

    // A forged ballot: the data changed after signing. Every validator admits inputs itself.
    const forged = structuredClone(honest);
    (forged.inputs[0] as { data: { choice: string } }).data.choice = "housing";
    expect(check(forged)).toBe(false);

    expect(check({ ...structuredClone(honest), height: 2 })).toBe(false);
    expect(check({ ...structuredClone(honest), extra: 1 })).toBe(false);
    expect(check("not a block")).toBe(false);
  });

  it("a block after a certified one continues from its state: a second ballot by the same voter is refused", () => {
    const app = cellApplication(poll, "ballots");
    const s0 = genesisCellChain();
    const v1 = app.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: 1_700_000_100_000, state: s0, pending: [ballot("eve", "parks")] });
    const s1 = app.applyValue(s0, v1);
    const v2 = app.buildValue({ height: 2, round: 0, prevHash: app.valueId(v1), time: 1_700_000_100_500, state: s1, pending: [ballot("eve", "transit")] }) as unknown as CellBlockValue;
    expect(v2.verdicts[0]).toMatchObject({ accepted: false, code: "CELL_DUPLICATE_KEY" });
    // Time comes from the proposal and never goes back.
    const back = app.buildValue({ height: 2, round: 0, prevHash: app.valueId(v1), time: 5, state: s1, pending: [] }) as unknown as CellBlockValue;
    expect(back.time).toBeGreaterThan(s1.time);
  });

  it("validators running the sandboxed districts code agree with the proposer", () => {
    // Submitted straight to the districts here (a pipeline cell takes only outputs unless it says `direct: true`).
    const aq = load("channels/air-quality.yaml", (t) => t.replace("    group: city\n    accepts: DistrictReading", "    group: city\n    direct: true\n    accepts: DistrictReading"));
    expect(aq.cells.districts.direct).toBe(true);
    const code = aq.cells.districts.code!;
    const runnerFor = () => {
      const r = createCodeRunner({ name: "air-quality/districts", source: code.source, file: code.resolved, limits: aq.cells.districts.limits });
      runners.push(r);
      return r;
    };
    const proposer = cellApplication(aq, "districts", { code: (() => { const r = runnerFor(); return () => r; })() });
    const validator = cellApplication(aq, "districts", { code: (() => { const r = runnerFor(); return () => r; })() });
    const inputs: Json[] = [
      { data: { district: "cen", sensor: "cen-1", pm25: 10 } },
      { data: { district: "cen", sensor: "cen-2", pm25: 30 } },
      { data: { district: "CEN", sensor: "x-1", pm25: 5 } },
      { data: { district: "nor", sensor: "nor-1", pm25: 7 } },
    ];
    const v = proposer.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: 1_700_000_000_000, state: genesisCellChain(), pending: inputs }) as unknown as CellBlockValue;
    expect(v.verdicts[2]).toMatchObject({ accepted: false, code: "CELL_CODE_REJECT" });
    expect(validator.validateValue({ height: 1, prevHash: GENESIS_HASH, state: genesisCellChain() }, v as unknown as Json)).toBe(true);
    const s = validator.applyValue(genesisCellChain(), v as unknown as Json);
    expect(s.cell).toMatchObject({ cen: { count: 2, max: 30 }, nor: { count: 1 } });
  });
});
