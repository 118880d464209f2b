/**
 * A node's pool of token submissions not yet in a block (the mempool policy).
 * Pure: time is passed in. What it guarantees:
 *   - a submission whose nonce is already used is refused (TOKEN_BAD_NONCE);
 *   - one more than `perAccount` waiting for one account is refused (TOKEN_PENDING_FULL),
 *     except the account's next nonce (the committed one plus one): it is what
 *     lets the others commit, so a full pool of gapped submissions never shuts
 *     out the one that fills the gap (an account holds at most perAccount + 1);
 *   - a second submission with the same (signer, nonce) replaces the first
 *     (TOKEN_PENDING_REPLACED is the answer for the one replaced): a sender
 *     fixes a stuck transfer by sending another with its nonce;
 *   - `ready` gives, per account, only the run of nonces that follows the
 *     committed one without a gap, so a block never carries a transfer that
 *     must fail on its nonce;
 *   - a submission that waits behind a gap longer than `expiresAfter` seconds
 *     is dropped (TOKEN_PENDING_EXPIRED), so a gap never blocks an account for good.
 */
import type { Refusal } from "./submission.js";
import { signerOf, type TokenOp } from "./types.js";

export interface PendingEntry<T> {
  op: TokenOp;
  /** What the node will propose (the submission as the client sent it). */
  item: T;
  /** When the node took it (unix ms, the node's clock). */
  since: number;
}

export interface PendingPolicy {
  expiresAfter: number;
  perAccount: number;
}

export class PendingTransfers<T> {
  private readonly byAccount = new Map<string, Map<number, PendingEntry<T>>>();
  private count = 0;

  constructor(private readonly policy: PendingPolicy) {}

  /** Submissions waiting, all accounts together. */
  get size(): number {
    return this.count;
  }

  /** Submissions waiting for `account`. */
  waiting(account: string): number {
    return this.byAccount.get(account)?.size ?? 0;
  }

  /** The entry waiting for (`account`, `nonce`), if any. */
  entry(account: string, nonce: number): PendingEntry<T> | undefined {
    return this.byAccount.get(account)?.get(nonce);
  }

  /** Forgets the entry of (`account`, `nonce`) when it holds `item` (it left the pool some other way). */
  remove(account: string, nonce: number, item: T): void {
    const m = this.byAccount.get(account);
    if (m?.get(nonce)?.item !== item) return;
    m.delete(nonce);
    this.count--;
    if (m.size === 0) this.byAccount.delete(account);
  }

  /**
   * Takes a checked submission. `last` is the signer's committed nonce.
   * Returns the entry it replaced (answer its sender TOKEN_PENDING_REPLACED), nothing, or a refusal.
   */
  add(op: TokenOp, item: T, last: number, now: number): { replaced?: PendingEntry<T> } | Refusal {
    if (op.nonce <= last) return { code: "TOKEN_BAD_NONCE", message: `nonce ${op.nonce} is used: the next is ${last + 1}` };
    const account = signerOf(op);
    let m = this.byAccount.get(account);
    const old = m?.get(op.nonce);
    if (!old && op.nonce !== last + 1 && (m?.size ?? 0) >= this.policy.perAccount) {
      return { code: "TOKEN_PENDING_FULL", message: `the account has ${this.policy.perAccount} submissions waiting; wait for them to commit, or replace one by sending its nonce again` };
    }
    if (!m) this.byAccount.set(account, (m = new Map()));
    m.set(op.nonce, { op, item, since: now });
    if (!old) this.count++;
    return old ? { replaced: old } : {};
  }

  /**
   * What may go into the next block: per account (in order of first arrival),
   * the nonces from `last(account) + 1` on without a gap, at most `max` in all.
   */
  ready(last: (account: string) => number, max: number): T[] {
    const out: T[] = [];
    for (const [account, m] of this.byAccount) {
      for (let n = last(account) + 1; out.length < max; n++) {
        const e = m.get(n);
        if (!e) break;
        out.push(e.item);
      }
      if (out.length >= max) break;
    }
    return out;
  }

  /**
   * After a block commits: drops what it made stale (nonces at or below the
   * committed one), and what waited behind a gap longer than the policy allows.
   * Returns the expired entries (answer TOKEN_PENDING_EXPIRED).
   */
  prune(last: (account: string) => number, now: number): PendingEntry<T>[] {
    const expired: PendingEntry<T>[] = [];
    const limit = this.policy.expiresAfter * 1000;
    for (const [account, m] of this.byAccount) {
      const l = last(account);
      let next = l + 1;
      while (m.has(next)) next++;
      for (const [n, e] of m) {
        if (n <= l) {
          m.delete(n);
          this.count--;
        } else if (n > next && now - e.since >= limit) {
          m.delete(n);
          this.count--;
          expired.push(e);
        }
      }
      if (m.size === 0) this.byAccount.delete(account);
    }
    return expired;
  }
}
