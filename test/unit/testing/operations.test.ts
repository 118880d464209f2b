/**
 * Tests with operations and named hook refusals: what the runner submits for
 * a step with `op`, and how coverage counts the rules of a cell and of each
 * operation, and a hook's named refusals. Plans are built from the fixture
 * channel and given `operations` and `code.rejects` by hand (plan.ts is the
 * contract), so the counting is checked whatever the loader fills in.
 */
import { describe, it, expect } from "vitest";
import { canonicalBytes } from "../../../runtime/core/canonical.js";
import { keyPairFromName, verifyBytes } from "../../../runtime/core/keys.js";
import { signedMessage } from "../../../runtime/cells/index.js";
import type { CellPlan, ChannelPlan, OperationPlan, RulePlan, TestPlan } from "../../../runtime/definition/plan.js";
import {
  CoverageCounter,
  coverageLabel,
  formatTestReport,
  ruleOutcome,
  runChannelTests,
  testSubmission,
  unrejectedRules,
} from "../../../runtime/testing/index.js";
import { loadWithTests } from "./fixture.js";

const alice = keyPairFromName("alice");

const rule = (name: string): RulePlan => ({ name }) as unknown as RulePlan;
const operation = (name: string, rules: string[], extra: Partial<OperationPlan> = {}): OperationPlan =>
  ({ name, rules: rules.map(rule), state: [], emit: [], ...extra }) as unknown as OperationPlan;

/** A registry cell: one shared rule, mint (2 rules) and burn (1 rule), a hook that may refuse by name. */
const registry = {
  name: "registry",
  rules: [rule("signed-in")],
  operations: { mint: operation("mint", ["known-collection", "new-token"]), burn: operation("burn", ["owner-only"]) },
  code: { rejects: { "too-many": "more than 10 tokens a block", frozen: "the collection is frozen" } },
  emit: [],
} as unknown as CellPlan;

const plan = { channel: "nft", order: ["registry"], cells: { registry } } as unknown as ChannelPlan;

describe("testSubmission: what a client sends for a step", () => {
  const signedPlan = { channel: "nft", cells: { registry: { signed: true }, open: { signed: false } } } as unknown as ChannelPlan;

  it("a step with op sends { op, data }; a signed one signs channel, cell, op and data", () => {
    expect(testSubmission(signedPlan, "open", { token: 1 }, null, "mint")).toEqual({ raw: '{"op":"mint","data":{"token":1}}' });
    const s = testSubmission(signedPlan, "registry", { token: 1 }, alice, "mint");
    const env = JSON.parse(s.raw) as { op: string; data: unknown; signer: string; signature: string };
    expect(Object.keys(env)).toEqual(["op", "data", "signer", "signature"]);
    expect(env).toMatchObject({ op: "mint", data: { token: 1 }, signer: alice.publicKey });
    expect(verifyBytes(alice.publicKey, canonicalBytes({ channel: "nft", cell: "registry", op: "mint", data: { token: 1 } }), env.signature)).toBe(true);
    // the signature of one operation is worth nothing for another, nor without the op
    expect(verifyBytes(alice.publicKey, canonicalBytes({ channel: "nft", cell: "registry", op: "burn", data: { token: 1 } }), env.signature)).toBe(false);
    expect(verifyBytes(alice.publicKey, signedMessage("nft", "registry", { token: 1 }), env.signature)).toBe(false);
  });

  it("an unsigned cell with a signer gets a detached signature over the same bytes", () => {
    const s = testSubmission(signedPlan, "open", { token: 1 }, alice, "burn");
    expect(s.raw).toBe('{"op":"burn","data":{"token":1}}');
    expect(verifyBytes(alice.publicKey, canonicalBytes({ channel: "nft", cell: "open", op: "burn", data: { token: 1 } }), s.detached!.signature)).toBe(true);
  });

  it("a step without op sends what it always did", () => {
    expect(testSubmission(signedPlan, "open", { v: 1 }, null)).toEqual({ raw: '{"v":1}' });
    const s = testSubmission(signedPlan, "registry", { v: 1 }, alice);
    const env = JSON.parse(s.raw) as { signature: string };
    expect(Object.keys(env)).toEqual(["data", "signer", "signature"]);
    expect(verifyBytes(alice.publicKey, signedMessage("nft", "registry", { v: 1 }), env.signature)).toBe(true);
  });
});

describe("coverage with operations", () => {
  it("an input goes through the cell's rules, then its operation's", () => {
    expect(ruleOutcome(registry, { accepted: true }, "mint")).toEqual({ held: 3 });
    expect(ruleOutcome(registry, { accepted: true }, "burn")).toEqual({ held: 2 });
    expect(ruleOutcome(registry, { accepted: false, code: "CELL_RULE", rule: "new-token" }, "mint")).toEqual({ held: 2, rejectedBy: 2 });
    expect(ruleOutcome(registry, { accepted: false, code: "CELL_RULE", rule: "signed-in" }, "burn")).toEqual({ held: 0, rejectedBy: 0 });
    // an operation's rule is not one of another operation's
    expect(ruleOutcome(registry, { accepted: false, code: "CELL_RULE", rule: "owner-only" }, "mint")).toEqual({ held: 0 });
    expect(ruleOutcome(registry, { accepted: false, code: "CELL_SCHEMA" }, "mint")).toEqual({ held: 0 });
  });

  it("a named hook refusal means every rule held (before: no rule was counted)", () => {
    expect(ruleOutcome(registry, { accepted: false, code: "CELL_CODE_REJECT", rule: "too-many" }, "mint")).toEqual({ held: 3 });
  });

  it("counts each operation's rules, the cell's, the refusals and the inputs per operation", () => {
    const c = new CoverageCounter(plan);
    c.record("registry", { accepted: true }, "mint");
    c.record("registry", { accepted: false, code: "CELL_RULE", rule: "new-token" }, "mint");
    c.record("registry", { accepted: false, code: "CELL_CODE_REJECT", rule: "too-many" }, "mint");
    c.record("registry", { accepted: false, code: "CELL_RULE", rule: "signed-in" }, "burn");
    c.record("registry", { accepted: false, code: "CELL_SCHEMA" }, "burn");
    c.record("registry", { accepted: false, code: "CELL_CODE_REJECT", rule: "not-declared" }, "burn");
    const rows = c.result().map((r) => [coverageLabel(r), r.accepted, r.rejected]);
    expect(rows).toEqual([
      ["nft registry/signed-in", 4, 1],
      ["nft registry/mint/known-collection", 3, 0],
      ["nft registry/mint/new-token", 2, 1],
      ["nft registry/burn/owner-only", 1, 0],
      ["nft registry/too-many (hook refusal)", 1, 1],
      ["nft registry/frozen (hook refusal)", 1, 0],
    ]);
    expect(c.result().map((r) => [r.op, r.kind])).toEqual([
      [undefined, "rule"],
      ["mint", "rule"],
      ["mint", "rule"],
      ["burn", "rule"],
      [undefined, "refusal"],
      [undefined, "refusal"],
    ]);
    expect(c.operations()).toEqual([
      { channel: "nft", cell: "registry", op: "mint", accepted: 1, rejected: 2 },
      { channel: "nft", cell: "registry", op: "burn", accepted: 0, rejected: 3 },
    ]);
    expect(unrejectedRules(c.result())).toEqual(["nft registry/mint/known-collection", "nft registry/burn/owner-only", "nft registry/frozen (hook refusal)"]);
  });

  it("an input without a known operation counts for the cell's rules only", () => {
    const c = new CoverageCounter(plan);
    c.record("registry", { accepted: true });
    c.record("registry", { accepted: true }, "no-such-op");
    expect(c.result().map((r) => r.accepted)).toEqual([2, 0, 0, 0, 2, 2]);
    expect(c.operations().map((o) => o.accepted + o.rejected)).toEqual([0, 0]);
  });

});

describe("runChannelTests with operations", () => {
  // The fixture's `clock` cell accepts any object and has one rule; here it takes two operations.
  function opsPlan(): ChannelPlan {
    const base = loadWithTests("  - name: unused\n    submit: { cell: intake, data: { id: a, v: 2 } }\n");
    const clock = base.cells.clock;
    const ops: Record<string, OperationPlan> = {
      tick: { name: "tick", accepts: clock.accepts, rules: [], state: [], emit: [] },
      tock: { name: "tock", accepts: clock.accepts, rules: [], state: [], emit: [] },
    };
    return { ...base, cells: { ...base.cells, clock: { ...clock, operations: ops } } };
  }
  const submit = (op: string, time = 1700000002000): TestPlan => ({
    name: `a ${op}`,
    steps: [
      { kind: "submit", cell: "clock", op, data: {} },
      { kind: "block", time },
    ],
  });

  it("signs a step's op with its data, as admission checks it, for a signed cell", () => {
    const base = opsPlan();
    const ledger = base.cells.ledger;
    const open: OperationPlan = { name: "open", accepts: ledger.accepts, rules: [], state: [], emit: [] };
    const plan = { ...base, cells: { ...base.cells, ledger: { ...ledger, operations: { open } } } };
    const test: TestPlan = {
      name: "a signed operation",
      steps: [
        { kind: "submit", cell: "ledger", op: "open", data: { n: 1 }, signer: "alice", expect: { accepted: true } },
        { kind: "submit", cell: "ledger", op: "open", data: { n: 2 }, expect: { rejected: "CELL_UNSIGNED" } },
        { kind: "submit", cell: "ledger", op: "shut", data: { n: 3 }, signer: "bob", expect: { rejected: "CELL_UNKNOWN_OP" } },
      ],
    };
    const report = runChannelTests(plan, [test]);
    expect(report.tests[0].failure).toBeUndefined();
    expect(report.operations.find((o) => o.cell === "ledger")).toEqual({ channel: "counter", cell: "ledger", op: "open", accepted: 1, rejected: 1 });
  });

  it("submits each step's op, and counts the inputs per operation", () => {
    const report = runChannelTests(opsPlan(), [submit("tick"), submit("tick"), submit("tock", 1700000000500)]);
    expect(report.operations.filter((o) => o.cell === "clock")).toEqual([
      { channel: "counter", cell: "clock", op: "tick", accepted: 2, rejected: 0 },
      { channel: "counter", cell: "clock", op: "tock", accepted: 0, rejected: 1 },
    ]);
    const text = formatTestReport(report, { format: "text", coverage: true });
    expect(text).toMatch(/operations \(inputs accepted \/ rejected, for any reason\):\n {2}counter clock\/tick\s+2 accepted\s+0 rejected\n {2}counter clock\/tock\s+0 accepted\s+1 rejected\n/);
    const json = JSON.parse(formatTestReport(report, { format: "json", coverage: true })) as { operations: unknown[]; coverage: Array<{ kind: string }> };
    expect(json.operations).toHaveLength(2);
    expect(json.coverage.every((c) => c.kind === "rule")).toBe(true);
  });
});

describe("runChannelTests: outputs to a cell with operations", () => {
  // The fixture's intake emits to sums when v > 10; here sums takes one operation, `add`, which the emit names.
  function pipelinePlan(): ChannelPlan {
    const base = loadWithTests("  - name: unused\n    submit: { cell: intake, data: { id: a, v: 2 } }\n");
    const { intake, sums } = base.cells;
    const add: OperationPlan = { name: "add", accepts: sums.accepts, rules: [], state: [], emit: [] };
    return {
      ...base,
      cells: { ...base.cells, intake: { ...intake, emit: intake.emit.map((e) => ({ ...e, op: "add" })) }, sums: { ...sums, operations: { add } } },
    };
  }

  it("shows each output's op, which emits may expect, and counts the downstream input under it", () => {
    const test: TestPlan = {
      name: "an output names its operation",
      steps: [{ kind: "submit", cell: "intake", data: { id: "a", v: 20 }, outputs: [{ to: "sums", op: "add", data: { v: 20 } }] }],
    };
    const report = runChannelTests(pipelinePlan(), [test]);
    expect(report.tests[0]).toMatchObject({ passed: true });
    expect(report.operations).toEqual([{ channel: "counter", cell: "sums", op: "add", accepted: 1, rejected: 0 }]);
    const wrong: TestPlan = { ...test, name: "expects another op", steps: [{ ...test.steps[0], outputs: [{ to: "sums", op: "sub" }] } as TestPlan["steps"][0]] };
    expect(runChannelTests(pipelinePlan(), [wrong]).tests[0].failure).toMatchObject({ code: "TEST_EMITS", path: "[0].op", expected: "sub", actual: "add" });
  });
});
