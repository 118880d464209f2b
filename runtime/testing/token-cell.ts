/**
 * The built-in token cell in channel tests: submissions to cell `token` are
 * signed by the step's signer exactly as a client signs them (no signer: no
 * signature), executed by the token module at each block boundary before the
 * other cells, and the view other cells' rules read as `token` is the state
 * after the token's latest block. Names in `token.genesis` and the fee and
 * reward groups' validators are the test signers of those names.
 */
import type { Json } from "../core/canonical.js";
import type { KeyPair } from "../core/keys.js";
import type { ChannelPlan } from "../definition/plan.js";
import { applyTokenBlock, genesisTokenState, tokenConfig, tokenOpData, tokenSigningBytes, tokenView, type TokenConfig, type TokenState, type TokenVerdict } from "../token/index.js";
import { signBytes } from "../core/keys.js";
import type { TestKeys } from "./keys.js";

export class TestTokenCell {
  readonly config: TokenConfig;
  state: TokenState;
  height = 0;
  time = 0;

  constructor(private readonly plan: ChannelPlan, keys: TestKeys) {
    this.config = tokenConfig(plan, (name) => keys.publicKey(name));
    this.state = genesisTokenState(this.config);
  }

  /** The submission a client sends for `data` signed by `signer` (unsigned without one). */
  submission(data: Json, signer: KeyPair | null): Json {
    if (signer === null) return { data };
    return { data, signer: signer.publicKey, signature: signBytes(signer, tokenSigningBytes(this.plan.channel, data)) };
  }

  /** One block of the token cell. */
  execute(subs: readonly Json[], time: number): TokenVerdict[] {
    this.height++;
    this.time = time;
    const r = applyTokenBlock(this.config, this.state, subs, { height: this.height, time });
    this.state = r.state;
    return r.verdicts;
  }

  /** What rules of other cells read as `token`. */
  view(): Json {
    return tokenView(this.config.plan, this.state, this.height);
  }

  /** The state as a test's `state:` step matches it: amounts as decimal strings of base units. */
  plain(): Json {
    const balances: Record<string, Json> = {};
    for (const [k, v] of this.state.balances) balances[k] = v.toString(10);
    const nonces: Record<string, Json> = {};
    for (const [k, v] of this.state.nonces) nonces[k] = v;
    const allowances: Record<string, Json> = {};
    for (const [k, a] of this.state.allowances) allowances[k] = { amount: a.amount.toString(10), expires: a.expires };
    return { balances, nonces, allowances, supply: this.state.supply.toString(10) };
  }
}

export { tokenOpData };
