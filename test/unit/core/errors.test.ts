import { describe, it, expect } from "vitest";
import { excerptAt, formatProblem, StatecellError } from "../../../runtime/core/errors.js";

describe("error formatting", () => {
  const source = "channel: x\ngroups:\n  edge: { threshold: 2 }\n";

  it("puts a caret under the column, spanning a one-line range", () => {
    expect(excerptAt(source, { file: "x.yaml", line: 3, col: 11, endLine: 3, endCol: 20 })).toBe(
      "3 |   edge: { threshold: 2 }\n              ^^^^^^^^^",
    );
  });

  it("prints file:line:col, code, message, excerpt and fix", () => {
    const text = formatProblem({
      code: "DEFINITION_UNKNOWN_KEY",
      severity: "error",
      message: 'unknown key "treshold"',
      remedy: 'did you mean "threshold"?',
      location: { file: "x.yaml", line: 3, col: 11 },
      excerpt: excerptAt(source, { file: "x.yaml", line: 3, col: 11 }),
    });
    expect(text.split("\n")[0]).toBe('x.yaml:3:11: error DEFINITION_UNKNOWN_KEY: unknown key "treshold"');
    expect(text).toContain("fix: did you mean");
  });

  it("a StatecellError carries its code and serialises to JSON", () => {
    const e = new StatecellError("CORE_NOT_JSON", "bad", { remedy: "fix it", payload: { path: "/a" } });
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ code: "CORE_NOT_JSON", remedy: "fix it", payload: { path: "/a" } });
    expect(e.problems[0].code).toBe("CORE_NOT_JSON");
  });
});
