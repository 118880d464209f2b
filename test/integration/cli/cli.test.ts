import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectPinned } from "../../unit/definition/helpers.js";

// The CLI as a user runs it: the real launcher, a real child process.
function statecell(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/statecell.js", ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe("statecell CLI", () => {
  it("--help lists the commands and exits 0", () => {
    const r = statecell("--help");
    expect(r.code).toBe(0);
    for (const c of ["lint", "explain", "test", "keys", "demo"]) expect(r.out).toContain(`  ${c}`);
  });

  it("an unknown command exits 2 and shows the help", () => {
    const r = statecell("lnit");
    expect(r.code).toBe(2);
    expect(r.out).toContain('unknown command "lnit"');
  });

  it("lint passes on every example channel", () => {
    const r = statecell("lint", "channels/");
    expect(r.out).toContain("0 error(s)");
    expect(r.code).toBe(0);
  });

  it("lint reports a broken file at file:line:col with a fix, and exits 1", () => {
    const r = statecell("lint", "test/fixtures/cli/broken.yaml");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/test\/fixtures\/cli\/broken\.yaml:9:5: error DEFINITION_UNKNOWN_KEY/);
    expect(r.out).toContain('"threshold"');
    expect(r.out).toMatch(/test\/fixtures\/cli\/broken\.yaml:\d+:\d+: error DEFINITION_UNSAFE_THRESHOLD/);
  });

  it("lint --format json gives every problem with its location", () => {
    const r = statecell("lint", "--format", "json", "test/fixtures/cli/broken.yaml", "channels/poll.yaml");
    expect(r.code).toBe(1);
    const results = JSON.parse(r.out) as Array<{ file: string; ok: boolean; problems: Array<{ code: string; location: { line: number } }> }>;
    expect(results.map((x) => x.ok)).toEqual([false, true]);
    expect(results[0].problems.map((p) => p.code)).toContain("DEFINITION_UNKNOWN_KEY");
    expect(results[0].problems.every((p) => p.location.line > 0)).toBe(true);
  });

  it("lint channels/*.yaml checks channels and their tests files, and exits 0", () => {
    const files = readdirSync("channels").filter((f) => f.endsWith(".yaml")).map((f) => `channels/${f}`);
    expect(files.some((f) => f.endsWith(".test.yaml"))).toBe(true);
    const r = statecell("lint", ...files);
    expect(r.out).toContain(`${files.length} file(s): 0 error(s)`);
    expect(r.out).toMatch(/channels\/poll\.test\.yaml: ok \(\d+ tests of city-poll\)/);
    expect(r.code).toBe(0);
  });

  it("lint checks a tests file against its channel", () => {
    const r = statecell("lint", "test/fixtures/cli/sounds.test.yaml");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/sounds\.test\.yaml:7:21: error DEFINITION_UNKNOWN_CELL/);
  });

  it("lint of a missing file says so", () => {
    const r = statecell("lint", "channels/nope.yaml");
    expect(r.code).toBe(1);
    expect(r.out).toContain("CLI_FILE_NOT_FOUND");
  });

  it("explain output for the air-quality channel is pinned", () => {
    const r = statecell("explain", "channels/air-quality.yaml");
    expect(r.code).toBe(0);
    expectPinned(r.out, "test/fixtures/cli/explain-air-quality.txt");
  });

  it("explain --format markdown includes a mermaid pipeline diagram", () => {
    const r = statecell("explain", "--format", "markdown", "channels/poll.yaml");
    expect(r.code).toBe(0);
    expect(r.out).toContain("```mermaid");
    expect(r.out).toMatch(/ballots[\s\S]*-->[\s\S]*tally/);
  });

  it("test runs the example channels' tests and exits 0", () => {
    const r = statecell("test", "channels/");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\d+ passed, 0 failed/);
  });

  it("test exits 1 and shows a diff when a test fails", () => {
    const r = statecell("test", "test/fixtures/cli/failing.yaml");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/1 passed, 1 failed/);
    expect(r.out).toContain("too-loud");
  });

  it("demo (npm start) lints, explains and tests the examples, and the poll's clerks agree on a block", () => {
    const r = statecell("demo");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\d+ passed, 0 failed/);
    expect(r.out).toContain("All 7 nodes decided the same block 1 (one value id");
    expect(r.out).toMatch(/ballot 4 \(cid: bridges\): rejected known-option/);
    expect(r.out).toMatch(/Commit certificate: [5-7] precommits \(.*\), verifies\./);
  });

  describe("a channel whose 700 rules read a 950 KB param, beside a good channel", () => {
    // Before: lint, explain and test all died with "internal error ... Invalid string length" (790 MB),
    // and lint DIR gave the good channel beside it no result.
    const dir = mkdtempSync(join(tmpdir(), "statecell-big-"));
    const devices = Array.from({ length: 95_000 }, (_, i) => `d${String(i).padStart(6, "0")}`);
    const rules = Array.from({ length: 700 }, (_, i) => `      - { name: r${i}, require: { in: [ { var: data.d }, { var: channel.params.devices } ] } }`);
    const tests = "tests:\n  - name: a known device\n    submit: { cell: c, data: { d: d000001 } }\n    expect: accepted\n";
    writeFileSync(join(dir, "big.yaml"), `channel: big\nversion: 1\nparams:\n  devices: [${devices.join(",")}]\ngroups:\n  g: { validators: [a], threshold: 1 }\ncells:\n  c:\n    group: g\n    accepts: true\n    rules:\n${rules.join("\n")}\n${tests}`);
    writeFileSync(join(dir, "small.yaml"), `channel: small\nversion: 1\ngroups:\n  g: { validators: [a], threshold: 1 }\ncells:\n  c: { group: g, accepts: true }\n${tests.replace("{ d: d000001 }", "1")}`);

    it("lint DIR gives both channels a result", () => {
      const r = statecell("lint", dir);
      expect(r.out).toMatch(/big\.yaml: ok \(big v1, 1 cells\)/);
      expect(r.out).toMatch(/small\.yaml: ok \(small v1, 1 cells\)/);
      expect(r.code).toBe(0);
    });

    it("explain names the param by its size in every rule", () => {
      const r = statecell("explain", join(dir, "big.yaml"));
      expect(r.code).toBe(0);
      expect(r.out).toContain("requires that data.d is in channel.params.devices (a list of 95,000 items)");
      expect(r.out.length).toBeLessThan(200_000);
    });

    it("test runs both channels' tests", () => {
      const r = statecell("test", dir);
      expect(r.out).toMatch(/2 passed, 0 failed/);
      expect(r.code).toBe(0);
    });
  });

  it("keys prints the name-derived test key", () => {
    const r = statecell("keys", "treasury");
    expect(r.out.trim()).toBe("treasury\t209fa24dc65a0eb7a2953e119be5dbbd67ecfbb71007783be0a7d7c94cb2536c");
  });
});
