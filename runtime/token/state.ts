/** Genesis, and reads of a token state. */
import type { TokenConfig } from "./config.js";
import type { Allowance, TokenState } from "./types.js";

/** The state before the first block: the genesis balances, no nonces, no allowances. */
export function genesisTokenState(config: TokenConfig): TokenState {
  const balances = new Map<string, bigint>();
  let supply = 0n;
  // In key order, as blocks keep the maps (apply.ts), so the first block's root needs no sort.
  for (const [k, v] of [...config.genesis].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (v === 0n) continue;
    balances.set(k, v);
    supply += v;
  }
  return { balances, nonces: new Map(), allowances: new Map(), supply, epoch: -1 };
}

/** An account's balance (0 when it holds nothing). */
export function balanceOf(state: TokenState, account: string): bigint {
  return state.balances.get(account) ?? 0n;
}

/** The last nonce `account` used (0: none yet; its next transfer carries 1). */
export function nonceOf(state: TokenState, account: string): number {
  return state.nonces.get(account) ?? 0;
}

/** The key of an allowance in the state. */
export function allowanceKey(owner: string, spender: string): string {
  return `${owner}:${spender}`;
}

/** What `spender` may still move of `owner`'s balance at block time `time` (0 once expired). */
export function allowanceOf(state: TokenState, owner: string, spender: string, time?: number): bigint {
  const a: Allowance | undefined = state.allowances.get(allowanceKey(owner, spender));
  if (!a) return 0n;
  if (time !== undefined && a.expires !== null && time >= a.expires) return 0n;
  return a.amount;
}
