import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectPinned } from "../../unit/definition/helpers.js";

// The CLI as a user runs it: the real launcher, a real child process.
function statecell(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/statecell.js", ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout + r.stderr, stdout: r.stdout };
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

describe("statecell test: the files, tests and states a user asks for", () => {
  const globbed = () => readdirSync("channels").filter((f) => f.endsWith(".yaml")).map((f) => `channels/${f}`);

  it("test channels/*.yaml runs each channel once, like test channels/, and exits 0", () => {
    // Before: every NAME.test.yaml was loaded as a channel ("this is a tests file"): exit 1.
    const files = globbed();
    expect(files.some((f) => f.endsWith(".test.yaml"))).toBe(true);
    const r = statecell("test", ...files);
    const dir = statecell("test", "channels/");
    expect(r.out).not.toContain("load error");
    expect(r.out.trimEnd().split("\n").at(-1)).toBe(dir.out.trimEnd().split("\n").at(-1));
    expect(r.code).toBe(0);
  });

  it("test --grep runs the tests whose name contains the text, and exits 1 when none does", () => {
    const r = statecell("test", "--grep", "ONE BALLOT PER", "channels/");
    expect(r.out).toContain("✓ one ballot per resident, even in a later block");
    // Standard output ends with the count; a loaded machine may also put progress lines on standard error.
    expect(r.stdout).toMatch(/\n1 passed, 0 failed\n$/);
    expect(r.code).toBe(0);
    const none = statecell("test", "--grep", "no such test anywhere", "channels/");
    expect(none.out).toContain('no test name contains "no such test anywhere"');
    expect(none.code).toBe(1);
  });

  it("--grep and --state belong to test: another command says so and exits 2", () => {
    const r = statecell("lint", "--state", "channels/poll.yaml");
    expect(r.out).toContain("statecell lint: --state is an option of `statecell test`");
    expect(r.code).toBe(2);
  });

  it("test --state prints each cell's state at the end of each test, signer keys as $key:NAME", () => {
    const r = statecell("test", "--state", "--grep", "claims gold", "channels/token.yaml");
    expect(r.code).toBe(0);
    expect(r.out).toContain('      state at the end:\n        claims: {"gold":1,"records":{"$key:alice":{"tier":"gold"}}}\n        token:\n');
    expect(r.out).toContain('            "$key:treasury": "99979982"');
    expect(r.out).toContain('          nonces: {"$key:treasury":2}');
    expect(r.out).toContain('          supply: "100000000"');
    expect(r.out).not.toMatch(/[0-9a-f]{64}/);
  });
});

describe("statecell given a code file", () => {
  it("lint says it is a code file and which channel to lint, instead of YAML errors", () => {
    const r = statecell("lint", "channels/air-quality/districts.js");
    expect(r.code).toBe(1);
    expect(r.out).toContain("channels/air-quality/districts.js:1:1: error CLI_CODE_FILE: channels/air-quality/districts.js is a code file (the hooks of a code cell), named by channels/air-quality.yaml");
    expect(r.out).toContain("fix: lint the channel that names it: `statecell lint channels/air-quality.yaml`");
    expect(r.out).not.toContain("DEFINITION_YAML_SYNTAX");
    expect(r.out).toContain("1 file(s): 1 error(s)");
  });

  it("explain and test say the same, and a code file no channel names gets the general fix", () => {
    const e = statecell("explain", "channels/air-quality/districts.js");
    expect(e.code).toBe(1);
    expect(e.out).toContain("fix: explain the channel that names it: `statecell explain channels/air-quality.yaml`");
    const dir = mkdtempSync(join(tmpdir(), "statecell-code-"));
    writeFileSync(join(dir, "lonely.js"), "function validate() { return true; }\n");
    const t = statecell("test", join(dir, "lonely.js"));
    expect(t.code).toBe(1);
    expect(t.out).toContain("CLI_CODE_FILE");
    expect(t.out).toContain("fix: test the channel file (.yaml) whose cell names it under `code:`");
  });
});

describe("statecell explain and the tests file", () => {
  it("counts and names the tests of NAME.test.yaml beside the channel", () => {
    const r = statecell("explain", "channels/poll.yaml");
    expect(r.code).toBe(0);
    const n = (readFileSync("channels/poll.test.yaml", "utf8").match(/^ {2}- name: /gm) ?? []).length;
    // Before: "Tests: none." (the poll's tests are all in poll.test.yaml)
    expect(r.out).toContain(`Tests: ${n} tests in channels/poll.test.yaml ("a signed ballot for a listed option is accepted", `);
  });

  it("explain channels/*.yaml explains each channel once", () => {
    const files = readdirSync("channels").filter((f) => f.endsWith(".yaml")).map((f) => `channels/${f}`);
    const r = statecell("explain", ...files);
    expect(r.code).toBe(0);
    expect((r.out.match(/^Channel /gm) ?? []).length).toBe(files.filter((f) => !f.endsWith(".test.yaml")).length);
  });
});

describe("statecell writing into a pipe that closes early", () => {
  it("stops writing quietly and keeps its exit code (before: EPIPE and a stack trace)", () => {
    const dir = mkdtempSync(join(tmpdir(), "statecell-pipe-"));
    const err = join(dir, "stderr");
    const rc = join(dir, "rc");
    const r = spawnSync("sh", ["-c", `(node bin/statecell.js explain channels/ 2>"${err}"; echo $? >"${rc}") | head -c 20`], { encoding: "utf8", timeout: 60_000 });
    expect(r.stdout).toBe("Channel air-quality,");
    expect(readFileSync(rc, "utf8").trim()).toBe("0");
    expect(readFileSync(err, "utf8")).toBe("");
  });
});
