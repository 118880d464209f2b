import { describe, expect, it } from "vitest";
import { explainChannel, loadChannel, loadTests, type ChannelPlan } from "../../../runtime/definition/index.js";
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

describe("explainChannel, second pass of the language", () => {
  const REGISTRY = "test/fixtures/good/registry.yaml";
  const registry = loadChannel(fixture(REGISTRY), { file: REGISTRY }, { readFile }).plan as ChannelPlan;
  const testsFile = "test/fixtures/good/registry.test.yaml";
  const fileTests = loadTests(fixture(testsFile), { file: testsFile }, registry);

  it("matches the pinned text and markdown for the registry fixture, with its NAME.test.yaml", () => {
    expect(fileTests.problems).toEqual([]);
    const opts = { testsFile: { file: testsFile, tests: fileTests.tests } };
    expectPinned(explainChannel(registry, { format: "text", ...opts }), "test/fixtures/good/registry.explain.txt");
    expectPinned(explainChannel(registry, { format: "markdown", ...opts }), "test/fixtures/good/registry.explain.md");
  });

  it("lists the tests of the NAME.test.yaml it is given with the channel file's own", () => {
    const text = explainChannel(registry, { format: "text", testsFile: { file: testsFile, tests: fileTests.tests } });
    expect(text).toContain(
      `Tests: 5 tests: 2 tests in the channel file ("a registrar creates a collection", "a reserved name is refused by the code") and 3 tests in ${testsFile} ("the owner mints up to the supply, and a fourth work is refused", "a sold work cannot be withdrawn", "a replayed submission is refused by its key").`,
    );
    const only = explainOf(`channel: t\nversion: 1\ngroups:\n  g: { validators: [a], threshold: 1 }\ncells:\n  c: { group: g, accepts: true }\n`);
    expect(only).toContain("Tests: none.");
  });

  it("reports per operation its schema, rules, key, updates and emits", () => {
    const text = explainChannel(registry, { format: "text" });
    expect(text).toContain("It takes 3 operations, and each submission names one: create-collection, mint, transfer.");
    expect(text).toContain("    Operation mint of cell registry\n      A new work in a collection, by the collection's owner.\n      Accepts schema Mint: an object with required fields collection (text), token (an integer, at least 1), nonce (an integer, at least 0); no other fields.");
    expect(text).toContain("        3. within-supply: requires that state.collections.{data.collection}.minted is less than channel.params.maxSupply (= 3).");
    expect(text).toContain("        - adds 1 to collections.{data.collection}.minted (missing counts as 0)");
    expect(text).toContain('        - sends to archive as operation minted: { work: the text data.collection followed by "/" followed by data.token }');
  });

  it("states a rule's when, prints computed paths as written and the params they read, shortened", () => {
    const text = explainChannel(registry, { format: "text" });
    expect(text).toContain("3. allowed-status: when data.status is not data.from, requires that data.status is in channel.params.next.{data.from}.");
    expect(text).toContain('Its expressions read these params through computed paths:\n      - channel.params.next = {"listed":["sold","withdrawn"],"sold":["listed"],"withdrawn":["listed"]}');
    const devices = Array.from({ length: 2000 }, (_, i) => `d${i}`);
    const long = explainOf(
      `channel: t\nversion: 1\nparams:\n  devices: { ${devices.map((d) => `${d}: 1`).join(", ")} }\ngroups:\n  g: { validators: [a], threshold: 1 }\ncells:\n  c:\n    group: g\n    accepts: true\n    rules: [ { name: known, require: { var: "channel.params.devices.{data.id}" } } ]\n`,
    );
    expect(long).toContain("- channel.params.devices = an object of 2,000 keys");
    expect(long.length).toBeLessThan(3_000);
  });

  it("quotes messages without doubling their quotes", () => {
    const text = explainOf(
      "channel: t\nversion: 1\ngroups:\n  g: { validators: [a], threshold: 1 }\ncells:\n  c:\n    group: g\n    accepts: true\n    rules:\n      - { name: a, require: true, message: '\"{data.x}\" is not an option' }\n      - { name: b, require: true, message: \"it's \\\"x\\\"\" }\n      - { name: c, require: true, message: plain }\n",
    );
    expect(text).toContain(`If not: '"{data.x}" is not an option'.`);
    expect(text).toContain(`If not: “it's "x"”.`);
    expect(text).toContain(`If not: "plain".`);
    expect(text).not.toContain('""');
  });

  it("says which pipeline cells take direct submissions, and which signed cells can be replayed", () => {
    const head = "channel: t\nversion: 1\ngroups:\n  g: { validators: [a], threshold: 1 }\ncells:\n";
    const text = explainOf(`${head}  a: { group: g, accepts: true, signed: true, emit: [ { to: b }, { to: c } ] }\n  b: { group: g, accepts: true, direct: true }\n  c: { group: g, accepts: true }\n`);
    expect(text).toContain("Receives outputs of a, and inputs submitted to it directly (`direct: true`).");
    expect(text).toContain("Receives outputs of a only: an input submitted to it directly is refused.");
    expect(text).toContain("Nothing refuses a replay: with no record key, the same signed submission is accepted again each time anyone submits it");
    expect(explainChannel(registry)).not.toContain("Nothing refuses a replay");
  });

  it("lists the refusals a cell's code declares, with their sentences", () => {
    expect(explainChannel(registry)).toContain('Its hooks may refuse an input by name (the rejection carries the name and its sentence):\n      - reserved-name: "the collection name is kept for the registry itself"');
  });
});
