import { describe, it, expect } from "vitest";
import { runTestFiles, formatTestReport, testFileOf, channelFileOf, channelFilesOf } from "../../../runtime/testing/index.js";
import { CHANNEL } from "./fixture.js";
import { createCodeRunner } from "../../../runtime/sandbox/index.js";

const INLINE = `${CHANNEL}tests:
  - name: inline test
    submit: { cell: intake, data: { id: a, v: 2 } }
    expect: accepted
`;

const TEST_FILE = `tests:
  - name: from the test file
    steps:
      - submit: { cell: intake, data: { id: a, v: 20 } }
        emits: [ { to: sums, data: { v: 20 } } ]
      - state: { cell: sums, match: { seen: [a] } }
  - name: failing in the test file
    steps:
      - submit: { cell: intake, data: { id: a, v: 7 } }
        expect: accepted
`;

function io(files: Record<string, string>): { readFile: (p: string) => string | undefined; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readFile: (p) => {
      reads.push(p);
      return Object.prototype.hasOwnProperty.call(files, p) ? files[p] : undefined;
    },
  };
}

describe("runTestFiles", () => {
  it("runs inline tests and NAME.test.yaml beside the channel, with locations in each file", () => {
    const fs = io({ "ch/counter.yaml": INLINE, "ch/counter.test.yaml": TEST_FILE });
    const report = runTestFiles(["ch/counter.yaml"], fs);
    expect(fs.reads).toEqual(["ch/counter.yaml", "ch/counter.test.yaml"]);
    expect(report.tests.map((t) => [t.name, t.passed])).toEqual([
      ["inline test", true],
      ["from the test file", true],
      ["failing in the test file", false],
    ]);
    expect(report.tests[2].failure).toMatchObject({ code: "TEST_VERDICT", location: { file: "ch/counter.test.yaml", line: 9 } });
    expect(report.tests[0].location).toMatchObject({ file: "ch/counter.yaml" });
    expect([report.passed, report.failed, report.errors]).toEqual([2, 1, 0]);
    const text = formatTestReport(report, { format: "text" });
    expect(text).toContain("ch/counter.test.yaml:9:17: step 1: TEST_VERDICT: expected accepted, got rejected: even (v of 7 is odd)");
    // the failing step's line, with a caret under the submission
    expect(text).toContain("        9 |       - submit: { cell: intake, data: { id: a, v: 7 } }\n                            ^\n");
    expect(report.tests[2].failure!.excerpt).toMatch(/^9 \| {7}- submit/);
    expect(text.trimEnd().split("\n").at(-1)).toBe("2 passed, 1 failed");
  });

  it("aggregates several channels; a missing file is a load error", () => {
    const fs = io({ "a/counter.yaml": INLINE, "b/counter.yaml": INLINE });
    const report = runTestFiles(["a/counter.yaml", "b/counter.yaml", "c/missing.yaml"], fs);
    expect(report.tests.map((t) => t.file)).toEqual(["a/counter.yaml", "b/counter.yaml"]);
    expect(report.passed).toBe(2);
    expect(report.errors).toBe(1);
    expect(report.problems[0]).toMatchObject({ code: "TEST_FILE_NOT_FOUND", location: { file: "c/missing.yaml" } });
    expect(report.coverage.filter((c) => c.rule === "positive").map((c) => c.accepted)).toEqual([1, 1]);
    expect(formatTestReport(report, { format: "text" })).toMatch(/2 passed, 0 failed, 1 load error\n$/);
  });

  it("a channel that does not load reports its problems with file:line:col", () => {
    const broken = INLINE.replace("threshold: 1", "threshold: 2");
    const report = runTestFiles(["x.yaml"], io({ "x.yaml": broken }));
    expect(report.tests).toEqual([]);
    expect(report.errors).toBeGreaterThan(0);
    expect(report.problems[0]).toMatchObject({ code: "DEFINITION_THRESHOLD_TOO_HIGH", location: { file: "x.yaml", line: 4 } });
  });

  it("a test file naming an unknown rule is a load error, not a silent pass", () => {
    const bad = `tests:\n  - name: t\n    submit: { cell: intake, data: { id: a, v: 1 } }\n    expect: { rejected: postive }\n`;
    const report = runTestFiles(["c.yaml"], io({ "c.yaml": INLINE, "c.test.yaml": bad }));
    expect(report.tests).toEqual([]);
    expect(report.problems.map((p) => p.code)).toEqual(["DEFINITION_UNKNOWN_RULE"]);
    expect(report.problems[0].location).toMatchObject({ file: "c.test.yaml", line: 4 });
  });

  it("a channel without tests is a warning, not a failure", () => {
    const report = runTestFiles(["n.yaml"], io({ "n.yaml": CHANNEL }));
    expect(report.errors).toBe(0);
    expect(report.problems).toMatchObject([{ code: "TEST_NO_TESTS", severity: "warning" }]);
  });

  it("is deterministic: two runs give the same report, byte for byte", () => {
    const files = { "ch/counter.yaml": INLINE, "ch/counter.test.yaml": TEST_FILE };
    const a = formatTestReport(runTestFiles(["ch/counter.yaml"], io(files)), { format: "json", coverage: true });
    const b = formatTestReport(runTestFiles(["ch/counter.yaml"], io(files)), { format: "json", coverage: true });
    expect(a).toBe(b);
  });

  it("names the test file after the channel file", () => {
    expect(testFileOf("channels/poll.yaml")).toBe("channels/poll.test.yaml");
    expect(testFileOf("channels/poll.yml")).toBe("channels/poll.test.yaml");
  });
});

describe("formatTestReport", () => {
  const fs = io({ "ch/counter.yaml": INLINE, "ch/counter.test.yaml": TEST_FILE });
  const report = runTestFiles(["ch/counter.yaml"], fs);

  it("text: ✓ and ✗ per test under its file, the diff, and the summary", () => {
    const text = formatTestReport(report, { format: "text" });
    expect(text).toContain("ch/counter.yaml (counter)\n  ✓ inline test\n  ✓ from the test file\n  ✗ failing in the test file\n");
    expect(text).toContain("      actual verdict: rejected CELL_RULE (rule even): v of 7 is odd");
    expect(text).not.toContain("rule coverage");
  });

  it("text with coverage: counts per rule and the rules no test rejects", () => {
    const text = formatTestReport(report, { format: "text", coverage: true });
    expect(text).toMatch(/counter intake\/positive\s+3 accepted\s+0 rejected/);
    expect(text).toMatch(/counter intake\/even\s+2 accepted\s+1 rejected/);
    expect(text).toMatch(/rules no test rejects \(4\):\n {2}counter clock\/after-second-block {2}ch\/counter.yaml:\d+:\d+/);
  });

  it("a state diff shows the path, expected, actual and the whole value", () => {
    const failing = `${CHANNEL}tests:
  - name: t
    steps:
      - submit: { cell: intake, data: { id: a, v: 2 } }
      - state: { cell: intake, match: { ids: [b] } }
`;
    const text = formatTestReport(runTestFiles(["f.yaml"], io({ "f.yaml": failing })), { format: "text" });
    expect(text).toContain("TEST_STATE: state of intake: ids[0] differs\n");
    expect(text).toContain('        at:       ids[0]\n        expected: "b"\n        actual:   "a"\n');
    expect(text).toContain('whole actual value: {"total":2,"ids":["a"],"records":{"a":{"id":"a","v":2}}}');
  });

  it("json: the report for tools, coverage only when asked", () => {
    const plain = JSON.parse(formatTestReport(report, { format: "json" })) as Record<string, unknown>;
    expect(plain).toMatchObject({ passed: 2, failed: 1, errors: 0 });
    expect(plain.coverage).toBeUndefined();
    const withCov = JSON.parse(formatTestReport(report, { format: "json", coverage: true })) as {
      tests: Array<{ name: string; passed: boolean; failure?: { code: string; verdict: { rule: string } } }>;
      coverage: Array<{ cell: string; rule: string; accepted: number; rejected: number }>;
      unrejected: string[];
    };
    expect(withCov.tests[2].failure).toMatchObject({ code: "TEST_VERDICT", verdict: { rule: "even" } });
    expect(withCov.coverage.find((c) => c.rule === "even")).toMatchObject({ cell: "intake", accepted: 2, rejected: 1 });
    expect(withCov.unrejected).toContain("counter intake/positive");
  });
});

describe("runTestFiles: the files a glob names", () => {
  it("a tests file stands for its channel, and a channel named twice runs once (channels/*.yaml)", () => {
    const files = { "ch/counter.yaml": INLINE, "ch/counter.test.yaml": TEST_FILE };
    // Before: the tests file was loaded as a channel ("this is a tests file"), a load error.
    const report = runTestFiles(["ch/counter.test.yaml", "ch/counter.yaml"], io(files));
    expect(report.errors).toBe(0);
    expect(report.problems).toEqual([]);
    expect(report.tests.map((t) => t.name)).toEqual(["inline test", "from the test file", "failing in the test file"]);
  });

  it("maps NAME.test.yaml to NAME.yaml, or to NAME.yml when only that one exists", () => {
    const read = io({ "a/x.yml": INLINE }).readFile;
    expect(channelFileOf("a/x.test.yaml", read)).toBe("a/x.yml");
    expect(channelFileOf("a/y.test.yaml", read)).toBe("a/y.yaml");
    expect(channelFileOf("a/y.yaml", read)).toBe("a/y.yaml");
    expect(channelFilesOf(["a/x.test.yaml", "a/x.yml", "b/z.yaml", "a/x.test.yml"], read)).toEqual(["a/x.yml", "b/z.yaml"]);
  });

  it("a tests file whose channel is missing says which channel it looked for", () => {
    const report = runTestFiles(["ch/gone.test.yaml"], io({ "ch/gone.test.yaml": TEST_FILE }));
    expect(report.problems).toMatchObject([{ code: "TEST_FILE_NOT_FOUND", location: { file: "ch/gone.yaml" } }]);
  });
});

describe("runTestFiles with grep", () => {
  const files = { "ch/counter.yaml": INLINE, "ch/counter.test.yaml": TEST_FILE };

  it("runs only the tests whose name contains the text, ignoring case", () => {
    const report = runTestFiles(["ch/counter.yaml"], io(files), { grep: "TEST FILE" });
    expect(report.tests.map((t) => t.name)).toEqual(["from the test file", "failing in the test file"]);
    // coverage counts the tests that ran only: "inline test" submitted v 2, which would count for `positive`
    expect(report.coverage.find((c) => c.rule === "positive")!.accepted).toBe(2);
  });

  it("a channel with no test of that name runs nothing, and starts no sandbox", () => {
    const coded = `${INLINE.replace("  clock:\n", "  hooked:\n    group: solo\n    accepts: { type: object }\n    code: ./hooks.js\n  clock:\n")}`;
    const withCode = { "ch/coded.yaml": coded, "ch/hooks.js": "function validate(data) { return true; }\n" };
    const made: string[] = [];
    const create = (o: { name: string }) => {
      made.push(o.name);
      return createCodeRunner(o as never);
    };
    // without grep the hooked cell gets its runner; with a grep that selects nothing, none is made
    expect(runTestFiles(["ch/coded.yaml"], { ...io(withCode), createCodeRunner: create }).errors).toBe(0);
    expect(made).toEqual(["counter/hooked"]);
    const report = runTestFiles(["ch/coded.yaml"], { ...io(withCode), createCodeRunner: create }, { grep: "no such test" });
    expect(report).toMatchObject({ tests: [], problems: [], errors: 0, coverage: [] });
    expect(made).toEqual(["counter/hooked"]);
  });
});
