/**
 * The token cell as a consensus application: a proposer's block validates at
 * another validator that checks every signature itself, a block whose root,
 * verdicts or inputs were changed does not, and the fast block encoding is
 * the RFC 8785 one.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalString, type Json } from "../../../runtime/core/canonical.js";
import { GENESIS_HASH } from "../../../runtime/consensus/index.js";
import { inputId } from "../../../runtime/ledger/index.js";
import { genesisTokenChain, tokenApplication, tokenBlockText } from "../../../runtime/node/token-application.js";
import { parseTokenOp, signTokenOp, tokenSigningBytes, tokenSigningText } from "../../../runtime/token/index.js";
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
    const a = pub("alice");
    const b = pub("bob");
    const every: Array<Record<string, unknown>> = [
      data,
      { type: "approve", owner: a, spender: b, amount: "7", nonce: 2 },
      { type: "approve", owner: a, spender: b, amount: "0", nonce: 3, expires: null },
      { type: "approve", owner: a, spender: b, amount: "12345678901234567890", nonce: 9007199254740991, expires: 1_700_000_000_000 },
      { type: "transferFrom", spender: b, from: a, to: b, amount: "1", nonce: 1 },
      // Keys in any order: the text is sorted all the same.
      { nonce: 4, to: b, type: "transfer", amount: "3", from: a },
    ];
    for (const d of every) {
      expect(parseTokenOp(d)).not.toHaveProperty("code");
      expect(new TextEncoder().encode(tokenSigningText(JSON.stringify(plan.channel), d))).toEqual(tokenSigningBytes(plan.channel, d));
    }
    // Escapes and non-ASCII in sorted objects: JSON.stringify's text is the RFC's.
    for (const odd of [{ a: "é" }, { a: 'q"uote', b: "back\\slash\n" }, { "": 1, a: [1.5, -0, 1e21, null, true] }]) {
      const v = { ...(value as object), inputs: [{ data: odd, signature: "y", signer: "x" }] } as unknown as Json;
      expect(tokenBlockText(v)).toBe(canonicalString(v));
    }
    // Keys out of order, a lone surrogate, or what JSON cannot carry go to the general encoder.
    const unsorted = { ...(value as object), inputs: [{ signer: "x", data: { a: 1 }, signature: "y" }] } as Json;
    const lone = { ...(value as object), inputs: [{ data: { a: "\ud800" }, signature: "y", signer: "x" }] } as Json;
    const numeric = { ...(value as object), inputs: [{ data: { "10": 1, "9": 2 }, signature: "y", signer: "x" }] } as Json;
    for (const v of [unsorted, lone, numeric, { ...(value as object), time: Number.NaN } as unknown as Json]) expect(tokenBlockText(v)).toBeUndefined();
    for (const v of [unsorted, numeric]) expect(proposer.valueId(v)).toBe(proposer.valueId(JSON.parse(canonicalString(v)) as Json));
    // RFC 8785 has no text for a lone surrogate: the general encoder refuses it (the consensus step drops such a proposal).
    expect(() => proposer.valueId(lone)).toThrow();
  });

  it("the value id is sha256 over the tag and the RFC 8785 text, for blocks of any size and key order", () => {
    const id = (v: Json) => createHash("sha256").update(`statecell:token-block:${canonicalString(v)}`).digest("hex");
    const input = (i: number) => ({ data: { amount: String(i + 1), from: pub("alice"), nonce: i + 1, to: pub("bob"), type: "transfer" }, signature: i.toString(16).padStart(128, "0"), signer: pub("alice") });
    for (const n of [0, 1, 199, 200, 201, 450]) {
      const big = { ...(value as object), inputs: Array.from({ length: n }, (_, i) => input(i)), verdicts: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? { accepted: false, code: "TOKEN_BAD_NONCE" } : { accepted: true })) } as unknown as Json;
      expect(proposer.valueId(big), `${n} inputs`).toBe(id(big));
      const unsorted = JSON.parse(JSON.stringify(big, (_k, x: unknown) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).reverse()) : x))) as Json;
      expect(proposer.valueId(unsorted), `${n} inputs, keys reversed`).toBe(id(big));
    }
    expect(proposer.valueId(value)).toBe(id(value));
  });

  it("a proposer writes the inputs with sorted keys: the same JSON, input ids and verdicts as the submissions sent", () => {
    const v = value as { inputs: Array<Record<string, unknown>> };
    for (const input of v.inputs) {
      expect(Object.keys(input)).toEqual(["data", "signature", "signer"]);
      expect(Object.keys(input.data as object)).toEqual([...Object.keys(input.data as object)].sort());
    }
    expect(v.inputs.map((i) => inputId(i as Json))).toEqual([pending[0], pending[2]].map((p) => inputId(p)));
    expect(tokenBlockText(value)).toBeDefined();
  });
});
