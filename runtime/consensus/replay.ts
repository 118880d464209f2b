/**
 * Restart: rebuild a node's state for its current height from the signer
 * store and the WAL. Pure: the host loads the records and executes the
 * returned effects (re-sending what the guard allows, re-arming timeouts).
 */
import { createState, type ConsensusConfig, type ConsensusState, type StartPoint } from "./state.js";
import { step } from "./step.js";
import type { ConsensusEffect, WalEntry } from "./types.js";

/**
 * `start`, then every WAL entry of `point.height` in order. `wal` effects of
 * the replayed events are left out (already in the log); new ones (a
 * signature the guard allowed, a decision's next height) are kept.
 */
export function restore<S>(
  config: ConsensusConfig<S>,
  point: StartPoint<S>,
  entries: readonly WalEntry[],
  now: number,
): { state: ConsensusState<S>; effects: ConsensusEffect[] } {
  let r = step(createState(config, point), { kind: "start", now });
  const effects: ConsensusEffect[] = [...r.effects];
  const replayed = new Set<unknown>();
  for (const e of entries) {
    if (e.height !== point.height) continue;
    replayed.add(e.event.kind === "message" ? e.event.frame : e.event.timeout);
    r = step(r.state, e.event);
    effects.push(...r.effects);
  }
  const old = (e: ConsensusEffect) =>
    e.kind === "wal" && replayed.has(e.entry.event.kind === "message" ? e.entry.event.frame : e.entry.event.timeout);
  return { state: r.state, effects: effects.filter((e) => !old(e)) };
}
