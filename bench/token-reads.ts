/**
 * What reading the token costs a cell on a node (docs/token.md, "On a node"):
 *
 * 1. executeBlock of channels/token.yaml's claims cell, 1,000 signed claims a
 *    block (admitted before the clock), whose rule reads the claimant's
 *    balance from the token view, against the same cell with a rule that does
 *    not read the token (same shape, a constant comparison): the ratio is the
 *    price of `token.balances.{signer}`;
 * 2. building the view of one token height (`tokenView`: balances in key
 *    order, amounts converted, the root the chain state carries, as a
 *    node's token follower builds it) for a token of ACCOUNTS accounts: paid once per
 *    token height a block names, then cached;
 * 3. a follower rebuilding an old token height from its ledger (the restart
 *    path for heights out of its window): blocks/s replayed without checking
 *    signatures again, against a full re-execution (`applyValue`, every
 *    signature checked).
 *
 * No target: figures to judge by their ratios within one run.
 * Run: npx tsx bench/token-reads.ts [accounts]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Json } from "../runtime/core/canonical.js";
import { keyPairFromName, signBytes } from "../runtime/core/keys.js";
import { requireChannel } from "../runtime/definition/index.js";
import { admitInput, executeBlock, signedMessage, type BlockInput } from "../runtime/cells/index.js";
import { cachingVerifier, GENESIS_HASH, validatorSet, type CertifiedBlock } from "../runtime/consensus/index.js";
import { openLedger } from "../runtime/ledger/index.js";
import { signTokenOp, tokenConfig, tokenView, TOKEN_CELL } from "../runtime/token/index.js";
import { silentLogger } from "../runtime/node/log.js";
import { genesisTokenChain, tokenApplication, type TokenChainState } from "../runtime/node/token-application.js";
import { TokenFollower } from "../runtime/node/token-follower.js";
import { tokenCodec } from "../runtime/node/token-host.js";

const ACCOUNTS = Number(process.argv[2] ?? 5000);
const PER_BLOCK = 1000;
const BLOCKS = 20;
const T = 1_700_000_000_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const source = readFileSync(join(import.meta.dirname, "..", "channels", "token.yaml"), "utf8");
const plan = requireChannel(source, { file: "channels/token.yaml" });
const constant = requireChannel(source.replace('require: { ">=": [ { var: [ "token.balances.{signer}", 0 ] }, { var: channel.params.goldPoints } ] }', 'require: { ">=": [ { var: channel.params.goldPoints }, 0 ] }'), { file: "bench/token-constant.yaml" });
const names = (n: string) => keyPairFromName(`bench-${n}`).publicKey;
const config = tokenConfig(plan, names);
const treasury = keyPairFromName("bench-treasury");

// A token of ACCOUNTS accounts: the treasury pays each, PER_BLOCK a block.
const app = tokenApplication(plan, config);
let chain: TokenChainState = genesisTokenChain(config);
const accounts = Array.from({ length: ACCOUNTS }, (_, i) => keyPairFromName(`bench-member-${i}`));
const certified: CertifiedBlock[] = [];
let prev = GENESIS_HASH;
for (let i = 0, nonce = 1; i < ACCOUNTS; i += PER_BLOCK) {
  const subs = accounts.slice(i, i + PER_BLOCK).map((a) => signTokenOp(plan.channel, treasury, { type: "transfer", from: treasury.publicKey, to: a.publicKey, amount: 20_000n, nonce: nonce++ }) as unknown as Json);
  const height = chain.height + 1;
  const value = app.buildValue({ height, round: 0, prevHash: prev, time: T + height, state: chain, pending: subs });
  chain = app.applyValue(chain, value);
  prev = app.valueId(value);
  certified.push({ height, value, certificate: { channel: plan.channel, cell: TOKEN_CELL, height, round: 0, valueId: prev, signatures: [] } });
}

// 1. Claims blocks: the rule reads the balance, or a constant.
const claims: BlockInput[] = accounts.slice(0, PER_BLOCK).map((a) => {
  const data = { tier: "gold" };
  const r = admitInput(plan, "claims", { data, signer: a.publicKey, signature: signBytes(a, signedMessage(plan.channel, "claims", data)) });
  if ("accepted" in r) throw new Error(r.message);
  return r;
});
const view = tokenView(plan.token!, chain.token, chain.height);
const once = (p: typeof plan, token: Json | undefined): number => {
  const t0 = performance.now();
  for (let b = 0; b < BLOCKS; b++) {
    const r = executeBlock(p, "claims", {}, claims, { height: b + 1, time: T + b, hash: "0".repeat(64) }, token === undefined ? {} : { token });
    if (!r.verdicts[0].accepted) throw new Error(JSON.stringify(r.verdicts[0]));
  }
  return (BLOCKS * PER_BLOCK) / ((performance.now() - t0) / 1000);
};
// Alternating runs, medians of 7 each: on a shared machine the two see the same load.
const readingRates: number[] = [];
const constantRates: number[] = [];
for (let run = 0; run < 7; run++) {
  readingRates.push(once(plan, view));
  constantRates.push(once(constant, undefined));
}
const reading = median(readingRates);
const notReading = median(constantRates);

// 2. One view of a fresh state (the cache is per state object: a copy of the state is a new one).
const viewMs: number[] = [];
for (let i = 0; i < 5; i++) {
  const copy = { ...chain.token };
  const t0 = performance.now();
  tokenView(plan.token!, copy, chain.height, chain.stateRoot);
  viewMs.push(performance.now() - t0);
}

// 3. A follower rebuilding the oldest height from its ledger, against full re-execution.
const dir = mkdtempSync(join(tmpdir(), "statecell-bench-token-reads-"));
const ledger = openLedger(join(dir, "ledger.sqlite"));
const tokenLedger = ledger.chain(plan.channel, TOKEN_CELL, tokenCodec(config));
let c2 = genesisTokenChain(config);
const app2 = tokenApplication(plan, config);
for (const b of certified) {
  c2 = app2.applyValue(c2, b.value);
  tokenLedger.commit({ block: b, state: c2 });
}
const set = validatorSet(plan.groups.shops, { "shop-1": names("shop-1"), "shop-2": names("shop-2"), "shop-3": names("shop-3"), "shop-4": names("shop-4") });
const follower = new TokenFollower({ plan, config, validators: set, verifier: cachingVerifier(), ledger: tokenLedger, hostWrites: true, log: silentLogger, window: 1 });
let t0 = performance.now();
const rebuilt = follower.viewAt(certified.length - 1);
const trustedMs = performance.now() - t0;
if (rebuilt === undefined) throw new Error("not rebuilt");
t0 = performance.now();
let c3 = genesisTokenChain(config);
const app3 = tokenApplication(plan, config);
for (const b of certified.slice(0, -1)) c3 = app3.applyValue(c3, b.value);
const fullMs = performance.now() - t0;
if (c3.stateRoot !== rebuilt.root) throw new Error("roots differ");
ledger.close();
rmSync(dir, { recursive: true, force: true });
const replayed = (certified.length - 1) * PER_BLOCK;

console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}; token of ${ACCOUNTS} accounts`);
console.log(`claims, 1,000 a block: rule reads token.balances.{signer}: ${Math.round(reading).toLocaleString("en")} inputs/s; rule reads a constant: ${Math.round(notReading).toLocaleString("en")} inputs/s (ratio ${(reading / notReading).toFixed(2)})`);
console.log(`one token view of ${ACCOUNTS} accounts: ${median(viewMs).toFixed(2)} ms (once per token height a block names)`);
console.log(`rebuilding a height from the ledger: ${replayed.toLocaleString("en")} transfers in ${trustedMs.toFixed(0)} ms without re-checking signatures, ${fullMs.toFixed(0)} ms with (ratio ${(fullMs / Math.max(trustedMs, 0.001)).toFixed(1)}x)`);
