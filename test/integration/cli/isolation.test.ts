/**
 * One file's failure never stops the others: lint, explain and test over
 * several files report an exception on one file under that file, with a
 * code, and still handle the rest. The loader is made to throw on one file
 * (as it did with "Invalid string length" on a channel whose rules inlined a
 * 950 KB param) by wrapping the real module.
 */
import { describe, expect, it, vi } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

vi.mock("../../../runtime/definition/index.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../../runtime/definition/index.js")>();
  return {
    ...real,
    loadChannel: (source: string, opts: { file: string }, modules?: Parameters<typeof real.loadChannel>[2]) => {
      if (opts.file.includes("boom")) throw new RangeError("Invalid string length");
      return real.loadChannel(source, opts, modules);
    },
  };
});

const { lintCommand } = await import("../../../runtime/cli/lint.js");
const { explainCommand } = await import("../../../runtime/cli/explain.js");
const { testCommand } = await import("../../../runtime/cli/test.js");

const GOOD = `channel: good
version: 1
groups:
  g: { validators: [a], threshold: 1 }
cells:
  c: { group: g, accepts: true }
tests:
  - name: accepts anything
    submit: { cell: c, data: 1 }
    expect: accepted
`;

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "statecell-cli-"));
  writeFileSync(join(dir, "a-boom.yaml"), GOOD.replace("channel: good", "channel: boom"));
  writeFileSync(join(dir, "b-good.yaml"), GOOD);
  return dir;
}

function run(f: (out: (s: string) => void) => number | Promise<number>): Promise<{ code: number; out: string }> {
  let out = "";
  return Promise.resolve(f((s) => (out += s))).then((code) => ({ code, out }));
}

describe("one file's failure never stops the others", () => {
  it("lint DIR reports the failing file with CLI_INTERNAL and still lints the good one", async () => {
    const dir = folder();
    const r = await run((out) => lintCommand([dir], { format: "text" }, out));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/a-boom\.yaml:1:1: error CLI_INTERNAL: statecell failed on .*a-boom\.yaml: Invalid string length/);
    expect(r.out).toMatch(/b-good\.yaml: ok \(good v1, 1 cells\)/);
    expect(r.out).toContain("2 file(s): 1 error(s), 0 warning(s)");
  });

  it("lint --format json gives both files a result", async () => {
    const r = await run((out) => lintCommand([folder()], { format: "json" }, out));
    const results = JSON.parse(r.out) as Array<{ ok: boolean; problems: Array<{ code: string }> }>;
    expect(results.map((x) => [x.ok, x.problems.map((p) => p.code)])).toEqual([
      [false, ["CLI_INTERNAL"]],
      [true, []],
    ]);
  });

  it("explain over two files explains the good one and reports the other", async () => {
    const r = await run((out) => explainCommand([folder()], { format: "text" }, out));
    expect(r.code).toBe(1);
    expect(r.out).toContain("CLI_INTERNAL");
    expect(r.out).toMatch(/a-boom\.yaml: not explained/);
    expect(r.out).toContain("Channel good, version 1");
  });

  it("test over two files runs the good one's tests and counts the other as a load error", async () => {
    const r = await run((out) => testCommand([folder()], { format: "text", coverage: false }, out));
    expect(r.code).toBe(1);
    expect(r.out).toContain("CLI_INTERNAL");
    expect(r.out).toMatch(/1 passed, 0 failed, 1 load error/);
  });
});
