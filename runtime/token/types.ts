/**
 * Types of the token state machine (docs/token.md). Amounts are bigint;
 * accounts are public keys (64 lowercase hex).
 */

/** An allowance an owner gave a spender: at most `amount` base units until `expires` (block time, unix ms) when set. */
export interface Allowance {
  amount: bigint;
  expires: number | null;
}

/**
 * The token's ledger state. Read-only: a block builds a new state and never
 * changes the one it was given. Zero balances, zero nonces and zero
 * allowances are absent (so equal content has one encoding).
 */
export interface TokenState {
  readonly balances: ReadonlyMap<string, bigint>;
  /** The last nonce each account used (the next is this plus one; an absent account's next is 1). */
  readonly nonces: ReadonlyMap<string, number>;
  /** Keyed `owner:spender`. */
  readonly allowances: ReadonlyMap<string, Allowance>;
  /** Always the sum of the balances. */
  readonly supply: bigint;
  /** The snapshot epoch of the last block (-1 before the first block; rewards are minted when a block enters a later epoch). */
  readonly epoch: number;
}

/** An operation a signed submission to the token cell carries in `data`. */
export type TokenOp =
  | { type: "transfer"; from: string; to: string; amount: bigint; nonce: number }
  | { type: "approve"; owner: string; spender: string; amount: bigint; nonce: number; expires: number | null }
  | { type: "transferFrom"; spender: string; from: string; to: string; amount: bigint; nonce: number };

/** The account whose key must sign an operation, and whose nonce it uses. */
export function signerOf(op: TokenOp): string {
  return op.type === "transfer" ? op.from : op.type === "approve" ? op.owner : op.spender;
}

/** A submission to the token cell as a client sends it: `{ data, signer, signature }` (JSON). */
export interface TokenSubmission {
  data: unknown;
  signer?: unknown;
  signature?: unknown;
}

/** Transfer (from/to null: minted / burned) and Approval events, in block order. */
export type TokenEvent =
  | { event: "Transfer"; from: string | null; to: string | null; amount: string; fee?: string; nonce?: number; spender?: string; input?: number }
  | { event: "Approval"; owner: string; spender: string; amount: string; expires: number | null; nonce: number; input: number };

/** A verdict of the token cell: codes only go into blocks; the message is for people. */
export type TokenVerdict = { accepted: true } | { accepted: false; code: string; message: string };

/** What the block fixes: height and time come from the proposal. */
export interface TokenHeader {
  height: number;
  time: number;
}

export interface TokenBlockResult {
  state: TokenState;
  verdicts: TokenVerdict[];
  events: TokenEvent[];
  /** tokenStateRoot(state). */
  root: string;
}
