/**
 * Channel tests through sandboxed code: a validate hook's rejection and a
 * hook that throws become verdicts tests can expect, and coverage counts the
 * rules those inputs passed before the hook refused them.
 */
import { describe, it, expect } from "vitest";
import { runTestFiles, runChannelTests } from "../../../runtime/testing/index.js";
import { loadChannel } from "../../../runtime/definition/index.js";
import { checkCode } from "../../../runtime/sandbox/index.js";

const CHANNEL = `channel: hooks
version: 1
groups:
  solo: { validators: [n1], threshold: 1 }
cells:
  checked:
    group: solo
    accepts: { type: object, required: [n], properties: { n: { type: integer } } }
    code: ./hooks.js
    rules:
      - name: below-hundred
        require: { "<": [ { var: data.n }, 100 ] }
        message: "{data.n} is too big"
    state:
      - add: total
        value: { var: data.n }
tests:
  - name: hooks decide after the rules
    steps:
      - submit: { cell: checked, data: { n: 1 } }
        expect: accepted
      - submit: { cell: checked, data: { n: 13 } }
        expect: { rejected: CELL_CODE_REJECT }
      - submit: { cell: checked, data: { n: 66 } }
        expect: { rejected: SANDBOX_THROW }
      - submit: { cell: checked, data: { n: 200 } }
        expect: { rejected: below-hundred }
      - submit: { cell: checked, data: { n: 2 } }
        expect: accepted
      - state: { cell: checked, match: { total: 3 } }
  - name: a hook rejection is reported with its reason
    submit: { cell: checked, data: { n: 13 } }
    expect: accepted
`;

const HOOKS = `function validate(data) {
  if (data.n === 13) return { reject: "13 is unlucky" };
  if (data.n === 66) throw new Error("66 breaks the hook");
  return true;
}
`;

const files: Record<string, string> = { "ch/hooks.yaml": CHANNEL, "ch/hooks.js": HOOKS };
const readFile = (p: string): string | undefined => (Object.prototype.hasOwnProperty.call(files, p) ? files[p] : undefined);

describe("channel tests with code hooks", () => {
  it("expect CELL_CODE_REJECT and SANDBOX_* verdicts; coverage counts the rules those inputs passed", () => {
    const report = runTestFiles(["ch/hooks.yaml"], { readFile });
    expect(report.problems).toEqual([]);
    expect(report.tests.map((t) => t.passed)).toEqual([true, false]);
    expect(report.tests[1].failure).toMatchObject({
      code: "TEST_VERDICT",
      verdict: { accepted: false, code: "CELL_CODE_REJECT", message: "13 is unlucky" },
    });
    // n=1, 13, 66, 2 and 13 passed the rule (the hook refused 13, 66, 13 after it); 200 failed it.
    expect(report.coverage).toMatchObject([{ cell: "checked", rule: "below-hundred", accepted: 5, rejected: 1 }]);
  });

  it("a cell with code but no code runner is a TEST_ERROR, not a crash", () => {
    const { plan } = loadChannel(CHANNEL, { file: "ch/hooks.yaml" }, { readFile, checkCode });
    const report = runChannelTests(plan!, plan!.tests);
    expect(report.failed).toBe(2);
    expect(report.tests[0].failure).toMatchObject({ code: "TEST_ERROR" });
    expect(report.tests[0].failure!.message).toContain("CELL_NO_CODE_RUNNER");
  });

  it("a code file that does not compile is a load problem", () => {
    const broken: Record<string, string> = { ...files, "ch/hooks.js": "function validate(data) { return (; }" };
    const report = runTestFiles(["ch/hooks.yaml"], { readFile: (p) => broken[p] });
    expect(report.tests).toEqual([]);
    expect(report.errors).toBeGreaterThan(0);
    expect(report.problems[0].code).toMatch(/^(SANDBOX|DEFINITION)_/);
  });
});
