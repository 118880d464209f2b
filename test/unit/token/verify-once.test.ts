/**
 * Each validator verifies each transfer's signature once: a copy that arrives
 * later (gossip, a peer's proposal, a certified block at catch-up) reuses the
 * verdict only when it carries exactly the bytes that were verified, and a
 * forged signature, or a verified signature on other data, is refused on
 * every path. Verifications are counted by wrapping core/keys' verifyBytes.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { GENESIS_HASH } from "../../../runtime/consensus/index.js";
import { genesisTokenChain, tokenApplication } from "../../../runtime/node/token-application.js";
import { signTokenOp, tokenSubmissionChecker } from "../../../runtime/token/index.js";
import { configOf, key, pub, tokenChannel } from "./helpers.js";

const counter = vi.hoisted(() => ({ verifies: 0 }));
vi.mock("../../../runtime/core/keys.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../../runtime/core/keys.js")>();
  return {
    ...real,
    verifyBytes: (k: string, m: Uint8Array, s: string) => {
      counter.verifies++;
      return real.verifyBytes(k, m, s);
    },
  };
});

const plan = tokenChannel(`name: Coin\nsymbol: CN\ngenesis: { alice: 1000, bob: 1000 }\nfee: 1\nfeesTo: vals`);
const config = configOf(plan);
const T = 1_700_000_000_000;
type Sub = { data: Record<string, string | number>; signer: string; signature: string };
const transfer = (from: string, to: string, amount: bigint, nonce: number): Sub => signTokenOp(plan.channel, key(from), { type: "transfer", from: pub(from), to: pub(to), amount, nonce });
const copy = <V>(v: V): V => JSON.parse(JSON.stringify(v)) as V;
/** The same submission with its keys in another order: the same JSON, the same signed bytes. */
const reordered = (s: Sub): Sub => ({ signature: s.signature, signer: s.signer, data: Object.fromEntries(Object.entries(s.data).reverse()) });

/** Copies of `s` that reuse its signature on other bytes, or add, drop or change a field. */
function forgeries(s: Sub): Array<{ what: string; sub: unknown }> {
  return [
    { what: "another amount", sub: { ...copy(s), data: { ...s.data, amount: "999" } } },
    { what: "another destination", sub: { ...copy(s), data: { ...s.data, to: pub("carol") } } },
    { what: "another nonce", sub: { ...copy(s), data: { ...s.data, nonce: (s.data.nonce as number) + 1 } } },
    { what: "the amount as a number", sub: { ...copy(s), data: { ...s.data, amount: Number(s.data.amount) } } },
    { what: "an extra data field", sub: { ...copy(s), data: { ...s.data, memo: "x" } } },
    { what: "a missing data field", sub: { ...copy(s), data: { type: s.data.type, from: s.data.from, to: s.data.to, amount: s.data.amount } } },
    { what: "another signer", sub: { ...copy(s), signer: pub("bob") } },
    { what: "an extra field", sub: { ...copy(s), extra: 1 } },
    { what: "a flipped signature", sub: { ...copy(s), signature: (s.signature[0] === "0" ? "1" : "0") + s.signature.slice(1) } },
  ];
}

beforeEach(() => {
  counter.verifies = 0;
});

describe("a submission's signature is verified once per node", () => {
  it("the checker verifies once; equal copies reuse the verdict, any other bytes are checked again and refused", () => {
    const check = tokenSubmissionChecker(plan.channel);
    const s = transfer("alice", "bob", 5n, 1);
    const first = check(s);
    expect("code" in first).toBe(false);
    expect(counter.verifies).toBe(1);
    for (const c of [copy(s), structuredClone(s), reordered(s)]) expect(check(c)).toEqual(first);
    expect(counter.verifies).toBe(1);
    for (const f of forgeries(s)) {
      const before = counter.verifies;
      const r = check(f.sub);
      expect("code" in r ? r.code : "accepted", f.what).toMatch(/^TOKEN_(NOT_SIGNED_BY_SOURCE|BAD_SUBMISSION|AMOUNT)$/);
      // Each is checked in full: a signature reaches verify only when the shape and signer are right.
      expect(counter.verifies - before, f.what).toBeLessThanOrEqual(1);
    }
    // Refusals are not remembered: the same forgery is checked again.
    const forged = forgeries(s)[0].sub;
    const before = counter.verifies;
    expect(check(copy(forged))).toMatchObject({ code: "TOKEN_NOT_SIGNED_BY_SOURCE" });
    expect(counter.verifies).toBe(before + 1);
    // A checker of another channel verifies (and refuses) on its own.
    expect(tokenSubmissionChecker("other-channel")(copy(s))).toMatchObject({ code: "TOKEN_NOT_SIGNED_BY_SOURCE" });
  });

  it("is bounded: past its limit the oldest verdicts are forgotten and verified again, still accepted", () => {
    const check = tokenSubmissionChecker(plan.channel, 4);
    const subs = Array.from({ length: 6 }, (_, i) => transfer("alice", "bob", 1n, i + 1));
    for (const s of subs) check(s);
    expect(counter.verifies).toBe(6);
    for (const s of subs.slice(4)) expect("code" in check(copy(s))).toBe(false);
    expect(counter.verifies).toBe(6);
    expect("code" in check(copy(subs[0]))).toBe(false);
    expect(counter.verifies).toBe(7);
  });

  it("admission, gossip, proposal and catch-up at one validator: each signature verified once, a forgery refused on every path", () => {
    const genesis = genesisTokenChain(config);
    const pending = [transfer("alice", "bob", 5n, 1), transfer("bob", "alice", 7n, 1), transfer("alice", "bob", 5n, 2)];
    const proposer = tokenApplication(plan, config);
    const value = proposer.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: T, state: genesis, pending: pending as unknown as Json[] }) as unknown as { inputs: Sub[] };
    expect(value.inputs).toHaveLength(3);

    counter.verifies = 0;
    const v = tokenApplication(plan, config);
    // Admission (the API) of the first; gossip brings a copy of it and of the second.
    expect(v.admit(pending[0])).toBeUndefined();
    expect(v.admit(copy(pending[0]))).toBeUndefined();
    expect(v.admit(copy(pending[1]))).toBeUndefined();
    expect(counter.verifies).toBe(2);
    // The proposal's copy: only the third, not yet seen, is verified.
    const ctx = { height: 1, prevHash: GENESIS_HASH, state: genesis };
    expect(v.validateValue(ctx, copy(value) as unknown as Json)).toBe(true);
    expect(counter.verifies).toBe(3);
    // The certified block at catch-up, another copy: nothing verified again.
    expect(v.validateValue({ ...ctx, certified: true }, copy(value) as unknown as Json)).toBe(true);
    expect(v.applyValue(genesis, copy(value) as unknown as Json).height).toBe(1);
    expect(counter.verifies).toBe(3);

    // Forgeries of verified submissions: refused at admission and gossip, and a block carrying one is invalid.
    for (const f of forgeries(pending[0])) {
      expect(v.admit(f.sub), f.what).toMatchObject({ code: expect.stringMatching(/^TOKEN_/) });
      expect(v.admit(copy(f.sub)), f.what).toMatchObject({ code: expect.stringMatching(/^TOKEN_/) });
      const bad = copy(value);
      bad.inputs[0] = f.sub as Sub;
      expect(v.validateValue(ctx, bad as unknown as Json), f.what).toBe(false);
      expect(v.validateValue({ ...ctx, certified: true }, copy(bad) as unknown as Json), f.what).toBe(false);
      expect(() => v.applyValue(genesis, copy(bad) as unknown as Json), f.what).toThrow(expect.objectContaining({ code: "CONSENSUS_APP_DIVERGED" }));
    }
  });

  it("a proposer never proposes a forgery of a submission it verified", () => {
    const genesis = genesisTokenChain(config);
    const good = transfer("alice", "bob", 5n, 1);
    const p = tokenApplication(plan, config);
    expect(p.admit(good)).toBeUndefined();
    const forged = forgeries(good).map((f) => f.sub as Json);
    const value = p.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: T, state: genesis, pending: [...forged, good as unknown as Json] }) as unknown as { inputs: Sub[] };
    expect(value.inputs).toEqual([good]);
  });
});
