/**
 * How a timeout, which is not deterministic across machines, is kept from
 * splitting validators (docs/sandbox.md "Timeouts"). The proposer's verdicts
 * travel in the proposal; a validator re-executes with `RunOptions.verify`:
 *
 * - an input the proposer timed out is a timeout for the validator too iff the
 *   validator's own run of it takes at least `timeMs * TIMEOUT_AGREE_FRACTION`
 *   (a machine up to 2x faster still agrees); a much faster run means the
 *   proposer lied or is broken, and the validator prevotes nil;
 * - an input the proposer completed gets `timeMs * TIMEOUT_GRACE_FACTOR` on the
 *   validator (a machine up to 4x slower still agrees); only past that does the
 *   validator report a timeout, differ from the proposal and prevote nil.
 *
 * The budget itself is a liveness guard: it bounds how long one input can hold
 * a cell, and is never a consensus value.
 *
 * The block budget (`limits.blockTimeMs`, shared by all hook calls of a block)
 * follows the same rules: the proposer's SANDBOX_BLOCK_BUDGET verdicts travel
 * in the proposal, a validator refuses exactly those inputs without running
 * them (`RunOptions.verify.blockBudget`), runs the others under a block limit
 * of `blockTimeMs * TIMEOUT_GRACE_FACTOR`, and checks with `blockBudgetAgrees`
 * that its own time makes the proposer's cut plausible.
 */

/** A validator agrees with a proposer's timeout when its own run takes at least this share of the budget. */
export const TIMEOUT_AGREE_FRACTION = 0.5;

/** A validator lets an input the proposer completed run this many budgets before calling it a timeout. */
export const TIMEOUT_GRACE_FACTOR = 4;

/** Per-input time rules of one call: the budget, and the agreement bound (-1: none). */
export interface ItemTiming {
  budgetMs: number;
  /** When >= 0, a run at least this long is reported as SANDBOX_TIMEOUT even if it completed. */
  agreeMs: number;
}

/**
 * The time rules for an input with block index `index`. Proposer mode
 * (`verify` undefined): the plain budget. Validator mode: see the module doc.
 */
export function itemTiming(timeMs: number, index: number, verify: { timedOut: ReadonlySet<number> } | undefined): ItemTiming {
  if (verify === undefined) return { budgetMs: timeMs, agreeMs: -1 };
  if (verify.timedOut.has(index)) return { budgetMs: timeMs, agreeMs: Math.ceil(timeMs * TIMEOUT_AGREE_FRACTION) };
  return { budgetMs: timeMs * TIMEOUT_GRACE_FACTOR, agreeMs: -1 };
}

/**
 * Whether a validator agrees with a proposer that refused inputs
 * SANDBOX_BLOCK_BUDGET: its own hook calls for the block (which skipped the
 * refused inputs, so they ran what the proposer ran before its cut) took at
 * least `blockTimeMs * TIMEOUT_AGREE_FRACTION` (`spentMs` is
 * `BlockBudget.spentMs` after the block). A validator that ran them much
 * faster has evidence that the proposer cut the block early (to censor inputs)
 * and prevotes nil. Call it only when the proposal has such verdicts.
 * @example blockBudgetAgrees(1300, 2000) // true: a machine up to 2x faster agrees
 */
export function blockBudgetAgrees(spentMs: number, blockTimeMs: number): boolean {
  return spentMs >= blockTimeMs * TIMEOUT_AGREE_FRACTION;
}

/**
 * The block limit of a call: the cell's `blockTimeMs`, or the grace limit in
 * validator mode. `proposerCapMs` (a node's quota, `CreateCodeRunnerOptions.proposerBlockTimeMs`)
 * can only lower the proposer-mode limit, and never below
 * `blockTimeMs * PROPOSER_CAP_FLOOR`: validators believe a cut only when their
 * own run of the block took at least `blockTimeMs * TIMEOUT_AGREE_FRACTION`,
 * so a cut earlier than that would have this node's proposals refused. The
 * validator-mode limit is never lowered: a validator that cut a block its
 * group certified could not apply it.
 * @example blockLimitMs(2000, false, 500) // 1500: the floor, 3/4 of the cell's own
 */
export function blockLimitMs(blockTimeMs: number, validator: boolean, proposerCapMs?: number): number {
  if (validator) return blockTimeMs * TIMEOUT_GRACE_FACTOR;
  if (proposerCapMs === undefined || proposerCapMs >= blockTimeMs) return blockTimeMs;
  return Math.max(proposerCapMs, Math.ceil(blockTimeMs * PROPOSER_CAP_FLOOR));
}

/**
 * The least share of a cell's `blockTimeMs` a node's quota may leave its
 * proposals: a validator up to 1.5x faster than this node still finds the cut
 * plausible (`blockBudgetAgrees`: its own time at least half the cell's).
 */
export const PROPOSER_CAP_FLOOR = 0.75;
