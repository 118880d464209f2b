/**
 * The channel's built-in token cell at one node: the shared group host
 * (group-host.ts: driver, durable mempool, gossip, statuses) with the
 * token's ports (docs/token.md, "On a node"):
 *
 * - admission is the token application's `admit` (shape and the source's
 *   signature, remembered so the block that carries it costs no second
 *   check), then the pending policy against the committed nonces: a used
 *   nonce is TOKEN_BAD_NONCE, one more than `pending.perAccount` waiting for
 *   an account TOKEN_PENDING_FULL, and a second submission with a waiting
 *   (signer, nonce) replaces the first (TOKEN_PENDING_REPLACED for that one);
 * - what depends on balances and allowances is decided by the block, so a
 *   refusal there (TOKEN_INSUFFICIENT_BALANCE, TOKEN_SAME_ACCOUNT, ...) is a
 *   committed verdict, its nonce left unused;
 * - the state is stored through the token's codec (encodeTokenState: amounts
 *   as decimal strings), recomputed to the same root on restart;
 * - each committed Transfer and Approval is written to the ledger's account
 *   history in the block's transaction, and sent to stream subscribers.
 */
import type { Json } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import type { CertifiedBlock } from "../consensus/index.js";
import { inputId, type CellLedger, type ChainCodec, type RestorePoint } from "../ledger/index.js";
import { decodeTokenState, encodeTokenState, formatBaseUnits, parseTokenOp, PendingTransfers, signerOf, tokenStateRoot, TOKEN_CELL, type TokenConfig, type TokenEvent, type TokenOp, type TokenState } from "../token/index.js";
import type { NodeEvent } from "./core-types.js";
import { GroupHost, type CommitRows, type GroupHostDeps, type HostRefusal } from "./group-host.js";
import { genesisTokenChain, tokenApplication, type TokenApplication, type TokenChainState } from "./token-application.js";

/** The token cell's name in routes, wire frames and the ledger. */
export { TOKEN_CELL };

/**
 * The ledger codec of the token chain: its snapshot is encodeTokenState (the
 * canonical text the root is taken over), decoded with decodeTokenState
 * (which refuses a supply that is not the sum of the balances) and checked to
 * recompute the stored root before the blocks after it are replayed.
 */
export function tokenCodec(config: TokenConfig): ChainCodec<TokenChainState> {
  const mismatch = (message: string, payload: Record<string, unknown>) =>
    new StatecellError("LEDGER_RESTORE_MISMATCH", message, {
      remedy: "the ledger file is damaged or was edited: restore it from a backup, or rebuild the token cell from genesis by catching up from the group",
      payload: { cell: TOKEN_CELL, ...payload },
    });
  return {
    root: (s) => tokenStateRoot(s.token),
    recordCount: () => 0,
    recordsSince: () => [],
    encode: (s) => encodeTokenState(s.token),
    restore(point: RestorePoint, app) {
      let chain: TokenChainState;
      if (point.snapshot.height === 0 || point.text === null) chain = genesisTokenChain(config);
      else {
        const token = decodeTokenState(point.text);
        const root = tokenStateRoot(token);
        if (root !== point.snapshot.stateRoot) throw mismatch(`the token state stored at height ${point.snapshot.height} decodes to the root ${root.slice(0, 16)}, not the stored ${point.snapshot.stateRoot.slice(0, 16)}`, { height: point.snapshot.height });
        chain = { height: point.snapshot.height, time: point.snapshot.time, token, stateRoot: root };
      }
      for (const b of point.blocks) chain = app.applyValue(chain, b.value);
      if (chain.height !== point.head.height || (point.head.height > 0 && chain.stateRoot !== point.head.stateRoot)) {
        throw mismatch(`replaying ${point.blocks.length} token block(s) gives height ${chain.height} with the root ${chain.stateRoot.slice(0, 16)}, but the head is height ${point.head.height} with ${point.head.stateRoot.slice(0, 16)}`, { height: point.head.height });
      }
      return chain;
    },
  };
}

/** What a token host needs from the node around it. */
export interface TokenHostDeps extends GroupHostDeps {
  ledger: CellLedger<TokenChainState>;
  config: TokenConfig;
  /** Each committed token state as it is stored: what the cells that read the token here follow (token-follower.ts). */
  stored?(chain: TokenChainState): void;
}

/** A token event as the stream and the account history carry it: the event with its block and input. */
export type TokenEventRecord = TokenEvent & { height: number; time: number; id?: string };

/** The accounts an event belongs to in the history (a mint has no source). */
function accountsOf(e: TokenEvent): string[] {
  const out = e.event === "Transfer" ? [e.from, e.to, e.spender] : [e.owner, e.spender];
  return [...new Set(out.filter((a): a is string => typeof a === "string"))];
}

export class TokenHost extends GroupHost<TokenChainState> {
  readonly app: TokenApplication;
  readonly config: TokenConfig;
  /** The nonce policy over the mempool's pending submissions (rebuilt from the mempool at start). */
  private readonly pool: PendingTransfers<string>;
  private viewCache: { state: TokenState; view: { balances: Record<string, string>; supply: string } } | undefined;

  constructor(private readonly d: TokenHostDeps) {
    const app = tokenApplication(d.plan, d.config);
    super(d, app, d.ledger, () => genesisTokenChain(d.config));
    this.app = app;
    this.config = d.config;
    this.pool = new PendingTransfers<string>(d.plan.token!.pending);
    for (const p of d.ledger.mempool.pending()) {
      const op = this.opOf(p.submission);
      if (op !== undefined) this.pool.add(op, p.id, this.lastNonce(signerOf(op)), p.received);
    }
  }

  /** The committed token state at the head. */
  get token(): TokenState {
    return this.chain.token;
  }

  private lastNonce(account: string): number {
    return this.chain.token.nonces.get(account) ?? 0;
  }

  private opOf(sub: Json): TokenOp | undefined {
    const op = parseTokenOp((sub as { data?: unknown } | null)?.data);
    return "code" in op ? undefined : op;
  }

  protected admit(sub: Json): HostRefusal | undefined {
    const r = this.app.admit(sub);
    return r === undefined ? undefined : { code: r.code, message: r.message };
  }

  protected check(subs: readonly Json[]): ReadonlyArray<HostRefusal | undefined> {
    // Per account, what this batch adds to the waiting count (a replacement adds nothing).
    const adding = new Map<string, Set<number>>();
    const perAccount = this.d.plan.token!.pending.perAccount;
    return subs.map((sub): HostRefusal | undefined => {
      const op = this.opOf(sub);
      if (op === undefined) return { code: "TOKEN_BAD_SUBMISSION", message: "the submission is not a token operation" };
      const account = signerOf(op);
      const last = this.lastNonce(account);
      if (op.nonce <= last) return { code: "TOKEN_BAD_NONCE", message: `nonce ${op.nonce} is used: the signer's last committed nonce is ${last}, so the next is ${last + 1} (a replayed submission)` };
      const mine = adding.get(account) ?? new Set<number>();
      const fresh = this.pool.entry(account, op.nonce) === undefined && !mine.has(op.nonce);
      // The account's next nonce is always taken: it is what lets the waiting ones commit.
      if (fresh && op.nonce !== last + 1 && this.pool.waiting(account) + mine.size >= perAccount) {
        return { code: "TOKEN_PENDING_FULL", message: `the account has ${perAccount} submissions waiting; wait for them to commit, or replace one by sending its nonce again` };
      }
      if (fresh) adding.set(account, mine.add(op.nonce));
      return undefined;
    });
  }

  protected added(sub: Json, id: string): void {
    const op = this.opOf(sub);
    if (op === undefined) return;
    const r = this.pool.add(op, id, this.lastNonce(signerOf(op)), this.d.now());
    if ("replaced" in r && r.replaced !== undefined && r.replaced.item !== id) {
      this.chainLedger.mempool.reject(r.replaced.item, { code: "TOKEN_PENDING_REPLACED", message: `another submission with nonce ${op.nonce} of this signer replaced it (${id.slice(0, 16)}…)` });
    }
  }

  protected rowsOf(block: CertifiedBlock, _state: TokenChainState): CommitRows<TokenChainState> {
    // The application keeps the result of every value it applied; a value it did not (cannot happen on the
    // driver's path) is applied again on the head it follows.
    let result = this.app.resultOf(block.value);
    if (result === undefined) {
      this.app.applyValue(this.chain, block.value);
      result = this.app.resultOf(block.value);
    }
    const value = block.value as unknown as { inputs: Json[]; time: number };
    const accounts: Array<{ account: string; seq: number; event: Json }> = [];
    const records: TokenEventRecord[] = [];
    (result?.events ?? []).forEach((e, seq) => {
      const rec: TokenEventRecord = { ...e, height: block.height, time: value.time };
      if (e.input !== undefined && value.inputs[e.input] !== undefined) rec.id = inputId(value.inputs[e.input]);
      records.push(rec);
      for (const account of accountsOf(e)) accounts.push({ account, seq, event: rec as unknown as Json });
    });
    const verdicts = result?.verdicts;
    return { commit: { ...(verdicts ? { verdicts: verdicts as never } : {}), accounts }, verdicts, outputs: [], events: records };
  }

  protected override stored(_block: CertifiedBlock, state: TokenChainState): void {
    this.d.stored?.(state);
  }

  protected afterCommitted(block: CertifiedBlock, rows: CommitRows<TokenChainState>): void {
    // What the block carried has left the pool, refused ones included (their nonce is free again).
    for (const input of (block.value as unknown as { inputs: Json[] }).inputs) {
      const op = this.opOf(input);
      if (op !== undefined) this.pool.remove(signerOf(op), op.nonce, inputId(input));
    }
    if (!this.g.hasSubscribers()) return;
    for (const e of (rows.events ?? []) as TokenEventRecord[]) {
      const { event, ...fields } = e;
      this.g.emit({ ...fields, type: event, channel: this.channel, cell: this.cell } as NodeEvent);
    }
  }

  /** After a commit: what waited behind a gap too long, and what a committed nonce made stale, leave the pool. */
  protected recheck(): void {
    const now = this.d.now();
    for (const e of this.pool.prune((a) => this.lastNonce(a), now)) {
      this.chainLedger.mempool.reject(e.item, { code: "TOKEN_PENDING_EXPIRED", message: `it waited more than ${this.d.plan.token!.pending.expiresAfter} s behind a nonce gap of its signer; send the missing nonce, then this one again` });
    }
    for (const p of this.chainLedger.mempool.pending(this.d.plan.blockLimits.maxInputs * 2)) {
      const op = this.opOf(p.submission);
      if (op === undefined) continue;
      const last = this.lastNonce(signerOf(op));
      if (op.nonce <= last) this.chainLedger.mempool.reject(p.id, { code: "TOKEN_BAD_NONCE", message: `nonce ${op.nonce} was used by another submission of its signer, committed first; the next is ${last + 1}` });
    }
  }

  /** The committed state as plain JSON: amounts as decimal strings of base units (`GET .../cells/token/state`). */
  state(): Json {
    return JSON.parse(encodeTokenState(this.chain.token)) as Json;
  }

  record(): Json | undefined {
    return undefined;
  }

  /** The token's definition with its committed supply (`GET /v1/channels/{channel}/token`). */
  definition(): Json {
    const t = this.d.plan.token!;
    const c = this.config;
    const chain = this.chain;
    return {
      channel: this.channel,
      cell: TOKEN_CELL,
      name: t.name,
      symbol: t.symbol,
      decimals: t.decimals,
      ...(t.description !== undefined ? { description: t.description } : {}),
      group: t.group,
      supply: formatBaseUnits(chain.token.supply),
      genesisSupply: t.supply,
      maxSupply: formatBaseUnits(c.maxSupply),
      fee: "amount" in t.fee ? { amount: t.fee.amount } : { expression: t.fee.expression },
      feesTo: c.feesTo.length === 0 ? "burn" : { group: (t.feesTo as { group: string }).group, accounts: [...c.feesTo] },
      rewards: t.rewards === undefined ? null : { amount: formatBaseUnits(c.reward), group: t.rewards.group, accounts: [...c.rewardTo] },
      pending: { expiresAfter: t.pending.expiresAfter, perAccount: t.pending.perAccount },
      height: chain.height,
      stateRoot: chain.stateRoot,
    };
  }

  /** An account's committed balance and nonce. */
  account(key: string): Json {
    const chain = this.chain;
    const nonce = chain.token.nonces.get(key) ?? 0;
    // The next nonce a new submission should carry: after the committed one and the run waiting here without a gap.
    let next = nonce + 1;
    while (this.pool.entry(key, next) !== undefined) next++;
    return { account: key, balance: formatBaseUnits(chain.token.balances.get(key) ?? 0n), nonce, nextNonce: next, pending: this.pool.waiting(key), height: chain.height };
  }

  /** The fee of a transfer of `amount` from `from` to `to` in the next block, by this node's clock (a fee expression may read the block). */
  fee(from: string, to: string, amount: bigint): Json {
    const chain = this.chain;
    const block = { height: chain.height + 1, time: Math.max(this.d.now(), chain.time + 1) };
    const f = this.config.feeOf({ type: "transfer", from, to, amount }, block);
    return typeof f === "string" ? { amount: formatBaseUnits(amount), fee: null, code: "TOKEN_FEE", message: f, height: block.height } : { amount: formatBaseUnits(amount), fee: formatBaseUnits(f), height: block.height };
  }

  /** What `spender` may move of `owner`'s balance, as committed (`active` false once the head's block time reached its expiry). */
  allowance(owner: string, spender: string): Json {
    const chain = this.chain;
    const a = chain.token.allowances.get(`${owner}:${spender}`);
    const active = a !== undefined && (a.expires === null || chain.time < a.expires);
    return { owner, spender, amount: formatBaseUnits(a?.amount ?? 0n), expires: a?.expires ?? null, active, height: chain.height };
  }

  /** An account's Transfer and Approval events, newest first, `limit` of them before the position `before`. */
  history(key: string, limit: number, before?: { height: number; seq: number }): { events: Json[]; next: string | null } {
    const rows = this.chainLedger.accountEvents(key, limit, before);
    const last = rows[rows.length - 1];
    return { events: rows.map((r) => r.event), next: rows.length === limit && last !== undefined ? `${last.height}.${last.seq}` : null };
  }

  /** What the dashboard reads: balances and supply as decimal strings, built once per committed state. */
  liveState(): unknown {
    const token = this.chain.token;
    if (this.viewCache?.state !== token) {
      const balances: Record<string, string> = {};
      for (const [k, v] of token.balances) balances[k] = formatBaseUnits(v);
      this.viewCache = { state: token, view: { balances, supply: formatBaseUnits(token.supply) } };
    }
    return this.viewCache.view;
  }
}
