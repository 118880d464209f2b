/**
 * The example channels' own tests, run through the real loader, admission,
 * block execution and sandbox: they pass, every rule rejects at least once,
 * and they are not vacuous (breaking a channel makes them fail).
 */
import { describe, it, expect } from "vitest";
import { readFileSync, existsSync, readdirSync } from "node:fs";
import { runTestFiles, formatTestReport } from "../../../runtime/testing/index.js";
import { createCodeRunner } from "../../../runtime/sandbox/index.js";

/** Every example channel (channels/*.yaml, not the tests files), so a new one is checked the day it is added. */
const CHANNELS = readdirSync("channels")
  .filter((f) => f.endsWith(".yaml") && !f.endsWith(".test.yaml"))
  .sort()
  .map((f) => `channels/${f}`);

const disk = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, "utf8") : undefined);

/** Disk, with one file's text rewritten. */
function patched(file: string, from: string, to: string): (p: string) => string | undefined {
  return (p) => {
    const text = disk(p);
    if (p !== file || text === undefined) return text;
    expect(text).toContain(from);
    return text.replace(from, to);
  };
}

describe("example channels", () => {
  it("pass their tests, and every rule of every channel rejects at least one input", () => {
    const report = runTestFiles(CHANNELS, { readFile: disk });
    const text = formatTestReport(report, { format: "text", coverage: true });
    expect(report.problems, text).toEqual([]);
    expect(report.failed, text).toBe(0);
    expect(report.passed).toBeGreaterThanOrEqual(30);
    expect([...new Set(report.tests.map((t) => t.channel))]).toEqual(expect.arrayContaining(["air-quality", "city-poll", "loyalty-points"]));
    expect(new Set(report.tests.map((t) => t.file)).size).toBe(CHANNELS.length);
    expect(report.unrejected, text).toEqual([]);
    expect(report.coverage.length).toBeGreaterThanOrEqual(9);
    expect(text).toContain("every rule rejects at least one input");
  });

  it("creates one code runner per cell with code, and disposes it after the run", () => {
    const made: Array<{ name: string; disposed: () => boolean }> = [];
    const report = runTestFiles(["channels/air-quality.yaml"], {
      readFile: disk,
      createCodeRunner: (opts) => {
        const r = createCodeRunner(opts);
        made.push({ name: opts.name, disposed: () => r.disposed });
        return r;
      },
    });
    expect(report.failed).toBe(0);
    expect(made.map((m) => m.name)).toEqual(["air-quality/districts"]);
    expect(made.every((m) => m.disposed())).toBe(true);
  });

  it("fail when a rule's limit changes (air quality: plausible up to 400 instead of 500)", () => {
    const report = runTestFiles(["channels/air-quality.yaml"], { readFile: patched("channels/air-quality.yaml", "maxPm25: 500", "maxPm25: 400") });
    const failed = report.tests.filter((t) => !t.passed);
    expect(failed.map((t) => t.name)).toContain("the limit of plausibility is inclusive");
    expect(failed.find((t) => t.name === "the limit of plausibility is inclusive")!.failure).toMatchObject({
      code: "TEST_VERDICT",
      verdict: { code: "CELL_RULE", rule: "plausible" },
      location: { file: "channels/air-quality.test.yaml" },
    });
  });

  it("fail when the district statistics are computed differently", () => {
    const report = runTestFiles(["channels/air-quality.yaml"], {
      readFile: patched("channels/air-quality/districts.js", "max: Math.max(prev.max, data.pm25)", "max: data.pm25"),
    });
    const t = report.tests.find((x) => x.name === "districts keep count, sum, mean and maximum of their readings")!;
    expect(t.failure).toMatchObject({ code: "TEST_STATE", path: "cen.max", expected: 18 });
  });

  it("fail when a poll stops counting one of its updates", () => {
    const report = runTestFiles(["channels/poll.yaml"], {
      readFile: patched("channels/poll.yaml", "      - add: total\n        value: 1\n", ""),
    });
    const t = report.tests.find((x) => x.name === "ballots are counted per option by the tally")!;
    expect(t.failure).toMatchObject({ code: "TEST_STATE", path: "total", missing: true, expected: 3 });
  });

  it("fail when the gold tier's balance rule lets everyone claim", () => {
    const report = runTestFiles(["channels/token.yaml"], {
      readFile: patched("channels/token.yaml", 'require: { ">=": [ { var: [ "token.balances.{signer}", 0 ] }, { var: channel.params.goldPoints } ] }', "require: true"),
    });
    const t = report.tests.find((x) => x.name === "a member with enough points claims gold; one without is refused by the balance rule")!;
    expect(t.failure).toMatchObject({ code: "TEST_VERDICT", verdict: { accepted: true }, location: { file: "channels/token.test.yaml" } });
    expect(report.unrejected).toEqual(["loyalty-points claims/holds-enough"]);
  });

  it("fail when the token burns its fees instead of paying the shops, or weighs votes by one", () => {
    const burned = runTestFiles(["channels/token.yaml"], { readFile: patched("channels/token.yaml", "feesTo: shops", "feesTo: burn") });
    const t = burned.tests.find((x) => x.name === "issued points are spent in a later block; the fee goes to the shops and the supply stays")!;
    expect(t.failure).toMatchObject({ code: "TEST_STATE", path: "supply", expected: "100000000" });
    const flat = runTestFiles(["channels/poll-weighted.yaml"], {
      readFile: patched("channels/poll-weighted.yaml", 'weight: { var: [ "token.balances.{signer}", 0 ] }', "weight: 1"),
    });
    expect(flat.tests.find((x) => x.name === "ballots count with the voter's shares")!.failure).toMatchObject({ code: "TEST_EMITS" });
  });

  it("catch a renamed rule at load time: the tests name a rule the channel no longer has", () => {
    const report = runTestFiles(["channels/token.yaml"], { readFile: patched("channels/token.yaml", "name: holds-enough", "name: covered") });
    expect(report.problems.map((p) => p.code)).toContain("DEFINITION_UNKNOWN_RULE");
    expect(report.problems.every((p) => p.location?.file === "channels/token.test.yaml")).toBe(true);
    expect(report.errors).toBeGreaterThan(0);
  });
});
