/**
 * What a node re-sends when its height stalls. The paper assumes every
 * message eventually reaches every correct node; a lossy network only gives
 * that if nodes relay what they hold, including other validators' votes
 * (a proof-of-lock may need the prevote of a validator that has moved on).
 * Bounded to the rounds liveness needs: the current and previous round, the
 * lock and valid rounds, and the proof-of-lock rounds of current proposals.
 */
import type { ConsensusState } from "./state.js";
import type { ConsensusMessage } from "./types.js";

/** Signed messages of the current height worth relaying to peers, own and others'. */
export function gossipMessages<S>(state: ConsensusState<S>): ConsensusMessage[] {
  const wanted = new Set<number>([state.round, state.round - 1, state.lockedRound, state.validRound]);
  for (const p of state.rounds[state.round]?.proposals ?? []) wanted.add(p.validRound);
  const out: ConsensusMessage[] = [];
  for (const r of wanted) {
    const R = state.rounds[r];
    if (!R) continue;
    out.push(...R.proposals, ...Object.values(R.prevotes).flat(), ...Object.values(R.precommits).flat());
  }
  return out;
}
