/** `statecell test --state`: each cell's state where a test ended, shown readably and unambiguously. */
import { describe, it, expect } from "vitest";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import { formatState, formatTestReport, runChannelTests, shortenForDisplay, shortKey } from "../../../runtime/testing/index.js";
import { loadWithTests } from "./fixture.js";

const alice = keyPairFromName("alice").publicKey;
const bob = keyPairFromName("bob").publicKey;

describe("runChannelTests with the state option", () => {
  const plan = loadWithTests(`  - name: passes
    steps:
      - submit: { cell: intake, data: { id: a, v: 20 } }
      - submit: { cell: ledger, data: { n: 1 }, signer: alice }
  - name: fails at its second step
    steps:
      - submit: { cell: intake, data: { id: b, v: 4 } }
      - state: { cell: intake, match: { total: 5 } }
      - submit: { cell: intake, data: { id: c, v: 6 } }
`);

  it("keeps every cell's state where each test ended, and the signers it used", () => {
    const report = runChannelTests(plan, plan.tests, {}, { state: true });
    const [passed, failed] = report.tests;
    expect(Object.keys(passed.state!)).toEqual(plan.order);
    expect(passed.state).toMatchObject({ intake: { total: 20, ids: ["a"] }, sums: { seen: ["a"] }, ledger: { owner: alice } });
    expect(passed.signers).toEqual({ alice });
    // the failed test stopped before its third step: c is not there
    expect(failed.state).toMatchObject({ intake: { total: 4, ids: ["b"] }, sums: {} });
  });

  it("is off unless asked for", () => {
    const report = runChannelTests(plan, plan.tests);
    expect(report.tests.every((t) => t.state === undefined && t.signers === undefined)).toBe(true);
  });

  it("prints each cell under its test, with signer keys as $key:NAME", () => {
    const text = formatTestReport(runChannelTests(plan, plan.tests, {}, { state: true }), { format: "text" });
    expect(text).toContain("  ✓ passes\n      state at the end:\n        clock: {}\n        intake: {");
    expect(text).toContain(`ledger: {"owner":"$key:alice","last":{"n":1},"records":{"$key:alice":{"n":1}}}`);
    expect(text).toContain("      state where the test stopped:\n");
    expect(text).not.toContain(alice);
  });
});

describe("shortenForDisplay", () => {
  it("names signer keys, as keys, values and inside longer text", () => {
    const shown = shortenForDisplay({ balances: { [alice]: 5, [bob]: -5 }, records: { [`${alice}/0`]: { to: bob } } }, { alice, bob });
    expect(shown).toEqual({ balances: { "$key:alice": 5, "$key:bob": -5 }, records: { "$key:alice/0": { to: "$key:bob" } } });
  });

  it("cuts long hex keys to their first digits, keeping the rest of the key", () => {
    const h = "9f".repeat(32);
    expect(shortenForDisplay({ [h]: 1, [`${h}/7`]: 2, "cen-1@1700000000000": 3 })).toEqual({ "9f9f9f9f…": 1, "9f9f9f9f…/7": 2, "cen-1@1700000000000": 3 });
  });

  it("keeps more of sibling keys that would look alike, until they differ", () => {
    const a = `${"ab".repeat(5)}00${"cd".repeat(26)}`;
    const b = `${"ab".repeat(5)}11${"cd".repeat(26)}`;
    const shown = Object.keys(shortenForDisplay({ [a]: 1, [b]: 2, other: 3 }) as object);
    expect(new Set(shown).size).toBe(3);
    expect(shown.slice(0, 2)).toEqual([`${a.slice(0, 16)}…`, `${b.slice(0, 16)}…`]);
    // keys in different objects may share a form: only siblings are compared
    expect(shortenForDisplay({ x: { [a]: 1 }, y: { [b]: 1 } })).toEqual({ x: { "abababab…": 1 }, y: { "abababab…": 1 } });
  });

  it("cuts a long key that is not hex in its middle, keeping its head and tail", () => {
    const k = `district-${"x".repeat(60)}-total`;
    expect(shortKey(k, 8)).toBe(`${k.slice(0, 24)}…${k.slice(-8)}`);
    expect(shortKey("short", 8)).toBe("short");
  });

  it("keeps __proto__ a key, and shows keys that would read alike once named as they are", () => {
    const v = JSON.parse(`{"__proto__": {"x": 1}, "$key:alice": 1, "${alice}": 2}`) as Record<string, unknown>;
    const shown = shortenForDisplay(v as never, { alice }) as Record<string, unknown>;
    expect(Object.keys(shown)).toEqual(["__proto__", "$key:alice", alice]);
    expect(Object.getPrototypeOf(shown)).toBe(Object.prototype);
  });

  it("formatState lays a large state out one field a line, and counts what it leaves out", () => {
    const records: Record<string, number> = {};
    for (let i = 0; i < 100; i++) records[`r${i}`] = i;
    const lines = formatState({ big: { records }, small: { n: 1 } }, {});
    expect(lines[1]).toBe("  big:");
    expect(lines.slice(2, 4)).toEqual(["    records:", "      r0: 0"]);
    expect(lines).toContain("    … (42 more lines; --format json has the whole state)");
    expect(lines.at(-1)).toBe('  small: {"n":1}');
  });
});
