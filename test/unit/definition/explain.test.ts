import { describe, expect, it } from "vitest";
import { explainChannel, loadChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { expectPinned, fixture, readFile } from "./helpers.js";

const FILE = "test/fixtures/good/library.yaml";
const plan = loadChannel(fixture(FILE), { file: FILE }, { readFile }).plan as ChannelPlan;

function explainOf(yaml: string): string {
  const r = loadChannel(yaml, { file: "t.yaml" });
  expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
  return explainChannel(r.plan as ChannelPlan, { format: "text" });
}

describe("explainChannel", () => {
  it("matches the pinned text for the library fixture", () => {
    expectPinned(explainChannel(plan, { format: "text" }), "test/fixtures/good/library.explain.txt");
  });

  it("matches the pinned markdown for the library fixture", () => {
    expectPinned(explainChannel(plan, { format: "markdown" }), "test/fixtures/good/library.explain.md");
  });

  it("states who signs and the fault tolerances of each group", () => {
    const text = explainChannel(plan, { format: "text" });
    expect(text).toContain("3 of 4 must sign (threshold 3).");
    expect(text).toContain("Safety holds while at most 1 validator is Byzantine (2q-n-1); liveness holds while at most 1 is offline (n-q).");
    expect(text).toContain('5 of 7 must sign (threshold "2/3", strictly more than 2/3 of 7).');
    expect(text).toContain("A centralized service: the single validator archive decides alone. It tolerates 0 Byzantine validators for safety and 0 offline for liveness.");
  });

  it("says 4 of 4 tolerates 3 Byzantine and none offline", () => {
    const text = explainOf("channel: t\nversion: 1\ngroups:\n  g: { validators: [a, b, c, d], threshold: all }\ncells:\n  c: { group: g, accepts: true }\n");
    expect(text).toContain('4 of 4 must sign (threshold "all").');
    expect(text).toContain("at most 3 validators are Byzantine (2q-n-1); liveness holds while at most 0 are offline");
  });

  it("renders every rule with its name, its condition in words and its message", () => {
    const text = explainChannel(plan, { format: "text" });
    expect(text).toContain('2. not-in-future: requires that data.at is at most block.time. If not: "loan time {data.at} is after the block time".');
    expect(text).toContain("adds 1 to open.{data.member} (missing counts as 0)");
    expect(text).toContain("sends to overdue when");
    expect(text).toMatch(/Code: \.\/library\/overdue\.js \(sha256 [0-9a-f]{16}…\) defines the reduce hook; it runs in an isolated sandbox limited to 16 MB of memory and 20 ms per input, and 2000 ms for all its hook calls of one block \(inputs not reached in time are rejected\)\./);
  });

  it("lists cells in pipeline order and draws the pipeline in markdown", () => {
    const text = explainChannel(plan, { format: "text" });
    expect(text.indexOf("Cell loans")).toBeLessThan(text.indexOf("Cell overdue"));
    expect(text.indexOf("Cell overdue")).toBeLessThan(text.indexOf("Cell archive"));
    const md = explainChannel(plan, { format: "markdown" });
    expect(md).toContain('```mermaid\nflowchart LR\n  c0["loans<br/>group: desks"]\n  c1["overdue<br/>group: city"]\n  c2["archive<br/>group: archive"]\n  c0 -->|when| c1\n  c1 --> c2\n```');
    expect(text).not.toContain("mermaid");
  });

  it("summarises schemas with required fields, types and bounds", () => {
    const text = explainChannel(plan, { format: "text" });
    expect(text).toContain(
      'Accepts schema Loan: an object with required fields loan (text, 3 to 40 characters), member (text), book (text, matching ^isbn-[0-9]+$), at (an integer, at least 0); optional field branch (one of "north", "south", "east", "west"); no other fields.',
    );
    expect(text).toContain("Accepts any JSON value.");
  });
});
