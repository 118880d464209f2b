/** Lint refuses limits that contradict each other and pipelines whose fan-out can exceed the output limits. */
import { describe, expect, it } from "vitest";
import { explainChannel, loadChannel, type ChannelPlan } from "../../../runtime/definition/index.js";

const HEAD = "channel: t\nversion: 1\ngroups:\n  g: { validators: [a], threshold: 1 }\n";

/** Cells written as `name: [targets]`; `code` cells get a fake checker's hooks. */
function channel(limits: string, cells: Record<string, string[]>, opts: { transform?: string[]; cellLimits?: Record<string, string> } = {}) {
  const lines = [HEAD + (limits ? `limits: { ${limits} }\n` : "") + "cells:"];
  for (const [name, targets] of Object.entries(cells)) {
    const code = opts.transform?.includes(name) ? `, code: ./${name}.js` : "";
    const lim = opts.cellLimits?.[name] ? `, limits: { ${opts.cellLimits[name]} }` : "";
    const emit = targets.length ? `, emit: [ ${targets.map((t) => `{ to: ${t} }`).join(", ")} ]` : "";
    lines.push(`  ${name}: { group: g, accepts: true${code}${lim}${emit} }`);
  }
  return loadChannel(`${lines.join("\n")}\n`, { file: "t.yaml" }, { readFile: () => "function transform(d) { return [d] }\n", checkCode: () => ({ hooks: ["transform"], problems: [] }) });
}

const errors = (r: ReturnType<typeof loadChannel>) => r.problems.filter((p) => p.severity === "error").map((p) => `${p.code} ${p.path} ${p.location?.line}:${p.location?.col}`);

describe("fan-out", () => {
  it("a cell with more emits than maxOutputsPerInput is refused at its emit key", () => {
    const r = channel("maxOutputsPerInput: 2", { s: ["a", "b", "c"], a: [], b: [], c: [] });
    expect(errors(r)).toEqual(["DEFINITION_FAN_OUT cells.s.emit 7:33"]);
    expect(r.problems[0].message).toBe('cell "s" has 3 emits, more than `maxOutputsPerInput` (2): every input it accepts would produce more outputs than one input may');
  });

  it("the product of emits along a path may reach maxOutputsPerBlock but not pass it", () => {
    const level = (p: string) => Array.from({ length: 5 }, (_, i) => `${p}${i}`);
    const two: Record<string, string[]> = { s: level("a") };
    for (const a of level("a")) two[a] = level("b");
    for (const b of level("b")) two[b] = [];
    expect(errors(channel("maxOutputsPerBlock: 25", two))).toEqual([]);
    const r = channel("maxOutputsPerBlock: 24", two);
    // Reported once, at the first cell where the path goes over (a0; a1..a4 go over by the same path length).
    expect(errors(r).every((e) => e.startsWith("DEFINITION_FAN_OUT cells.a"))).toBe(true);
    expect(r.problems[0].message).toBe('one input to cell "s" can produce 25 outputs along s -> a0 (s: 5 emits; a0: 5 emits), more than `maxOutputsPerBlock` (24)');
  });

  it("a transform hook multiplies a cell's bound by maxOutputsPerInput", () => {
    const r = channel("maxOutputsPerBlock: 100", { s: ["t"], t: ["u", "v"], u: [], v: [] }, { transform: ["t"] });
    expect(errors(r)).toEqual(["DEFINITION_FAN_OUT cells.t.emit 8:47"]);
    expect(r.problems[0].message).toBe('one input to cell "s" can produce 128 outputs along s -> t (s: 1 emit; t: 2 emits × 64 from its transform hook), more than `maxOutputsPerBlock` (100)');
    expect(errors(channel("maxOutputsPerBlock: 100, maxOutputsPerInput: 50", { s: ["t"], t: ["u", "v"], u: [], v: [] }, { transform: ["t"] }))).toEqual([]);
  });

  it("the longest product of a diamond is the one named", () => {
    const r = channel("maxOutputsPerBlock: 10", { s: ["a", "b"], a: ["c", "x", "y"], b: ["c"], c: ["d", "e"], d: [], e: [], x: [], y: [] });
    expect(errors(r)).toEqual(["DEFINITION_FAN_OUT cells.c.emit 10:33"]);
    expect(r.problems[0].message).toContain("12 outputs along s -> a -> c");
  });

  it("the example-sized defaults leave ordinary pipelines alone", () => {
    expect(errors(channel("", { s: ["a", "b"], a: ["c"], b: ["c"], c: [] }, { transform: ["a"] }))).toEqual([]);
  });
});

describe("limits that contradict each other", () => {
  it("maxInputBytes above maxBlockBytes is refused at maxInputBytes", () => {
    const r = channel("maxInputBytes: 800000, maxBlockBytes: 786432", { s: [] });
    expect(errors(r)).toEqual(["DEFINITION_LIMITS_CONFLICT limits.maxInputBytes 5:26"]);
    expect(r.problems[0].message).toBe("`maxInputBytes` is 800,000 but `maxBlockBytes` is 786,432: an input that large could never enter a block");
  });

  it("a maxBlockBytes below the default maxInputBytes is refused at maxBlockBytes", () => {
    expect(errors(channel("maxBlockBytes: 4096", { s: [] }))).toEqual(["DEFINITION_LIMITS_CONFLICT limits.maxBlockBytes 5:26"]);
  });

  it("a cell's blockTimeMs below its timeMs is refused at blockTimeMs, and below the default timeMs too", () => {
    expect(errors(channel("", { s: [] }, { cellLimits: { s: "timeMs: 100, blockTimeMs: 50" } }))).toEqual(["DEFINITION_LIMITS_CONFLICT cells.s.limits.blockTimeMs 6:69"]);
    expect(errors(channel("", { s: [] }, { cellLimits: { s: "blockTimeMs: 10" } }))).toEqual(["DEFINITION_LIMITS_CONFLICT cells.s.limits.blockTimeMs 6:56"]);
    expect(errors(channel("", { s: [] }, { cellLimits: { s: "timeMs: 100, blockTimeMs: 100" } }))).toEqual([]);
  });
});

describe("explain states the limits", () => {
  it("per channel, per block and per cell, with the transform hook's share", () => {
    const r = channel("maxOutputsPerInput: 8, maxBlockInputs: 50", { s: ["t"], t: ["u"], u: [] }, { transform: ["t"], cellLimits: { t: "timeMs: 20, blockTimeMs: 500" } });
    const text = explainChannel(r.plan as ChannelPlan, { format: "text" });
    expect(text).toContain("Each accepted input may produce at most 8 outputs (262144 bytes of JSON together), and one block of a cell at most 10000 outputs (16777216 bytes); an input that would produce more is rejected.");
    expect(text).toContain("A block carries at most 50 inputs and 786432 bytes of submissions.");
    expect(text).toContain("So one accepted input produces at most 8 outputs here (1 emit, each forwarding up to 8 outputs of the transform hook).");
    expect(text).toContain("20 ms per input, and 500 ms for all its hook calls of one block");
  });
});
