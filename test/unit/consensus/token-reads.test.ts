/**
 * What a cell that reads the token commits of it, and how validators judge
 * that (consensus/cell-application.ts, docs/token.md "On a node"): the token
 * head `{ height, root }` in the block value, "not valid yet" for a height
 * the validator does not hold, invalid for another root or a head that goes
 * back, and execution of exactly the named view. A cell that does not read
 * the token keeps the block value it had before the field existed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { keyPairFromName, signBytes } from "../../../runtime/core/keys.js";
import { requireChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { cellReadsToken, signedMessage, tokenReadingCells } from "../../../runtime/cells/index.js";
import { cellApplication, genesisCellChain, GENESIS_HASH, type CellApplicationPorts, type CellBlockValue, type CellChainState, type HeldTokenView } from "../../../runtime/consensus/index.js";
import { applyTokenBlock, genesisTokenState, signTokenOp, tokenConfig, tokenStateRoot, tokenView, type TokenState } from "../../../runtime/token/index.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const load = (file: string): ChannelPlan => requireChannel(readFileSync(join(ROOT, "channels", file), "utf8"), { file: `channels/${file}` });
const T = 1_700_000_000_000;
const key = (n: string) => keyPairFromName(n);

describe("which cells read the token", () => {
  it("the rules of channels/token.yaml's claims and poll-weighted's ballots read it; the tally, which reads only its input, does not", () => {
    expect(cellReadsToken(load("token.yaml"), "claims")).toBe(true);
    const poll = load("poll-weighted.yaml");
    expect(tokenReadingCells(poll)).toEqual(["ballots"]);
    expect(cellReadsToken(poll, "tally")).toBe(false);
  });

  it("a channel without a token has no reading cell; a computed path, a placeholder root or a {token} message counts as reading", () => {
    expect(tokenReadingCells(load("poll.yaml"))).toEqual([]);
    const plan = withToken(`
  a: { group: g, accepts: { type: object }, rules: [ { name: r, require: { "!!": [ { var: { cat: [ "tok", "en.supply" ] } } ] }, message: m } ] }
  b: { group: g, accepts: { type: object }, rules: [ { name: r, require: { "==": [ 1, 1 ] }, message: "you hold {token.balances.x}" } ] }
  c: { group: g, accepts: { type: object }, state: [ { set: "seen.{token.supply}", value: 1 } ] }
  d: { group: g, accepts: { type: object }, state: [ { set: "n", value: { var: data.n } } ] }
`);
    expect(tokenReadingCells(plan)).toEqual(["a", "b", "c"]);
  });
});

/** A channel with a token and the cells given (YAML under `cells:`). */
function withToken(cells: string, token = true): ChannelPlan {
  return requireChannel(
    `
channel: tr
version: 1
groups:
  g: { validators: [a, b, c, d], threshold: 3 }
${token ? "token: { name: Coin, symbol: CN, decimals: 0, group: g, genesis: { a: 100 } }" : ""}
cells:
${cells}`,
    { file: "tr.yaml" },
  );
}

describe("a cell that does not read the token", () => {
  const cells = `  d: { group: g, accepts: { type: object }, state: [ { add: n, value: 1 } ] }\n`;
  it("has the same block value and value id in a channel with a token as without one (no token field)", () => {
    const ids = [true, false].map((token) => {
      const app = cellApplication(withToken(cells, token), "d");
      const v = app.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: T, state: genesisCellChain(), pending: [{ data: { x: 1 } }] });
      expect(Object.keys(v as object)).not.toContain("token");
      return app.valueId(v);
    });
    expect(ids[0]).toBe(ids[1]);
  });
});

describe("a cell that reads the token: channels/token.yaml's gold tier", () => {
  const plan = load("token.yaml");
  const names = (n: string) => key(n).publicKey;
  const config = tokenConfig(plan, names);
  const treasury = key("treasury");
  const alice = key("alice");

  // Token heights: 0 the genesis, 1 a block in which the treasury pays alice 200.00 LPT.
  const states: TokenState[] = [genesisTokenState(config)];
  const sub = signTokenOp(plan.channel, treasury, { type: "transfer", from: treasury.publicKey, to: alice.publicKey, amount: 20000n, nonce: 1 });
  states.push(applyTokenBlock(config, states[0], [sub], { height: 1, time: T }).state);
  const heldAll = (h: number): HeldTokenView | undefined => (states[h] === undefined ? undefined : { root: tokenStateRoot(states[h]), view: tokenView(plan.token!, states[h], h) });
  const portsOf = (held: (h: number) => HeldTokenView | undefined, head: number, missing: number[] = []): CellApplicationPorts => ({ token: held, tokenHead: () => head, tokenMissing: (h) => missing.push(h) });

  const claim = () => {
    const data = { tier: "gold" };
    return { data, signer: alice.publicKey, signature: signBytes(alice, signedMessage(plan.channel, "claims", data)) } as unknown as Json;
  };
  const build = (ports: CellApplicationPorts, state: CellChainState = genesisCellChain(), height = 1) =>
    cellApplication(plan, "claims", {}, ports).buildValue({ height, round: 0, prevHash: GENESIS_HASH, time: T + height * 1000, state, pending: [claim()] }) as unknown as CellBlockValue;
  const validate = (ports: CellApplicationPorts, v: unknown, state: CellChainState = genesisCellChain(), height = 1) =>
    cellApplication(plan, "claims", {}, ports).validateValue({ height, prevHash: GENESIS_HASH, state }, v as Json);

  it("the proposer names the freshest token height it holds with its root, and the rules read exactly that view", () => {
    const rich = build(portsOf(heldAll, 1));
    expect(rich.token).toEqual({ height: 1, root: tokenStateRoot(states[1]) });
    expect(rich.verdicts).toEqual([{ accepted: true }]);
    const poor = build(portsOf(heldAll, 0));
    expect(poor.token).toEqual({ height: 0, root: tokenStateRoot(states[0]) });
    expect(poor.verdicts).toEqual([{ accepted: false, code: "CELL_RULE", rule: "holds-enough" }]);
  });

  it("a validator that holds the height and its root finds the block valid; one that does not hold it yet says not valid and asks for it", () => {
    const v = build(portsOf(heldAll, 1));
    expect(validate(portsOf(heldAll, 1), v)).toBe(true);
    const missing: number[] = [];
    const behind = (h: number) => (h === 0 ? heldAll(0) : undefined);
    expect(validate(portsOf(behind, 0, missing), v)).toBe(false);
    expect(missing).toEqual([1]);
    // Once it holds the height, the same value is valid.
    expect(validate(portsOf(heldAll, 1), structuredClone(v))).toBe(true);
  });

  it("another root at that height is invalid, and so is a verdict computed from another view", () => {
    const v = build(portsOf(heldAll, 1));
    const forged = { ...v, token: { height: 1, root: "f".repeat(64) } };
    expect(validate(portsOf(heldAll, 1), forged)).toBe(false);
    // The proposer names height 0 but claims the verdict of height 1: re-execution at height 0 refuses it.
    const lying = { ...v, token: { height: 0, root: tokenStateRoot(states[0]) } };
    expect(validate(portsOf(heldAll, 1), lying)).toBe(false);
    for (const bad of [undefined, null, { height: 1 }, { height: -1, root: v.token!.root }, { height: 1, root: v.token!.root, x: 1 }]) {
      const copy: Record<string, unknown> = { ...v, token: bad };
      if (bad === undefined) delete copy.token;
      expect(validate(portsOf(heldAll, 1), copy)).toBe(false);
    }
  });

  it("the token head never goes back: a proposer holding an older head names the previous block's; a value below it is invalid", () => {
    const app = cellApplication(plan, "claims", {}, portsOf(heldAll, 1));
    const first = app.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: T + 1000, state: genesisCellChain(), pending: [] });
    const after = app.applyValue(genesisCellChain(), first);
    expect(after.token).toEqual({ height: 1, root: tokenStateRoot(states[1]) });
    const prev = app.valueId(first);
    const second = cellApplication(plan, "claims", {}, portsOf(heldAll, 0)).buildValue({ height: 2, round: 0, prevHash: prev, time: T + 2000, state: after, pending: [claim()] }) as unknown as CellBlockValue;
    expect(second.token!.height).toBe(1);
    const back = { ...second, token: { height: 0, root: tokenStateRoot(states[0]) }, verdicts: [{ accepted: false, code: "CELL_RULE", rule: "holds-enough" }] };
    expect(cellApplication(plan, "claims", {}, portsOf(heldAll, 1)).validateValue({ height: 2, prevHash: prev, state: after }, back as unknown as Json)).toBe(false);
  });

  it("applying a certified block whose token height this node does not hold is a divergence, never a quiet fork; without a token port the cell does not start", () => {
    const v = build(portsOf(heldAll, 1));
    expect(() => cellApplication(plan, "claims", {}, portsOf(() => undefined, 0)).applyValue(genesisCellChain(), v as unknown as Json)).toThrow(expect.objectContaining({ code: "CONSENSUS_APP_DIVERGED" }));
    expect(() => cellApplication(plan, "claims")).toThrow(expect.objectContaining({ code: "CONSENSUS_NO_TOKEN_VIEW" }));
  });
});
