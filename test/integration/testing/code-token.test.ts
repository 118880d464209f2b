/**
 * Code hooks read the channel's token as `ctx.token`, the view rules read as
 * `token`: the balances as committed at the token height the block reads,
 * deep-frozen. A validate hook refuses a claim from an account that holds too
 * little, accepts it once a transfer in an earlier block made it rich, and
 * cannot change the view.
 */
import { describe, expect, it } from "vitest";
import { runTestFiles } from "../../../runtime/testing/index.js";

const CHANNEL = `channel: coded-points
version: 1
groups:
  shops: { validators: [s1, s2, s3, s4], threshold: 3 }
token:
  name: Point
  symbol: PT
  decimals: 0
  group: shops
  genesis: { treasury: "1000" }
cells:
  claims:
    group: shops
    accepts: { type: object, required: [tier], properties: { tier: { const: gold }, poke: { type: boolean } } }
    signed: true
    key: { var: signer }
    code: ./claims.js
    state:
      - add: gold
        value: 1
tests:
  - name: the hook reads the balance as committed before the block
    steps:
      - submit: { cell: claims, data: { tier: gold }, signer: alice }
        expect: { rejected: CELL_CODE_REJECT }
      - block: {}
      - submit: { cell: token, data: { type: transfer, from: "$key:treasury", to: "$key:alice", amount: "150", nonce: 1 }, signer: treasury }
        expect: accepted
      - block: {}
      - submit: { cell: claims, data: { tier: gold }, signer: alice }
        expect: accepted
      - state: { cell: claims, match: { gold: 1 } }
  - name: the view is read-only
    steps:
      - submit: { cell: claims, data: { tier: gold, poke: true }, signer: treasury }
        expect: { rejected: CELL_CODE_REJECT }
`;

const HOOKS = `function validate(data, ctx) {
  if (data.poke) {
    // Accepted only if the view could be changed (an assignment to a frozen object throws in strict code, is ignored otherwise).
    try { ctx.token.balances[ctx.signer] = "0"; } catch (e) { return { reject: "frozen" }; }
    return ctx.token.balances[ctx.signer] === "0" ? true : { reject: "frozen" };
  }
  const held = Number(ctx.token.balances[ctx.signer] || "0");
  if (held < 100) return { reject: "holds " + held + " of 100 points" };
  return true;
}
`;

const files: Record<string, string> = { "ch/coded.yaml": CHANNEL, "ch/claims.js": HOOKS };
const readFile = (p: string): string | undefined => (Object.prototype.hasOwnProperty.call(files, p) ? files[p] : undefined);

describe("ctx.token in code hooks", () => {
  it("a validate hook refuses by the committed balance, accepts once a transfer made the account rich, and cannot change the view", () => {
    const report = runTestFiles(["ch/coded.yaml"], { readFile });
    expect(report.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(report.tests.map((t) => [t.name, t.passed, t.failure?.message])).toEqual([
      ["the hook reads the balance as committed before the block", true, undefined],
      ["the view is read-only", true, undefined],
    ]);
  });
});
