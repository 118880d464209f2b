/**
 * A group's validators bound to their public keys, with the quorum numbers
 * the rules use. Built once per (channel, cell) group when the node loads.
 */
import { StatecellError } from "../core/errors.js";
import type { GroupPlan } from "../definition/plan.js";

const KEY_HEX = /^[0-9a-f]{64}$/;

export interface ValidatorSet {
  group: string;
  /** Validator names in plan order (proposer rotation follows it). */
  names: readonly string[];
  /** Public keys (64 hex), same order as `names`. */
  keys: readonly string[];
  /** Public key -> index in `keys`. */
  index: ReadonlyMap<string, number>;
  /** n */
  size: number;
  /** q: matching signatures that decide. */
  quorum: number;
  /** f + 1 with f = n - q: messages from a higher round that make a node skip to it. */
  skip: number;
}

/**
 * Binds a GroupPlan to keys (`keys[name]` = public key hex from the network file).
 * @throws StatecellError CONSENSUS_MISSING_KEY, CONSENSUS_DUPLICATE_KEY, CONSENSUS_UNSAFE_THRESHOLD
 * @example validatorSet(plan.groups.edge, { "edge-1": "ab12…", ... }).quorum // 3
 */
export function validatorSet(group: GroupPlan, keys: Readonly<Record<string, string>>): ValidatorSet {
  const n = group.validators.length;
  const q = group.threshold.quorum;
  if (n === 0 || !Number.isInteger(q) || q < 1 || q > n || 3 * q <= 2 * n) {
    // The loader refuses these too; re-checked here because a plan can be built by hand.
    throw new StatecellError(
      "CONSENSUS_UNSAFE_THRESHOLD",
      `group "${group.name}": a quorum of ${q} of ${n} is not safe: two quorums must share more validators (2q-n = ${2 * q - n}) than may be faulty (n-q = ${n - q})`,
      { remedy: `use a threshold of at least ${Math.floor((2 * n) / 3) + 1} (or "2/3")`, payload: { group: group.name, quorum: q, size: n } },
    );
  }
  const out: string[] = [];
  const index = new Map<string, number>();
  group.validators.forEach((name, i) => {
    const key = keys[name];
    if (typeof key !== "string" || !KEY_HEX.test(key)) {
      throw new StatecellError("CONSENSUS_MISSING_KEY", `validator "${name}" of group "${group.name}" has no public key`, {
        remedy: `add "${name}" with its 64-hex public key to the network file`,
        payload: { group: group.name, validator: name },
      });
    }
    if (index.has(key)) {
      throw new StatecellError("CONSENSUS_DUPLICATE_KEY", `validators "${group.validators[index.get(key)!]}" and "${name}" of group "${group.name}" share one key`, {
        remedy: "give every validator its own key: one key counted twice would let one machine count as two votes",
        payload: { group: group.name, validator: name },
      });
    }
    index.set(key, i);
    out.push(key);
  });
  return { group: group.name, names: group.validators, keys: out, index, size: n, quorum: q, skip: n - q + 1 };
}

/** Proposer of (height, round): rotation over the plan order. */
export function proposerOf(set: ValidatorSet, height: number, round: number): string {
  return set.keys[(height + round) % set.size];
}
