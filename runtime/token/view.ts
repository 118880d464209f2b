/**
 * What rules of other cells read as `token`, and the digest of it a block
 * commits to. The view is
 *   { symbol, decimals, height, root, supply, balances: { KEY: N } }
 * with amounts as JSON numbers while they are at most 2^53 − 1 base units (the
 * rules' exact range) and as decimal strings beyond (arithmetic on such a
 * value faults with RULES_RUNTIME instead of rounding). Rules read
 * `{ var: "token.balances.{signer}" }` (0 with a default:
 * `{ var: ["token.balances.{signer}", 0] }`) and `{ var: token.supply }`.
 * The view is a pure function of a committed token state and its height, so a
 * block that names (height, root) names exactly what its rules read.
 */
import type { Json } from "../core/canonical.js";
import type { TokenPlan } from "../definition/plan.js";
import { inKeyOrder, tokenStateRoot } from "./encode.js";
import type { TokenState } from "./types.js";

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** An amount as rules see it. */
export function ruleAmount(v: bigint): number | string {
  return v <= SAFE ? Number(v) : v.toString(10);
}

const cache = new WeakMap<TokenState, Map<number, Json>>();

/**
 * The read-only view of `state` (committed at token height `height`) that
 * rules read as `token`; cached per state. `root`, when the caller holds it,
 * is tokenStateRoot(state) (a chain state carries it): not hashed again, a
 * fifth of a view's cost.
 */
export function tokenView(plan: TokenPlan, state: TokenState, height: number, root?: string): Json {
  let byHeight = cache.get(state);
  const known = byHeight?.get(height);
  if (known !== undefined) return known;
  const balances: Record<string, Json> = {};
  // In key order: the map itself when blocks kept it sorted (apply.ts), else a sorted copy.
  for (const [k, v] of inKeyOrder(state.balances)) balances[k] = ruleAmount(v);
  const view: Json = Object.freeze({ symbol: plan.symbol, decimals: plan.decimals, height, root: root ?? tokenStateRoot(state), supply: ruleAmount(state.supply), balances: Object.freeze(balances) }) as Json;
  if (!byHeight) cache.set(state, (byHeight = new Map()));
  byHeight.set(height, view);
  return view;
}

/** What a cell's block commits to of the token it read: the token height and state root of the view. */
export function tokenReadCommitment(view: Json): { height: number; root: string } | null {
  if (view === null || typeof view !== "object" || Array.isArray(view)) return null;
  const v = view as { height?: Json; root?: Json };
  return typeof v.height === "number" && typeof v.root === "string" ? { height: v.height, root: v.root } : null;
}
