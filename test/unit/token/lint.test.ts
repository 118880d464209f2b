/** Lint and explain of `token:`: every part checked with a located problem, and stated in plain English. */
import { describe, expect, it } from "vitest";
import { loadChannel } from "../../../runtime/definition/index.js";
import { explainChannel } from "../../../runtime/definition/explain.js";
import { tokenChannel } from "./helpers.js";

const base = (token: string, more = "") => `channel: coin
version: 1
groups:
  vals: { validators: [v1, v2, v3, v4], threshold: 3 }
  spare: { validators: [s1, s2, s3, s4], threshold: 3 }
schemas:
  S: { type: object }
cells:
  one: { group: vals, accepts: S }
${more}
token:
${token}
`;
const problems = (text: string) => loadChannel(text, { file: "coin.yaml" }).problems.map((p) => `${p.severity} ${p.code} ${p.path}`);

describe("token lint", () => {
  it("needs a group when neither snapshots nor a single group decide it", () => {
    expect(problems(base("  name: C\n  symbol: CN"))).toContain("error DEFINITION_MISSING_KEY token");
  });
  it("rewards need snapshots; a cell may not be named token; a group only the token uses counts as used", () => {
    expect(problems(base("  name: C\n  symbol: CN\n  group: vals\n  rewards: { amount: 1 }"))).toContain("error DEFINITION_MISSING_KEY token.rewards");
    const cellNamedToken = problems(base("  name: C\n  symbol: CN\n  group: vals").replace("  one: { group: vals, accepts: S }", "  one: { group: vals, accepts: S }\n  token: { group: vals, accepts: S }"));
    expect(cellNamedToken).toContain("error DEFINITION_DUPLICATE_NAME cells.token");
    expect(problems(base("  name: C\n  symbol: CN\n  group: spare")).filter((p) => p.includes("UNUSED_GROUP"))).toEqual([]);
    expect(problems(base("  name: C\n  symbol: CN\n  group: vals")).filter((p) => p.includes("UNUSED_GROUP"))).toEqual(["warning DEFINITION_UNUSED_GROUP groups.spare"]);
  });
  it("refuses amounts that are not exact, a bad symbol and a fee of the wrong form, each where it is written", () => {
    const p = problems(base('  name: C\n  symbol: cn\n  group: vals\n  decimals: 1\n  genesis: { a: "1.25", b: -1, c: "12345678901234567890123456789012345678901234567890" }\n  fee: { amount: "x" }\n  feesTo: nowhere'));
    expect(p.filter((x) => x.startsWith("error")).map((x) => x.split(" ").slice(1, 3).join(" "))).toEqual(
      expect.arrayContaining(["DEFINITION_BAD_VALUE token.genesis.a", "DEFINITION_BAD_VALUE token.fee.amount", "DEFINITION_UNKNOWN_GROUP token.feesTo"]),
    );
    expect(p.some((x) => x.includes("token.genesis.c") || x.includes("token.genesis"))).toBe(true);
    expect(p.some((x) => x.includes("token.symbol"))).toBe(true);
  });
});

describe("token explain", () => {
  it("states supply, fee, where fees go, rewards and the pending policy", () => {
    const plan = tokenChannel(`name: Coin\nsymbol: CN\ndecimals: 2\ngenesis: { alice: "10.50" }\nmaxSupply: 100\nfee: "0.05"\nrewards: { amount: "1.00" }\npending: { expiresAfter: 30, perAccount: 8 }`);
    const text = explainChannel(plan, { format: "text" });
    expect(text).toContain("Token: Coin (CN) with 2 decimals (1 CN = 100 base units). The genesis supply of 10.50 CN is held by 1 account: alice 10.50.");
    expect(text).toContain("The supply never exceeds 100.00 CN; the sum of all balances always equals the supply.");
    expect(text).toContain("Every transfer pays a fee of 0.05 CN; fees are burned (they leave the supply).");
    expect(text).toContain("At every snapshot the token cell mints 1.00 CN, split among the validators of group vals, until the supply reaches 100.00 CN.");
    expect(text).toContain("A node keeps at most 8 submissions per account waiting behind a nonce gap, each at most 30 s; one with the same nonce replaces it.");
  });
});
