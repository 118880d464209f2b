import { describe, it, expect } from "vitest";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { layerProblems } from "../tools/lint-layers.js";

describe("module layering (docs/architecture.md: modules depend downward only)", () => {
  it("runtime/ has no upward import", () => {
    expect(layerProblems()).toEqual([]);
  });

  it("reports an upward import with file and line", () => {
    const root = mkdtempSync(join(tmpdir(), "layers-"));
    mkdirSync(join(root, "core"));
    mkdirSync(join(root, "cells"));
    writeFileSync(join(root, "cells", "x.ts"), "export const x = 1;\n");
    writeFileSync(join(root, "core", "bad.ts"), "// a comment\nimport { x } from \"../cells/x.js\";\n");
    const problems = layerProblems(root);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/bad\.ts:2: core imports cells/);
  });
});
