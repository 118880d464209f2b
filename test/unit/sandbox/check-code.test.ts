import { describe, expect, it } from "vitest";
import { checkCode } from "../../../runtime/sandbox/index.js";

describe("checkCode", () => {
  it("lists the hooks of a clean file, export syntax included, with no problems", () => {
    const src = "export function validate(d) { return true }\nfunction transform(d) { return d }\nexport const reduce = (s) => s;\n";
    expect(checkCode(src, "ok.js")).toEqual({ hooks: ["validate", "transform", "reduce"], problems: [] });
  });

  it("reports a syntax error at file:line:col with an excerpt, columns kept after export", () => {
    const { problems } = checkCode("export function validate(d) {\n  return d.x +;\n}\n", "channels/x/bad.js");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      code: "SANDBOX_SYNTAX",
      severity: "error",
      message: "the code does not parse: Unexpected token ';'",
      location: { file: "channels/x/bad.js", line: 2, col: 15 },
    });
    expect(problems[0].excerpt).toBe("2 |   return d.x +;\n                  ^");
  });

  it("rejects import statements as syntax errors (hook files are scripts)", () => {
    const { problems } = checkCode('import fs from "node:fs";\nfunction validate() { return true }\n', "imp.js");
    expect(problems[0]).toMatchObject({ code: "SANDBOX_SYNTAX", location: { line: 1, col: 1 } });
  });

  it("lists only hooks that are functions once the file is loaded", () => {
    const { hooks, problems } = checkCode("const validate = 5;\nfunction reduce(s) { return s }\n", "half.js");
    expect(hooks).toEqual(["reduce"]);
    expect(problems).toEqual([]);
  });

  it("reports a top level that throws as SANDBOX_INIT", () => {
    const { problems } = checkCode("const table = JSON.parse('{');\nfunction validate() { return true }\n", "init.js");
    expect(problems.map((p) => [p.code, p.severity, p.location?.file, p.location?.line])).toEqual([["SANDBOX_INIT", "error", "init.js", 1]]);
    expect(problems[0].message).toContain("SyntaxError");
  });

  it("reports a file without hooks", () => {
    const { hooks, problems } = checkCode("function helper() { return 1 }\n", "none.js");
    expect(hooks).toEqual([]);
    expect(problems.map((p) => [p.code, p.severity, p.location?.line])).toEqual([["SANDBOX_NO_HOOKS", "error", 1]]);
  });

  it("flags a misspelt hook as an error when it is the only candidate, naming the hook it resembles", () => {
    const { problems } = checkCode("// header\nexport function validat(d) {\n  return true;\n}\n", "typo.js");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      code: "SANDBOX_UNKNOWN_HOOK",
      severity: "error",
      message: '"validat" is not a hook name, so statecell will never call it',
      location: { file: "typo.js", line: 2, col: 17, endLine: 2, endCol: 24 },
    });
    expect(problems[0].remedy).toContain("rename it to validate");
  });

  it("warns about hook-like names beside real hooks, and ignores ordinary helpers", () => {
    const src = "function reduce(s) { return s }\nfunction Transform(d) { return d }\nfunction reuse() {}\nfunction validateDistrict() {}\n  function validat() {}\n";
    const { hooks, problems } = checkCode(src, "mixed.js");
    expect(hooks).toEqual(["reduce"]);
    expect(problems.map((p) => [p.code, p.severity, p.location?.line])).toEqual([["SANDBOX_UNKNOWN_HOOK", "warning", 2]]);
  });
});
