import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalString } from "../../../runtime/core/canonical.js";
import {
  applyTokenBlock,
  balanceOf,
  allowanceOf,
  decodeTokenState,
  encodeTokenState,
  genesisTokenState,
  nonceOf,
  signTokenOp,
  tokenStateRoot,
  tokenView,
  PendingTransfers,
  type TokenOp,
} from "../../../runtime/token/index.js";
import { configOf, key, pub, tokenChannel } from "./helpers.js";

const plan = tokenChannel(`
name: Coin
symbol: CN
decimals: 2
genesis: { alice: "100.00", bob: 5 }
maxSupply: "10100"
fee: "0.01"
feesTo: vals
rewards: { amount: "1.00" }
`);
const config = configOf(plan);
const T = 1_700_000_000_000;
const transfer = (from: string, to: string, amount: bigint, nonce: number): TokenOp => ({ type: "transfer", from: pub(from), to: pub(to), amount, nonce });
const sign = (who: string, op: TokenOp) => signTokenOp(plan.channel, key(who), op);
const codes = (r: { verdicts: Array<{ accepted: boolean; code?: string }> }) => r.verdicts.map((v) => (v.accepted ? "ok" : v.code));

describe("token plan", () => {
  it("compiles amounts to base units and keeps the supply", () => {
    expect(plan.token).toMatchObject({ decimals: 2, genesis: { alice: "10000", bob: "500" }, supply: "10500", maxSupply: "1010000", fee: { amount: "1" }, feesTo: { group: "vals" }, rewards: { amount: "100", group: "vals" } });
  });
  it("refuses a maximum supply below the genesis supply, an unknown group and a fee reading state", () => {
    expect(() => tokenChannel(`name: C\nsymbol: CN\ngenesis: { a: 10 }\nmaxSupply: 5`)).toThrow(/DEFINITION_BAD_VALUE token.maxSupply/);
    expect(() => tokenChannel(`name: C\nsymbol: CN\nfeesTo: nobody`)).toThrow(/DEFINITION_UNKNOWN_GROUP/);
    expect(() => tokenChannel(`name: C\nsymbol: CN\nfee: { expression: { var: state.x } }`)).toThrow(/DEFINITION_UNKNOWN_ROOT/);
    expect(() => tokenChannel(`name: C\nsymbol: CN\ngenesis: { a: 1e30 }`)).toThrow(/DEFINITION_BAD_VALUE/);
    expect(() => tokenChannel(`name: C\nsymbol: CN\ngenesis: { "not a key!": 1 }`)).toThrow(/DEFINITION_BAD_VALUE/);
  });
});

describe("token blocks", () => {
  it("a signed transfer moves amount, pays the fee to the validators and keeps the supply", () => {
    const s0 = genesisTokenState(config);
    const r = applyTokenBlock(config, s0, [sign("alice", transfer("alice", "carol", 2500n, 1))], { height: 1, time: T });
    expect(codes(r)).toEqual(["ok"]);
    expect(balanceOf(r.state, pub("alice"))).toBe(10000n - 2501n);
    expect(balanceOf(r.state, pub("carol"))).toBe(2500n);
    expect(r.state.supply).toBe(s0.supply);
    const vals = ["v1", "v2", "v3", "v4"].map(pub).sort();
    expect(balanceOf(r.state, vals[0])).toBe(1n);
    expect(nonceOf(r.state, pub("alice"))).toBe(1);
    expect(r.events).toEqual([{ event: "Transfer", from: pub("alice"), to: pub("carol"), amount: "2500", fee: "1", nonce: 1, input: 0 }]);
    expect(balanceOf(s0, pub("alice"))).toBe(10000n);
  });

  it("each refusal has its code and changes nothing", () => {
    const s0 = genesisTokenState(config);
    const good = sign("alice", transfer("alice", "bob", 10n, 1));
    const forged = { ...sign("alice", transfer("alice", "bob", 10n, 1)), signer: pub("mallory") };
    const badSig = { ...good, signature: good.signature.replace(/^./, (c) => (c === "0" ? "1" : "0")) };
    const r = applyTokenBlock(
      config,
      s0,
      [
        good,
        good,
        sign("alice", transfer("alice", "bob", 10n, 5)),
        sign("alice", transfer("alice", "alice", 10n, 2)),
        sign("bob", transfer("bob", "alice", 510n, 1)),
        forged,
        badSig,
        { data: { ...good.data, amount: "0" }, signer: pub("alice"), signature: "00" },
        { data: { ...good.data, amount: "-1" }, signer: pub("alice"), signature: "00" },
        { data: { ...good.data, to: "ALICE" }, signer: pub("alice"), signature: "00" },
        { data: { ...good.data, extra: 1 }, signer: pub("alice"), signature: "00" },
        { data: good.data, signer: pub("alice") },
        sign("carol", { type: "transferFrom", spender: pub("carol"), from: pub("alice"), to: pub("dave"), amount: 1n, nonce: 1 }),
        null,
        "text",
      ],
      { height: 1, time: T },
    );
    expect(codes(r)).toEqual([
      "ok",
      "TOKEN_BAD_NONCE",
      "TOKEN_BAD_NONCE",
      "TOKEN_SAME_ACCOUNT",
      "TOKEN_INSUFFICIENT_BALANCE",
      "TOKEN_NOT_SIGNED_BY_SOURCE",
      "TOKEN_NOT_SIGNED_BY_SOURCE",
      "TOKEN_AMOUNT",
      "TOKEN_AMOUNT",
      "TOKEN_BAD_ACCOUNT",
      "TOKEN_BAD_SUBMISSION",
      "TOKEN_NOT_SIGNED_BY_SOURCE",
      "TOKEN_ALLOWANCE_EXCEEDED",
      "TOKEN_BAD_SUBMISSION",
      "TOKEN_BAD_SUBMISSION",
    ]);
    expect(r.events).toHaveLength(1);
    expect(nonceOf(r.state, pub("bob"))).toBe(0);
  });

  it("approve, transferFrom within the allowance, then an exceeded and an expired one", () => {
    const s0 = genesisTokenState(config);
    const r1 = applyTokenBlock(config, s0, [sign("alice", { type: "approve", owner: pub("alice"), spender: pub("carol"), amount: 303n, nonce: 1, expires: T + 1000 })], { height: 1, time: T });
    expect(codes(r1)).toEqual(["ok"]);
    expect(r1.events[0]).toMatchObject({ event: "Approval", amount: "303", expires: T + 1000 });
    const tf = (amount: bigint, nonce: number) => sign("carol", { type: "transferFrom", spender: pub("carol"), from: pub("alice"), to: pub("dave"), amount, nonce });
    const r2 = applyTokenBlock(config, r1.state, [tf(200n, 1), tf(200n, 2), tf(101n, 2)], { height: 2, time: T + 10 });
    expect(codes(r2)).toEqual(["ok", "TOKEN_ALLOWANCE_EXCEEDED", "ok"]);
    expect(allowanceOf(r2.state, pub("alice"), pub("carol"))).toBe(0n);
    expect(balanceOf(r2.state, pub("dave"))).toBe(301n);
    const r3 = applyTokenBlock(config, r1.state, [tf(1n, 1)], { height: 2, time: T + 1000 });
    expect(codes(r3)).toEqual(["TOKEN_ALLOWANCE_EXPIRED"]);
  });

  it("rewards are minted at each snapshot epoch, split among the validators, never past the maximum supply", () => {
    let s = genesisTokenState(config);
    const minted: string[] = [];
    for (let h = 1; h <= 30; h++) {
      const r = applyTokenBlock(config, s, [], { height: h, time: T + h });
      for (const e of r.events) if (e.event === "Transfer" && e.from === null) minted.push(e.amount);
      s = r.state;
    }
    // Snapshots every 5 blocks: epochs 1..6; the cap (10100.00) leaves room for 10000 - 10500 + ... : genesis 10500, max 1010000.
    expect(minted.length).toBe(6 * 4);
    expect(s.supply).toBe(10500n + 600n);
    const capped = tokenChannel(`name: C\nsymbol: CN\ngenesis: { a: 100 }\nmaxSupply: 102\nrewards: { amount: 3 }`);
    const cc = configOf(capped);
    let t = genesisTokenState(cc);
    for (let h = 1; h <= 40; h++) t = applyTokenBlock(cc, t, [], { height: h, time: T + h }).state;
    expect(t.supply).toBe(102n);
  });

  it("a fee expression of the transfer, burned; a fault is TOKEN_FEE", () => {
    const p = tokenChannel(`name: C\nsymbol: CN\ngenesis: { alice: 100000 }\nfee: { expression: { max: [ 1, { "/": [ { "-": [ { var: data.amount }, { "%": [ { var: data.amount }, 1000 ] } ] }, 1000 ] } ] } }`);
    const c = configOf(p);
    const s0 = genesisTokenState(c);
    const op = (amount: bigint, nonce: number) => signTokenOp(p.channel, key("alice"), { type: "transfer", from: pub("alice"), to: pub("bob"), amount, nonce });
    const r = applyTokenBlock(c, s0, [op(5500n, 1), op(10n, 2)], { height: 1, time: T });
    expect(codes(r)).toEqual(["ok", "ok"]);
    expect(r.state.supply).toBe(100000n - 5n - 1n);
    const bad = tokenChannel(`name: C\nsymbol: CN\ngenesis: { alice: 100 }\nfee: { expression: { "-": [ 0, { var: data.amount } ] } }`);
    const bc = configOf(bad);
    const rb = applyTokenBlock(bc, genesisTokenState(bc), [signTokenOp(bad.channel, key("alice"), { type: "transfer", from: pub("alice"), to: pub("bob"), amount: 1n, nonce: 1 })], { height: 1, time: T });
    expect(codes(rb)).toEqual(["TOKEN_FEE"]);
  });

  it("a transfer signed for another channel does not verify here", () => {
    const other = signTokenOp("other-channel", key("alice"), transfer("alice", "bob", 1n, 1));
    expect(codes(applyTokenBlock(config, genesisTokenState(config), [other], { height: 1, time: T }))).toEqual(["TOKEN_NOT_SIGNED_BY_SOURCE"]);
  });
});

describe("token state encoding", () => {
  it("is RFC 8785, decodes to the same root, and refuses a broken supply", () => {
    const s0 = genesisTokenState(config);
    const r = applyTokenBlock(config, s0, [sign("alice", transfer("alice", "carol", 2500n, 1)), sign("alice", { type: "approve", owner: pub("alice"), spender: pub("bob"), amount: 7n, nonce: 2, expires: null })], { height: 1, time: T });
    const text = encodeTokenState(r.state);
    expect(text).toBe(canonicalString(JSON.parse(text)));
    expect(tokenStateRoot(decodeTokenState(text))).toBe(r.root);
    expect(r.root).not.toBe(tokenStateRoot(s0));
    const broken = text.replace(/"supply":"\d+"/, '"supply":"1"');
    expect(() => decodeTokenState(broken)).toThrow(expect.objectContaining({ code: "TOKEN_BAD_STATE" }));
  });
  it("blocks keep the state's maps in key order, and a state in any order encodes to the same text", () => {
    // Keys arrive in no order: genesis as written, new accounts and nonces as blocks reach them.
    let s = genesisTokenState(config);
    const names = ["carol", "dave", "erin", "frank", "grace"];
    for (let i = 0; i < names.length; i++) {
      s = applyTokenBlock(config, s, [sign("alice", transfer("alice", names[i], 10n + BigInt(i), i + 1)), sign("bob", transfer("bob", names[names.length - 1 - i], 3n, i + 1))], { height: i + 1, time: T + i }).state;
      for (const m of [s.balances, s.nonces, s.allowances]) expect([...m.keys()]).toEqual([...m.keys()].sort());
    }
    const text = encodeTokenState(s);
    expect(text).toBe(canonicalString(JSON.parse(text)));
    const reversed = <V>(m: ReadonlyMap<string, V>) => new Map([...m].reverse());
    const shuffled = { ...s, balances: reversed(s.balances), nonces: reversed(s.nonces) };
    expect([...shuffled.balances.keys()]).not.toEqual([...s.balances.keys()]);
    expect(encodeTokenState(shuffled)).toBe(text);
    expect(tokenStateRoot(shuffled)).toBe(tokenStateRoot(s));
  });
  it("a state of many accounts encodes and hashes the same in pieces as the general encoder writes it whole", () => {
    // Hundreds of entries in each map: the writer hands its text on in pieces, so this crosses many piece boundaries.
    const hex = (i: number, salt: string) => createHash("sha256").update(`${salt}${i}`).digest("hex");
    const accounts = Array.from({ length: 300 }, (_, i) => hex(i, "account")).sort();
    const balances = new Map(accounts.map((k, i) => [k, BigInt(i + 1) * 1_000_000_007n]));
    const nonces = new Map(accounts.slice(0, 170).map((k, i) => [k, i + 1]));
    const allowances = new Map(
      accounts.slice(0, 130).map((k, i) => [`${k}:${accounts[299 - i]}`, { amount: BigInt(7 * i + 1), expires: i % 3 === 0 ? null : 1_700_000_000_000 + i }] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    );
    const supply = [...balances.values()].reduce((a, b) => a + b, 0n);
    const state = { balances, nonces, allowances, supply, epoch: 4 };
    const whole = canonicalString({
      allowances: Object.fromEntries([...allowances].map(([k, a]) => [k, { amount: a.amount.toString(), expires: a.expires }])),
      balances: Object.fromEntries([...balances].map(([k, v]) => [k, v.toString()])),
      epoch: 4,
      nonces: Object.fromEntries(nonces),
      supply: supply.toString(),
    });
    expect(encodeTokenState(state)).toBe(whole);
    expect(tokenStateRoot(state)).toBe(createHash("sha256").update(`statecell:token:state:${whole}`).digest("hex"));
    expect(tokenStateRoot(decodeTokenState(whole))).toBe(tokenStateRoot(state));
  });
  it("a view lists balances in key order whatever order the state's map keeps, with the state's root", () => {
    let s = genesisTokenState(config);
    s = applyTokenBlock(config, s, [sign("alice", transfer("alice", "carol", 5n, 1)), sign("bob", transfer("bob", "dave", 3n, 1))], { height: 1, time: T }).state;
    const reversed = { ...s, balances: new Map([...s.balances].reverse()) };
    const sorted = [...s.balances.keys()].sort();
    for (const st of [s, reversed]) {
      const view = tokenView(config.plan, st, 1) as { root: string; balances: Record<string, number> };
      expect(Object.keys(view.balances)).toEqual(sorted);
      expect(view.balances[pub("carol")]).toBe(5);
      expect(view.root).toBe(tokenStateRoot(s));
    }
    // A root the caller holds is the view's root as given (a chain state carries it), not hashed again.
    expect((tokenView(config.plan, { ...s }, 1, tokenStateRoot(s)) as { root: string }).root).toBe(tokenStateRoot(s));
  });
  it("is pinned: the genesis root of a fixed token", () => {
    const p = tokenChannel(`name: C\nsymbol: CN\ngenesis: { ${"ab".repeat(32)}: 12 }`);
    const s = genesisTokenState(configOf(p));
    expect(encodeTokenState(s)).toBe(`{"allowances":{},"balances":{"${"ab".repeat(32)}":"12"},"epoch":-1,"nonces":{},"supply":"12"}`);
    expect(tokenStateRoot(s)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("pending transfers behind a nonce gap", () => {
  it("wait, are replaced by the same nonce, become ready when the gap fills, and expire", () => {
    const pool = new PendingTransfers<string>({ expiresAfter: 60, perAccount: 2 });
    const op = (n: number): TokenOp => transfer("alice", "bob", 1n, n);
    expect(pool.add(op(2), "a2", 0, 0)).toEqual({});
    expect(pool.ready(() => 0, 10)).toEqual([]);
    expect(pool.add(op(2), "a2'", 0, 10)).toMatchObject({ replaced: { item: "a2" } });
    expect(pool.add(op(3), "a3", 0, 10)).toEqual({});
    expect(pool.add(op(4), "a4", 0, 10)).toMatchObject({ code: "TOKEN_PENDING_FULL" });
    // The next nonce fills the gap, so it is taken even when the account is full.
    expect(pool.add(op(1), "a1", 0, 10)).toEqual({});
    expect(pool.ready(() => 0, 10)).toEqual(["a1", "a2'", "a3"]);
    pool.remove(pub("alice"), 1, "a1");
    expect(pool.add(op(1), "old", 1, 10)).toMatchObject({ code: "TOKEN_BAD_NONCE" });
    expect(pool.ready(() => 1, 10)).toEqual(["a2'", "a3"]);
    expect(pool.prune(() => 0, 59_000)).toEqual([]);
    expect(pool.prune(() => 0, 61_000).map((e) => e.item)).toEqual(["a2'", "a3"]);
    expect(pool.size).toBe(0);
  });
});
