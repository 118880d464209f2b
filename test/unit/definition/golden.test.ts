/**
 * Golden tests: each file in test/fixtures/bad/ is a broken channel whose
 * header says what the loader must report, e.g. `# expect: DEFINITION_UNKNOWN_KEY 11:5`.
 * The first error must be that one, at that line and column.
 */
import { describe, expect, it } from "vitest";
import { formatProblem } from "../../../runtime/core/errors.js";
import { loadChannel } from "../../../runtime/definition/index.js";
import { BAD, fixture, readFile, yamlFiles } from "./helpers.js";

const files = yamlFiles(BAD);

function expectations(text: string): Array<{ code: string; line: number; col: number }> {
  return [...text.matchAll(/^# expect: (\S+) (\d+):(\d+)$/gm)].map((m) => ({ code: m[1], line: Number(m[2]), col: Number(m[3]) }));
}

describe("bad definitions", () => {
  it("has at least 25 fixtures with at least 25 distinct codes", () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
    const codes = new Set(files.flatMap((f) => expectations(fixture(`test/fixtures/bad/${f}`)).map((e) => e.code)));
    expect(codes.size).toBeGreaterThanOrEqual(25);
  });

  it.each(files)("%s", (name) => {
    const file = `test/fixtures/bad/${name}`;
    const text = fixture(file);
    const expected = expectations(text);
    expect(expected.length).toBeGreaterThan(0);
    const { plan, problems } = loadChannel(text, { file }, { readFile });
    expect(plan).toBeUndefined();
    const errors = problems.filter((p) => p.severity === "error");
    expect({ code: errors[0]?.code, line: errors[0]?.location?.line, col: errors[0]?.location?.col }).toEqual(expected[0]);
    for (const e of expected) {
      expect(errors.some((p) => p.code === e.code && p.location?.line === e.line && p.location?.col === e.col)).toBe(true);
    }
    // Every problem is located, has an excerpt with a caret, a remedy and a path.
    for (const p of problems) {
      expect(p.location?.file).toBe(file);
      expect(p.excerpt).toMatch(/\^/);
      expect(p.remedy).toBeTruthy();
      expect(typeof p.path).toBe("string");
    }
  });
});

describe("full messages", () => {
  const first = (name: string) => {
    const file = `test/fixtures/bad/${name}`;
    const { problems } = loadChannel(fixture(file), { file }, { readFile });
    return formatProblem(problems.find((p) => p.severity === "error")!);
  };

  it("explains an unsafe threshold", () => {
    expect(first("unsafe-threshold.yaml")).toMatchInlineSnapshot(`
      "test/fixtures/bad/unsafe-threshold.yaml:6:45: error DEFINITION_UNSAFE_THRESHOLD: group "g": threshold 2 of 4 is unsafe: two quorums of 2 can be disjoint, while up to n-q = 2 may be faulty, so two conflicting decisions could both be certified (safe needs 3q > 2n)
        6 |   g: { validators: [a, b, c, d], threshold: 2 }
                                                        ^
        fix: use at least 3 of 4 (or "2/3", which means strictly more than two thirds; it tolerates 1 Byzantine, 1 offline), or add a validator and use 4 of 5 (2 Byzantine, 1 offline)"
    `);
  });

  it("suggests the key meant", () => {
    expect(first("unknown-key-cell.yaml")).toMatchInlineSnapshot(`
      "test/fixtures/bad/unknown-key-cell.yaml:11:5: error DEFINITION_UNKNOWN_KEY: unknown key "grup" in cell "one" (did you mean "group"?)
        11 |     grup: g
                 ^^^^
        fix: write "group""
    `);
  });

  it("names the cycle", () => {
    expect(first("pipeline-cycle.yaml")).toMatchInlineSnapshot(`
      "test/fixtures/bad/pipeline-cycle.yaml:22:13: error DEFINITION_PIPELINE_CYCLE: cells one -> two -> three -> one form a cycle; outputs would flow around it forever
        22 |       - to: one
                         ^^^
        fix: remove one emit of the cycle (e.g. the emit from "three" to "one")"
    `);
  });

  it("points inside a rule at the unknown operator", () => {
    expect(first("unknown-operator.yaml")).toMatchInlineSnapshot(`
      "test/fixtures/bad/unknown-operator.yaml:15:20: error DEFINITION_UNKNOWN_OPERATOR: unknown operator "=<"; did you mean "<"? (RULES_UNKNOWN_OPERATOR)
        15 |         require: { "=<": [ { var: data.x }, 10 ] }
                                ^^^^
        fix: write "<""
    `);
  });
});
