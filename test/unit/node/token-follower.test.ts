/**
 * The token follower of a node outside the token's group
 * (runtime/node/token-follower.ts): it keeps a token block only when its
 * certificate verifies against the token group's keys and the token state
 * machine re-executes it to the committed root; it stores what it keeps in the
 * ledger before any cell reads it, so a restart finds every height again.
 * Real SQLite ledger, real signatures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { keyPairFromName, signBytes } from "../../../runtime/core/keys.js";
import { requireChannel } from "../../../runtime/definition/index.js";
import { cachingVerifier, GENESIS_HASH, precommitString, validatorSet, type CertifiedBlock } from "../../../runtime/consensus/index.js";
import { openLedger } from "../../../runtime/ledger/index.js";
import { signTokenOp, tokenConfig, tokenStateRoot, TOKEN_CELL } from "../../../runtime/token/index.js";
import { silentLogger } from "../../../runtime/node/log.js";
import { TokenFollower } from "../../../runtime/node/token-follower.js";
import { tokenCodec } from "../../../runtime/node/token-host.js";
import { genesisTokenChain, tokenApplication, type TokenChainState } from "../../../runtime/node/token-application.js";

const plan = requireChannel(
  `
channel: tf
version: 1
groups:
  bank: { validators: [b1, b2, b3, b4], threshold: 3 }
  club: { validators: [b1, c1, c2, c3], threshold: 3 }
token: { name: Coin, symbol: CN, decimals: 0, group: bank, genesis: { alice: 1000 } }
cells:
  members:
    group: club
    accepts: { type: object }
    signed: true
    rules: [ { name: rich, require: { ">=": [ { var: [ "token.balances.{signer}", 0 ] }, 500 ] }, message: poor } ]
`,
  { file: "tf.yaml" },
);
const key = (n: string) => keyPairFromName(`tf-${n}`);
const config = tokenConfig(plan, (n) => key(n).publicKey);
const bank = validatorSet(plan.groups.bank, Object.fromEntries(["b1", "b2", "b3", "b4"].map((n) => [n, key(n).publicKey])));
const T = 1_700_000_000_000;

function certify(height: number, valueId: string, signers: string[]): CertifiedBlock["certificate"] {
  const text = new TextEncoder().encode(precommitString("tf", TOKEN_CELL, height, 0, valueId));
  return { channel: "tf", cell: TOKEN_CELL, height, round: 0, valueId, signatures: signers.map((s) => ({ validator: key(s).publicKey, signature: signBytes(key(s), text) })) };
}

/** Three token blocks, as the bank's group certified them: alice pays bob 100 in each. */
function bankChain(): { blocks: CertifiedBlock[]; roots: string[] } {
  const app = tokenApplication(plan, config);
  let chain: TokenChainState = genesisTokenChain(config);
  let prev = GENESIS_HASH;
  const blocks: CertifiedBlock[] = [];
  const roots = [chain.stateRoot];
  for (let h = 1; h <= 3; h++) {
    const sub = signTokenOp("tf", key("alice"), { type: "transfer", from: key("alice").publicKey, to: key("bob").publicKey, amount: 100n, nonce: h }) as unknown as Json;
    const value = app.buildValue({ height: h, round: 0, prevHash: prev, time: T + h, state: chain, pending: [sub] });
    chain = app.applyValue(chain, value);
    const id = app.valueId(value);
    blocks.push({ height: h, value, certificate: certify(h, id, ["b1", "b2", "b3"]) });
    roots.push(chain.stateRoot);
    prev = id;
  }
  return { blocks, roots };
}

describe("a token follower outside the token's group", () => {
  const dir = mkdtempSync(join(tmpdir(), "statecell-token-follower-"));
  const path = join(dir, "ledger.sqlite");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const { blocks, roots } = bankChain();
  const follower = (ledger: ReturnType<typeof openLedger>, window?: number) =>
    new TokenFollower({ plan, config, validators: bank, verifier: cachingVerifier(), ledger: ledger.chain("tf", TOKEN_CELL, tokenCodec(config)), hostWrites: false, log: silentLogger, ...(window !== undefined ? { window } : {}) });

  it("holds the genesis view at height 0 and nothing above its head", () => {
    const ledger = openLedger(join(dir, "empty.sqlite"));
    const f = follower(ledger);
    expect(f.viewAt(0)?.root).toBe(tokenStateRoot(genesisTokenChain(config).token));
    expect((f.viewAt(0)?.view as { balances: Record<string, number> }).balances[key("alice").publicKey]).toBe(1000);
    expect(f.viewAt(1)).toBeUndefined();
    expect(f.pullFrom()).toBe(1);
    ledger.close();
  });

  it("refuses a block whose certificate does not hold (too few signers, a non-member, a value changed after signing), storing nothing", () => {
    const ledger = openLedger(join(dir, "bad.sqlite"));
    const f = follower(ledger);
    const b = blocks[0];
    expect(f.addCertified([{ block: { ...b, certificate: certify(1, b.certificate.valueId, ["b1", "b2"]) } }])).toBe("bad-certificate");
    expect(f.addCertified([{ block: { ...b, certificate: certify(1, b.certificate.valueId, ["b1", "b2", "c1"]) } }])).toBe("bad-certificate");
    const changed = structuredClone(b.value) as { inputs: Array<{ data: { amount: string } }> };
    changed.inputs[0].data.amount = "900";
    expect(f.addCertified([{ block: { ...b, value: changed as unknown as Json } }])).toBe("bad-certificate");
    expect(f.addCertified(["nonsense", null])).toBe("malformed");
    expect(f.height).toBe(0);
    expect(ledger.cell("tf", TOKEN_CELL).head().height).toBe(0);
    ledger.close();
  });

  it("replays certified blocks in order (one ahead waits for the one between), stores them, and names each height's root", () => {
    const ledger = openLedger(path);
    const f = follower(ledger);
    expect(f.addCertified([{ block: blocks[0] }, { block: blocks[2] }])).toBe(1);
    expect(f.height).toBe(1);
    expect(f.behind()).toBe(true);
    expect(f.addCertified([{ block: blocks[1] }])).toBe(2);
    expect(f.height).toBe(3);
    for (let h = 0; h <= 3; h++) expect(f.viewAt(h)?.root).toBe(roots[h]);
    expect((f.viewAt(3)?.view as { balances: Record<string, number> }).balances[key("bob").publicKey]).toBe(300);
    expect(ledger.cell("tf", TOKEN_CELL).head()).toMatchObject({ height: 3, stateRoot: roots[3] });
    // A copy of a block already held changes nothing.
    expect(f.addCertified([{ block: blocks[1] }])).toBe(0);
    ledger.close();
  });

  it("an empty token block (the same root at a new height) gives a view of its own height with the same balances", () => {
    const ledger = openLedger(join(dir, "empty-block.sqlite"));
    const f = follower(ledger);
    const app = tokenApplication(plan, config);
    let chain = genesisTokenChain(config);
    let prev = GENESIS_HASH;
    for (let h = 1; h <= 2; h++) {
      const value = app.buildValue({ height: h, round: 0, prevHash: prev, time: T + h, state: chain, pending: [] });
      chain = app.applyValue(chain, value);
      prev = app.valueId(value);
      expect(f.addCertified([{ block: { height: h, value, certificate: certify(h, prev, ["b2", "b3", "b4"]) } }])).toBe(1);
    }
    const [v1, v2] = [f.viewAt(1)!, f.viewAt(2)!];
    expect(v2.root).toBe(v1.root);
    expect(v2.view).toMatchObject({ height: 2, root: v1.root });
    expect((v2.view as { balances: unknown }).balances).toBe((v1.view as { balances: unknown }).balances);
    ledger.close();
  });

  it("a proposer names the freshest height held; after a restart every height is there again (rebuilt from the ledger)", () => {
    const ledger = openLedger(path);
    const f = follower(ledger, 1);
    expect(f.height).toBe(3);
    expect(f.proposable()).toBe(3);
    for (let h = 0; h <= 3; h++) expect(f.viewAt(h)?.root).toBe(roots[h]);
    ledger.close();
  });
});
