/**
 * The example channels written with the second version of the language
 * (`operations:`, computed paths, rules with `when:`, named schemas that
 * `$ref` each other): the NFT registry and the todo list, with the other
 * examples beside them. They pass their tests, every rule rejects in some
 * test, and the registry's explain output is pinned and plain English.
 */
import { describe, it, expect } from "vitest";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { runTestFiles, formatTestReport } from "../../../runtime/testing/index.js";
import { explainFile } from "../../../runtime/cli/explain.js";
import { expectPinned } from "../../unit/definition/helpers.js";

const PIN = "test/fixtures/cli/explain-nft-registry.txt";

const disk = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, "utf8") : undefined);

/** Every channel file (not tests files) of channels/. */
function channelFiles(): string[] {
  return readdirSync("channels")
    .filter((n) => n.endsWith(".yaml") && !n.endsWith(".test.yaml"))
    .sort()
    .map((n) => `channels/${n}`);
}

/**
 * json-logic as a reader of explain would meet it: an operator or `var` as a
 * key (`{"var": ...}`, `{ "==": [...] }`, `var:`). Placeholders such as
 * `{data.collection}` in paths and messages are fine: they are written so in
 * the channel file and read as "the collection of the data".
 */
const RAW_JSON_LOGIC = /\{\s*["']?(?:var|==|===|!=|!==|<|<=|>|>=|!|!!|and|or|if|\?:|\?\?|cat|substr|in|missing|missing_some|map|filter|reduce|all|some|none|merge|min|max|preserve|startsWith|endsWith|length|keys|since|daysSince|isoDate|\+|-|\*|\/|%)["']?\s*:/;

describe("the pinned explain output of the NFT registry", () => {
  const text = readFileSync(PIN, "utf8");

  it("reads as plain English: no json-logic in it", () => {
    const found = text.split("\n").filter((l) => RAW_JSON_LOGIC.test(l));
    expect(found).toEqual([]);
    // the check catches json-logic, written as JSON or as YAML, and lets computed paths and data mappings through
    expect(RAW_JSON_LOGIC.test('requires that {"==": [{"var": "signer"}, 1]}')).toBe(true);
    expect(RAW_JSON_LOGIC.test("sends { to: { var: data.to } }")).toBe(true);
    expect(RAW_JSON_LOGIC.test("sets tokens.{data.collection}.{data.token}.owner to data.to")).toBe(false);
    expect(RAW_JSON_LOGIC.test("sends to provenance: { collection: data.collection, from: null }")).toBe(false);
  });

  it("says what each operation takes, checks and changes, in words", () => {
    expect(text).toContain("It takes 3 operations, and each submission names one: create-collection, mint, transfer.");
    expect(text).toContain("only the creator of");
    expect(text).toMatch(/owner-only: requires that state\.tokens\.\{data\.collection\}\.\{data\.token\}\.owner is signer\./);
    expect(text).toContain("Receives outputs of registry only: an input submitted to it directly is refused.");
    expect(text).toMatch(/Tests: 15 tests (in channels\/nft-registry.test.yaml )?\(/);
  });
});

describe("example channels with operations", () => {
  it("pass their tests, and every rule of every cell and operation rejects at least one input", () => {
    const files = channelFiles();
    expect(files).toEqual(expect.arrayContaining(["channels/nft-registry.yaml", "channels/todo.yaml", "channels/poll.yaml"]));
    const report = runTestFiles(files, { readFile: disk });
    const text = formatTestReport(report, { format: "text", coverage: true });
    expect(report.problems, text).toEqual([]);
    expect(report.failed, text).toBe(0);
    expect(report.unrejected, text).toEqual([]);
    expect(report.operations.map((o) => `${o.cell}/${o.op}`)).toEqual(
      expect.arrayContaining(["registry/create-collection", "registry/mint", "registry/transfer", "lists/create", "lists/complete", "lists/reopen", "lists/delete"]),
    );
    expect(report.operations.every((o) => o.accepted > 0 && o.rejected > 0), text).toBe(true);
    for (const name of [
      "a count submitted to the tally directly is refused; the tally counts accepted ballots only",
      "only the source's key can move its points",
      "the districts take only the readings' outputs, never a direct submission",
      "the provenance cell takes only what the registry accepted, never a direct submission",
    ]) {
      expect(report.tests.find((t) => t.name === name)?.passed, name).toBe(true);
    }
  });

  it("fail when the NFT registry lets anyone transfer a token", () => {
    const broken = (p: string): string | undefined => {
      const text = disk(p);
      if (p !== "channels/nft-registry.yaml" || text === undefined) return text;
      const from = 'require: { "==": [ { var: "state.tokens.{data.collection}.{data.token}.owner" }, { var: signer } ] }';
      expect(text).toContain(from);
      return text.replace(from, "require: true");
    };
    const report = runTestFiles(["channels/nft-registry.yaml"], { readFile: broken });
    expect(report.tests.find((t) => t.name === "only a token's owner transfers it, not its creator nor its previous owner")?.failure).toMatchObject({
      code: "TEST_VERDICT",
      verdict: { accepted: true },
    });
    expect(report.unrejected).toEqual(["nft-registry registry/transfer/owner-only"]);
  });

  it("the NFT registry's explain output is pinned", () => {
    const r = explainFile("channels/nft-registry.yaml", "text", disk);
    expect("problems" in r ? r.problems : []).toEqual([]);
    expectPinned((r as { text: string }).text, PIN);
  });
});
