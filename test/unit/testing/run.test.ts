import { describe, it, expect } from "vitest";
import { runChannelTests, testBlockHeader, formatTestReport } from "../../../runtime/testing/index.js";
import type { TestReport, TestResult } from "../../../runtime/testing/index.js";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import { hashJson } from "../../../runtime/core/hash.js";
import { loadWithTests, lineOf, FILE } from "./fixture.js";

function run(tests: string): TestReport {
  const plan = loadWithTests(tests);
  return runChannelTests(plan, plan.tests);
}

function only(report: TestReport): TestResult {
  expect(report.tests).toHaveLength(1);
  return report.tests[0];
}

const alice = keyPairFromName("alice").publicKey;

describe("runChannelTests: passing channels pass", () => {
  it("runs the single-submission form and sequences across blocks", () => {
    const report = run(`  - name: single
    submit: { cell: intake, data: { id: a, v: 4 } }
    expect: accepted
  - name: sequence
    steps:
      - submit: { cell: intake, data: { id: a, v: 4 } }
        expect: accepted
        emits: []
      - submit: { cell: intake, data: { id: b, v: 12 } }
        expect: accepted
        emits: [ { to: sums, data: { id: b, v: 12 } } ]
      - block: {}
      - state: { cell: intake, match: { total: 16, ids: [a, b], records: { a: { v: 4 }, b: { v: 12 } } } }
      - state: { cell: sums, match: { seen: [b] } }
      - submit: { cell: intake, data: { id: c, v: 2 } }
      - state: { cell: intake, match: { total: 18, ids: [a, b, c] } }
`);
    expect(report.tests.map((t) => [t.name, t.passed])).toEqual([
      ["single", true],
      ["sequence", true],
    ]);
    expect(report.passed).toBe(2);
    expect(report.failed).toBe(0);
    expect(report.tests[1].location).toMatchObject({ file: FILE, line: lineOf(SEQ_PROBE, "name: sequence") });
  });

  it("starts every test from a fresh state in every cell", () => {
    const report = run(`  - name: first
    steps:
      - submit: { cell: intake, data: { id: a, v: 20 } }
      - state: { cell: sums, match: { seen: [a] } }
  - name: second sees nothing of the first
    steps:
      - submit: { cell: intake, data: { id: a, v: 2 } }
        expect: accepted
      - state: { cell: intake, match: { total: 2, ids: [a] } }
      - state: { cell: sums, match: { seen: "$absent" } }
`);
    expect(report.tests.every((t) => t.passed)).toBe(true);
  });

  it("a rejected input never rejects its neighbours, and leaves the state as it was", () => {
    const report = run(`  - name: mixed block
    steps:
      - submit: { cell: intake, data: { id: a, v: 2 } }
        expect: accepted
      - submit: { cell: intake, data: { id: b, v: -2 } }
        expect: { rejected: positive }
        emits: []
      - submit: { cell: intake, data: { id: c, v: 4 } }
        expect: accepted
      - state: { cell: intake, match: { total: 6, ids: [a, c], records: { b: "$absent" } } }
`);
    expect(only(report).passed).toBe(true);
  });
});

const SEQ_PROBE = `  - name: single
    submit: { cell: intake, data: { id: a, v: 4 } }
    expect: accepted
  - name: sequence
`;

describe("runChannelTests: failing expectations fail with the right diff", () => {
  it("a wrong verdict shows the actual code, rule and message, at the submit step", () => {
    const tests = `  - name: wrongly expects acceptance
    steps:
      - block: {}
      - submit: { cell: intake, data: { id: a, v: -3 } }
        expect: accepted
`;
    const t = only(run(tests));
    expect(t.passed).toBe(false);
    expect(t.failure).toMatchObject({
      code: "TEST_VERDICT",
      step: 1,
      location: { file: FILE, line: lineOf(tests, "v: -3"), col: 17 },
      verdict: { accepted: false, code: "CELL_RULE", rule: "positive", message: "v of -3 is not positive" },
    });
    expect(t.failure!.message).toBe("expected accepted, got rejected: positive (v of -3 is not positive)");
  });

  it("a rejection by another rule than the expected one fails", () => {
    const t = only(
      run(`  - name: wrong rule
    submit: { cell: intake, data: { id: a, v: 3 } }
    expect: { rejected: small }
`),
    );
    expect(t.failure).toMatchObject({ code: "TEST_VERDICT", verdict: { code: "CELL_RULE", rule: "even" } });
    expect(t.failure!.message).toBe("expected rejected: small, got rejected: even (v of 3 is odd)");
  });

  it("an expected rejection of an accepted input fails", () => {
    const t = only(
      run(`  - name: expects a rejection
    submit: { cell: intake, data: { id: a, v: 2 } }
    expect: { rejected: CELL_SCHEMA }
`),
    );
    expect(t.failure).toMatchObject({ code: "TEST_VERDICT", verdict: { accepted: true } });
    expect(t.failure!.message).toBe("expected rejected: CELL_SCHEMA, got accepted");
  });

  it("an error code matches as well as a rule name", () => {
    const report = run(`  - name: schema
    submit: { cell: intake, data: { id: a } }
    expect: { rejected: CELL_SCHEMA }
  - name: duplicate key
    steps:
      - submit: { cell: intake, data: { id: a, v: 2 } }
      - submit: { cell: intake, data: { id: a, v: 4 } }
        expect: { rejected: CELL_DUPLICATE_KEY }
  - name: a rule also matches by its code
    submit: { cell: intake, data: { id: a, v: 3 } }
    expect: { rejected: CELL_RULE }
`);
    expect(report.tests.map((t) => t.passed)).toEqual([true, true, true]);
  });

  it("a state mismatch gives the path of the first difference, expected and actual", () => {
    const tests = `  - name: wrong total
    steps:
      - submit: { cell: intake, data: { id: a, v: 4 } }
      - state: { cell: intake, match: { ids: [a], total: 5 } }
`;
    const t = only(run(tests));
    expect(t.failure).toMatchObject({
      code: "TEST_STATE",
      step: 1,
      path: "total",
      expected: 5,
      actual: 4,
      location: { file: FILE, line: lineOf(tests, "total: 5") },
    });
    expect(t.failure!.message).toBe("state of intake: total differs");
    expect(t.failure!.actualWhole).toMatchObject({ total: 4, ids: ["a"] });
  });

  it("a missing value and a wrong array length are told apart", () => {
    const report = run(`  - name: missing
    steps:
      - submit: { cell: intake, data: { id: a, v: 4 } }
      - state: { cell: sums, match: { seen: [a] } }
  - name: length
    steps:
      - submit: { cell: intake, data: { id: a, v: 4 } }
      - state: { cell: intake, match: { ids: [a, b] } }
`);
    expect(report.tests[0].failure).toMatchObject({ code: "TEST_STATE", path: "seen", missing: true, expected: ["a"] });
    expect(report.tests[0].failure!.actual).toBeUndefined();
    expect(report.tests[1].failure).toMatchObject({ code: "TEST_STATE", path: "ids", expected: ["a", "b"], actual: ["a"] });
    expect(report.tests[1].failure!.message).toBe("state of intake: ids has 1 element(s), expected 2");
  });

  it("wrong emits fail with the path inside the outputs of that input", () => {
    const report = run(`  - name: emits nothing expected
    steps:
      - submit: { cell: intake, data: { id: a, v: 20 } }
        emits: []
  - name: emits other data
    steps:
      - submit: { cell: intake, data: { id: a, v: 20 } }
        emits: [ { to: sums, data: { v: 21 } } ]
`);
    expect(report.tests[0].failure).toMatchObject({
      code: "TEST_EMITS",
      path: "",
      expected: [],
      actual: [{ to: "sums", data: { id: "a", v: 20 } }],
    });
    expect(report.tests[1].failure).toMatchObject({ code: "TEST_EMITS", path: "[0].data.v", expected: 21, actual: 20 });
  });

  it("a test stops at its first failure; the next test still runs", () => {
    const report = run(`  - name: fails early
    steps:
      - submit: { cell: intake, data: { id: a, v: 5 } }
        expect: accepted
      - state: { cell: intake, match: { total: 999 } }
  - name: passes
    submit: { cell: intake, data: { id: a, v: 2 } }
    expect: accepted
`);
    expect(report.tests[0].failure).toMatchObject({ code: "TEST_VERDICT", step: 0 });
    expect(report.tests[1].passed).toBe(true);
    expect([report.passed, report.failed]).toEqual([1, 1]);
  });

  it("a block time earlier than the cell's previous block is a bad step", () => {
    const t = only(
      run(`  - name: backwards
    steps:
      - submit: { cell: clock, data: {} }
      - block: { time: 1700000005000 }
      - submit: { cell: clock, data: {} }
      - block: { time: 1700000004000 }
`),
    );
    expect(t.failure).toMatchObject({ code: "TEST_BAD_STEP", step: 3 });
    expect(t.failure!.message).toContain("1700000004000");
  });
});

describe("runChannelTests: blocks", () => {
  it("heights count each cell's blocks; default time is 1700000000000 + height*1000; the hash is H(channel, cell, height)", () => {
    const report = run(`  - name: clock
    steps:
      - submit: { cell: clock, data: {} }
        expect: { rejected: after-second-block }
      - block: {}
      - submit: { cell: intake, data: { id: a, v: 2 } }
      - block: {}
      - submit: { cell: clock, data: {} }
        expect: accepted
      - submit: { cell: clock, data: {} }
        expect: accepted
      - block: {}
      - submit: { cell: clock, data: {} }
      - block: { time: 1700000009000 }
      - submit: { cell: clock, data: {} }
      - state: { cell: clock, match: { heights: [2, 2, 3, 4], times: [1700000002000, 1700000002000, 1700000009000, 1700000010000] } }
`);
    const t = only(report);
    expect(t.failure).toBeUndefined();
    expect(t.passed).toBe(true);
    expect(testBlockHeader({ channel: "counter" }, "clock", 4, 1).hash).toBe(hashJson("test-block", { channel: "counter", cell: "clock", height: 4 }));
  });

  it("a downstream block holds its own submissions first, then the outputs of upstream cells", () => {
    const t = only(
      run(`  - name: order
    steps:
      - submit: { cell: intake, data: { id: up, v: 20 } }
      - submit: { cell: sums, data: { id: direct, v: 1 } }
      - state: { cell: sums, match: { seen: [direct, up] } }
`),
    );
    expect(t.failure).toBeUndefined();
  });

  it("the block hash rules see is the test block hash", () => {
    const hash = hashJson("test-block", { channel: "counter", cell: "clock", height: 1 });
    const t = only(
      run(`  - name: hash
    steps:
      - submit: { cell: clock, data: {} }
      - block: { time: 1700000003000 }
      - state: { cell: clock, match: { hash: "${hash}" } }
`),
    );
    expect(t.passed).toBe(true);
  });
});

describe("runChannelTests: signers and $key", () => {
  it("signs with the name's key, and $key:NAME stands for its public key in data and matches", () => {
    const t = only(
      run(`  - name: alice signs
    steps:
      - submit: { cell: ledger, data: { note: "$key:bob", mine: "$key:alice" }, signer: alice }
        expect: accepted
      - state:
          cell: ledger
          match:
            owner: "$key:alice"
            last: { note: "$key:bob", mine: "$key:alice" }
            records: { "$key:alice": { mine: "$key:alice" } }
`),
    );
    expect(t.failure).toBeUndefined();
    const wrong = only(
      run(`  - name: not bob
    steps:
      - submit: { cell: ledger, data: {}, signer: alice }
      - state: { cell: ledger, match: { owner: "$key:bob" } }
`),
    );
    expect(wrong.failure).toMatchObject({ code: "TEST_STATE", path: "owner", expected: keyPairFromName("bob").publicKey, actual: alice });
  });

  it("a signed cell rejects an unsigned submission at admission", () => {
    const report = run(`  - name: unsigned
    submit: { cell: ledger, data: { x: 1 } }
    expect: { rejected: CELL_UNSIGNED }
  - name: unsigned, expected accepted
    submit: { cell: ledger, data: { x: 1 } }
    expect: accepted
`);
    expect(report.tests[0].passed).toBe(true);
    expect(report.tests[1].failure).toMatchObject({ code: "TEST_VERDICT", verdict: { accepted: false, code: "CELL_UNSIGNED" } });
  });

  it("one record per signer: the second submission of a signer is a duplicate key", () => {
    const t = only(
      run(`  - name: twice
    steps:
      - submit: { cell: ledger, data: { n: 1 }, signer: alice }
        expect: accepted
      - submit: { cell: ledger, data: { n: 2 }, signer: bob }
        expect: accepted
      - submit: { cell: ledger, data: { n: 3 }, signer: alice }
        expect: { rejected: CELL_DUPLICATE_KEY }
`),
    );
    expect(t.passed).toBe(true);
  });
});

describe("runChannelTests: coverage counts are exact", () => {
  // Counted by hand, input by input (rules of intake: positive, small, even; of sums: not-forty).
  //  v=4   accepted                 positive+1a small+1a even+1a
  //  v=-1  rejected by positive     positive+1r
  //  v=200 rejected by small        positive+1a small+1r
  //  v=3   rejected by even         positive+1a small+1a even+1r
  //  {id}  schema (before rules)    nothing
  //  v=6 id=a again: duplicate key (after rules): all three +1a
  //  v=12  accepted, emits 12       intake all +1a; sums not-forty +1a
  //  v=40  accepted, emits 40       intake all +1a; sums not-forty +1r
  //  ledger unsigned: no rules;  clock at block 1: after-second-block +1r
  const tests = `  - name: counted
    steps:
      - submit: { cell: intake, data: { id: a, v: 4 } }
      - submit: { cell: intake, data: { id: b, v: -1 } }
      - submit: { cell: intake, data: { id: c, v: 200 } }
      - submit: { cell: intake, data: { id: d, v: 3 } }
      - submit: { cell: intake, data: { id: e } }
      - block: {}
      - submit: { cell: intake, data: { id: a, v: 6 } }
        expect: { rejected: CELL_DUPLICATE_KEY }
      - submit: { cell: intake, data: { id: f, v: 12 } }
  - name: counted too
    steps:
      - submit: { cell: intake, data: { id: g, v: 40 } }
      - submit: { cell: ledger, data: {} }
      - submit: { cell: clock, data: {} }
`;

  it("per rule: accepted and rejected counts", () => {
    const report = run(tests);
    expect(report.failed).toBe(0);
    const counts = Object.fromEntries(report.coverage.map((c) => [`${c.cell}/${c.rule}`, [c.accepted, c.rejected]]));
    expect(counts).toEqual({
      "clock/after-second-block": [0, 1],
      "intake/positive": [6, 1],
      "intake/small": [5, 1],
      "intake/even": [4, 1],
      "sums/not-forty": [1, 1],
    });
    expect(report.unrejected).toEqual([]);
    expect(report.coverage.find((c) => c.rule === "even")).toMatchObject({ channel: "counter", location: { file: FILE } });
  });

  it("lists the rules no test rejects", () => {
    const report = run(`  - name: all fine
    submit: { cell: intake, data: { id: a, v: 4 } }
    expect: accepted
`);
    expect(report.unrejected).toEqual(["counter clock/after-second-block", "counter intake/positive", "counter intake/small", "counter intake/even", "counter sums/not-forty"]);
    const text = formatTestReport(report, { format: "text", coverage: true });
    expect(text).toContain("rules no test rejects (5):");
    expect(text).toMatch(/counter intake\/even\s+1 accepted\s+0 rejected/);
  });
});

describe("runChannelTests: steps built by code", () => {
  it("a step naming a cell the channel does not have is a bad step (the loader catches it in YAML)", () => {
    const plan = loadWithTests(`  - name: x
    submit: { cell: intake, data: { id: a, v: 2 } }
`);
    const report = runChannelTests(plan, [{ name: "by code", steps: [{ kind: "submit", cell: "nope", data: {} }] }]);
    expect(report.tests[0].failure).toMatchObject({ code: "TEST_BAD_STEP", step: 0 });
    expect(report.tests[0].failure!.message).toBe('the channel has no cell "nope"; cells are clock, intake, ledger, sums');
    const proto = runChannelTests(plan, [{ name: "inherited", steps: [{ kind: "state", cell: "constructor", match: {} }] }]);
    expect(proto.tests[0].failure).toMatchObject({ code: "TEST_BAD_STEP" });
  });

  it("a test without steps passes vacuously and executes nothing", () => {
    const plan = loadWithTests(`  - name: x
    submit: { cell: intake, data: { id: a, v: 2 } }
`);
    const report = runChannelTests(plan, [{ name: "empty", steps: [] }]);
    expect(report.tests[0].passed).toBe(true);
    expect(report.coverage.every((c) => c.accepted === 0 && c.rejected === 0)).toBe(true);
  });
});
