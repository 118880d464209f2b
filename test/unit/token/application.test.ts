/**
 * The token cell as a consensus application: a proposer's block validates at
 * another validator that checks every signature itself, a block whose root,
 * verdicts or inputs were changed does not, and the fast block encoding is
 * the RFC 8785 one.
 */
import { describe, expect, it } from "vitest";
import { canonicalString, type Json } from "../../../runtime/core/canonical.js";
import { GENESIS_HASH } from "../../../runtime/consensus/index.js";
import { genesisTokenChain, tokenApplication, tokenBlockText } from "../../../runtime/node/token-application.js";
import { signTokenOp, tokenSigningBytes, tokenSigningText } from "../../../runtime/token/index.js";
import { configOf, key, pub, tokenChannel } from "./helpers.js";

const plan = tokenChannel(`name: Coin\nsymbol: CN\ngenesis: { alice: 1000, bob: 10 }\nfee: 1\nfeesTo: vals`);
const config = configOf(plan);
const T = 1_700_000_000_000;
const transfer = (from: string, to: string, amount: bigint, nonce: number) => signTokenOp(plan.channel, key(from), { type: "transfer", from: pub(from), to: pub(to), amount, nonce }) as unknown as Json;

describe("token application", () => {
  const pending = [transfer("alice", "bob", 5n, 1), transfer("alice", "bob", 5n, 3), transfer("bob", "alice", 100n, 1), { data: { type: "transfer" }, signer: pub("bob"), signature: "00" } as Json];
  const proposer = tokenApplication(plan, config);
  const genesis = genesisTokenChain(config);
  const value = proposer.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: T, state: genesis, pending });
  const copy = () => JSON.parse(JSON.stringify(value)) as Record<string, Json>;

  it("a proposer leaves out what fails its shape or signature, and keeps refusals on the state with their codes", () => {
    const v = value as { inputs: Json[]; verdicts: Json[] };
    // alice's nonce 3 waits behind the gap at 2; bob's overdraft is refused on the state.
    expect(v.inputs).toEqual([pending[0], pending[2]]);
    expect(v.verdicts).toEqual([{ accepted: true }, { accepted: false, code: "TOKEN_INSUFFICIENT_BALANCE" }]);
  });

  it("another validator re-executes a copy and agrees; a changed root, verdict or input does not", () => {
    const other = tokenApplication(plan, config);
    const ctx = { height: 1, prevHash: GENESIS_HASH, state: genesis };
    expect(other.validateValue(ctx, copy() as Json)).toBe(true);
    const root = copy();
    root.stateRoot = "0".repeat(64);
    expect(other.validateValue(ctx, root as Json)).toBe(false);
    const verdict = copy();
    (verdict.verdicts as Json[])[1] = { accepted: true };
    expect(other.validateValue(ctx, verdict as Json)).toBe(false);
    const forged = copy();
    ((forged.inputs as Array<{ data: { amount: string } }>)[0].data).amount = "500";
    expect(other.validateValue(ctx, forged as Json)).toBe(false);
    expect(other.validateValue(ctx, { ...copy(), extra: 1 } as Json)).toBe(false);
    expect(other.validateValue(ctx, null)).toBe(false);
    expect(other.validateValue(ctx, "text")).toBe(false);
    const next = other.applyValue(genesis, copy() as Json);
    expect(next.height).toBe(1);
    expect(next.stateRoot).toBe((value as { stateRoot: string }).stateRoot);
    expect(() => other.applyValue(genesis, root as Json)).toThrow(expect.objectContaining({ code: "CONSENSUS_APP_DIVERGED" }));
  });

  it("remaining inputs drop what the block carried; the gapped one is proposed once the gap is filled", () => {
    const left = proposer.remainingInputs!(pending, value);
    expect(left).toEqual([pending[1], pending[3]]);
    const state1 = proposer.applyValue(genesis, value);
    const filled = proposer.buildValue({ height: 2, round: 0, prevHash: proposer.valueId(value), time: T + 1000, state: state1, pending: [...left, transfer("alice", "bob", 5n, 2)] });
    expect((filled as { verdicts: Json[] }).verdicts).toEqual([{ accepted: true }, { accepted: true }]);
    const replay = proposer.buildValue({ height: 2, round: 0, prevHash: proposer.valueId(value), time: T + 1000, state: state1, pending: [pending[0]] });
    expect((replay as { verdicts: Json[] }).verdicts).toEqual([{ accepted: false, code: "TOKEN_BAD_NONCE" }]);
  });

  it("the fast encodings are RFC 8785", () => {
    expect(tokenBlockText(value)).toBe(canonicalString(value));
    const data = (value as { inputs: Array<{ data: Record<string, unknown> }> }).inputs[0].data;
    expect(new TextEncoder().encode(tokenSigningText(JSON.stringify(plan.channel), data))).toEqual(tokenSigningBytes(plan.channel, data));
    expect(tokenBlockText({ ...(value as object), inputs: [{ data: { a: "é" }, signer: "x", signature: "y" }] } as Json)).toBeUndefined();
    const odd = { ...(value as object), inputs: [{ data: { a: 'q"uote' }, signer: "x", signature: "y" }] } as Json;
    expect(tokenBlockText(odd)).toBeUndefined();
    expect(proposer.valueId(odd)).toMatch(/^[0-9a-f]{64}$/);
  });
});
