/**
 * One block of the token cell: each submission in order, against the state the
 * earlier accepted ones left; then the snapshot reward when the block enters a
 * new snapshot epoch. Pure: same config, state, submissions and header give
 * the same verdicts, events, state and root everywhere. Never throws on what a
 * submission holds: every problem is a coded refusal, and a refused
 * submission changes nothing (its nonce stays unused).
 *
 * Checks, in order: the shape and the source's signature (submission.ts),
 * TOKEN_SAME_ACCOUNT, TOKEN_BAD_NONCE (the signer's last nonce plus one),
 * TOKEN_FEE (a fee expression that gives no whole amount), for a transferFrom
 * TOKEN_ALLOWANCE_EXPIRED and TOKEN_ALLOWANCE_EXCEEDED (the allowance covers
 * amount plus fee), then TOKEN_INSUFFICIENT_BALANCE (the source's balance
 * covers amount plus fee).
 */
import type { TokenConfig } from "./config.js";
import { formatBaseUnits } from "./amount.js";
import { tokenStateRoot } from "./encode.js";
import { allowanceKey } from "./state.js";
import { checkTokenSubmission, type Refusal, type TokenVerify } from "./submission.js";
import { signerOf, type Allowance, type TokenBlockResult, type TokenEvent, type TokenHeader, type TokenOp, type TokenState, type TokenVerdict } from "./types.js";

/**
 * Working copies of a state's maps, made on the first change of a block. The
 * maps keep their keys in sorted order (a copy keeps its source's order, and
 * changing an existing key keeps its place), so encoding the state for its
 * root walks them as they are instead of sorting every account per block;
 * only a block that adds a key sorts that map once, in `sorted`.
 */
class Draft {
  balances: Map<string, bigint>;
  nonces: Map<string, number>;
  allowances: Map<string, Allowance>;
  supply: bigint;
  /** Which maps got a key they did not have (then out of order). */
  private added = { balances: false, nonces: false, allowances: false };
  constructor(s: TokenState) {
    this.balances = new Map(s.balances);
    this.nonces = new Map(s.nonces);
    this.allowances = new Map(s.allowances);
    this.supply = s.supply;
  }
  credit(account: string, v: bigint): void {
    if (v === 0n) return;
    const had = this.balances.get(account);
    if (had === undefined) this.added.balances = true;
    this.balances.set(account, (had ?? 0n) + v);
  }
  debit(account: string, v: bigint): void {
    const left = (this.balances.get(account) ?? 0n) - v;
    if (left === 0n) this.balances.delete(account);
    else this.balances.set(account, left);
  }
  setNonce(account: string, n: number): void {
    if (!this.nonces.has(account)) this.added.nonces = true;
    this.nonces.set(account, n);
  }
  setAllowance(key: string, a: Allowance): void {
    if (!this.allowances.has(key)) this.added.allowances = true;
    this.allowances.set(key, a);
  }
  /** The state: maps that got new keys sorted once (deletions keep the order). */
  sorted(epoch: number): TokenState {
    return {
      balances: this.added.balances ? sortedMap(this.balances) : this.balances,
      nonces: this.added.nonces ? sortedMap(this.nonces) : this.nonces,
      allowances: this.added.allowances ? sortedMap(this.allowances) : this.allowances,
      supply: this.supply,
      epoch,
    };
  }
}

function sortedMap<V>(m: Map<string, V>): Map<string, V> {
  return new Map([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/**
 * Splits `total` among `to` (sorted keys): each gets the same share, and the
 * first `total mod n` one base unit more, so nothing is lost to rounding.
 */
export function split(total: bigint, to: readonly string[]): Array<[string, bigint]> {
  if (to.length === 0 || total === 0n) return [];
  const n = BigInt(to.length);
  const share = total / n;
  const rem = total % n;
  const out: Array<[string, bigint]> = [];
  to.forEach((k, i) => {
    const v = share + (BigInt(i) < rem ? 1n : 0n);
    if (v > 0n) out.push([k, v]);
  });
  return out;
}

/** Applies checked operations (or the refusals found for them) to `state`. */
export function applyTokenOps(config: TokenConfig, state: TokenState, ops: ReadonlyArray<TokenOp | Refusal>, header: TokenHeader): TokenBlockResult {
  let draft: Draft | undefined;
  const d = (): Draft => (draft ??= new Draft(state));
  const verdicts: TokenVerdict[] = [];
  const events: TokenEvent[] = [];
  const refuse = (code: string, message: string) => verdicts.push({ accepted: false, code, message });
  const block = { height: header.height, time: header.time };

  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if ("code" in op) {
      refuse(op.code, op.message);
      continue;
    }
    const signer = signerOf(op);
    const nonces = draft?.nonces ?? state.nonces;
    const balances = draft?.balances ?? state.balances;
    if ((op.type === "approve" ? op.owner === op.spender : op.from === op.to)) {
      refuse("TOKEN_SAME_ACCOUNT", op.type === "approve" ? "an account cannot approve itself" : "the source and the destination are the same account");
      continue;
    }
    const last = nonces.get(signer) ?? 0;
    if (op.nonce !== last + 1) {
      refuse("TOKEN_BAD_NONCE", op.nonce <= last ? `nonce ${op.nonce} is used: the signer's last nonce is ${last}, so the next is ${last + 1} (a replayed submission)` : `nonce ${op.nonce} skips ahead: the signer's last nonce is ${last}, so the next is ${last + 1}`);
      continue;
    }
    if (op.type === "approve") {
      const w = d();
      const key = allowanceKey(op.owner, op.spender);
      if (op.amount === 0n) w.allowances.delete(key);
      else w.setAllowance(key, { amount: op.amount, expires: op.expires });
      w.setNonce(signer, op.nonce);
      verdicts.push({ accepted: true });
      events.push({ event: "Approval", owner: op.owner, spender: op.spender, amount: formatBaseUnits(op.amount), expires: op.expires, nonce: op.nonce, input: i });
      continue;
    }
    const fee = config.feeOf({ type: op.type, from: op.from, to: op.to, amount: op.amount }, block);
    if (typeof fee === "string") {
      refuse("TOKEN_FEE", fee);
      continue;
    }
    const cost = op.amount + fee;
    let allowance: Allowance | undefined;
    if (op.type === "transferFrom") {
      allowance = (draft?.allowances ?? state.allowances).get(allowanceKey(op.from, op.spender));
      if (allowance && allowance.expires !== null && header.time >= allowance.expires) {
        refuse("TOKEN_ALLOWANCE_EXPIRED", `the allowance expired at ${allowance.expires}; the block's time is ${header.time}`);
        continue;
      }
      if (!allowance || allowance.amount < cost) {
        refuse("TOKEN_ALLOWANCE_EXCEEDED", `the spender may move ${formatBaseUnits(allowance?.amount ?? 0n)} base units of this owner's; this transfer needs ${formatBaseUnits(cost)} (amount ${formatBaseUnits(op.amount)} + fee ${formatBaseUnits(fee)})`);
        continue;
      }
    }
    const have = balances.get(op.from) ?? 0n;
    if (have < cost) {
      refuse("TOKEN_INSUFFICIENT_BALANCE", `the source holds ${formatBaseUnits(have)} base units; this transfer needs ${formatBaseUnits(cost)} (amount ${formatBaseUnits(op.amount)} + fee ${formatBaseUnits(fee)})`);
      continue;
    }
    const w = d();
    w.debit(op.from, cost);
    w.credit(op.to, op.amount);
    if (config.feesTo.length === 0) w.supply -= fee;
    else for (const [k, v] of split(fee, config.feesTo)) w.credit(k, v);
    w.setNonce(signer, op.nonce);
    if (op.type === "transferFrom") {
      const key = allowanceKey(op.from, op.spender);
      const left = allowance!.amount - cost;
      if (left === 0n) w.allowances.delete(key);
      else w.setAllowance(key, { amount: left, expires: allowance!.expires });
    }
    verdicts.push({ accepted: true });
    const ev: TokenEvent = { event: "Transfer", from: op.from, to: op.to, amount: formatBaseUnits(op.amount), fee: formatBaseUnits(fee), nonce: op.nonce, input: i };
    if (op.type === "transferFrom") ev.spender = op.spender;
    events.push(ev);
  }

  // Rewards: minted once when a block enters a later snapshot epoch, never past the maximum supply.
  const epoch = Math.max(state.epoch, config.epochOf(header.height, header.time));
  if (state.epoch >= 0 && epoch > state.epoch && config.reward > 0n && config.rewardTo.length > 0) {
    const supply = draft?.supply ?? state.supply;
    const room = config.maxSupply > supply ? config.maxSupply - supply : 0n;
    const minted = config.reward < room ? config.reward : room;
    if (minted > 0n) {
      const w = d();
      for (const [k, v] of split(minted, config.rewardTo)) {
        w.credit(k, v);
        events.push({ event: "Transfer", from: null, to: k, amount: formatBaseUnits(v) });
      }
      w.supply += minted;
    }
  }

  const next: TokenState = draft
    ? draft.sorted(epoch)
    : epoch === state.epoch
      ? state
      : { ...state, epoch };
  return { state: next, verdicts, events, root: tokenStateRoot(next) };
}

/** Checks each submission (shape, signature) and applies the block. */
export function applyTokenBlock(config: TokenConfig, state: TokenState, submissions: readonly unknown[], header: TokenHeader, verify?: TokenVerify): TokenBlockResult {
  return applyTokenOps(config, state, submissions.map((s) => checkTokenSubmission(config.channel, s, verify)), header);
}
