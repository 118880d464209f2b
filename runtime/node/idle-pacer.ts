/**
 * Idle pacing of one group at one node: the timers port of a cell host.
 *
 * After a decision the consensus core asks for a `commit` timeout before
 * round 0 of the next height. Fired as asked (15 ms), an idle group would
 * decide about ten empty blocks a second for ever. The pacer holds that one
 * timeout while there is nothing to put in a block, and lets it fire as soon
 * as there is (`wake`: inputs or upstream outputs offered, or a peer's
 * message of the next height, which means a peer has started it; `hasWork`
 * answers true for both, so one that came before the hold began counts), or at the
 * latest a heartbeat after the decision, so an idle cell still commits an
 * empty block about once a second (catch-up, readiness and snapshots keep a
 * moving head to follow).
 *
 * Why this is safe and live: holding a commit timeout only delays when this
 * node starts the next height; no vote depends on it. Every validator of the
 * group holds the same way, so an idle proposer and its peers start the next
 * height within a few ms of each other at the heartbeat; with work, the node
 * that has it starts at once and its proposal or prevote wakes the others.
 * Every other timeout (propose, prevote, precommit) fires exactly as asked.
 */
import type { Timers, TimeoutRef } from "../consensus/index.js";

/** Longest wait before an idle group's next height starts (ms). */
export const IDLE_HEARTBEAT_MS = 1000;

export interface IdlePacer extends Timers {
  /** There is work for the next block: a held next height starts now. */
  wake(): void;
  /** True while this node holds the start of the next height. */
  readonly holding: boolean;
}

/**
 * @param hasWork whether the host has inputs for the next block (asked when the commit timeout is due)
 * @param heartbeatMs longest hold, counted from when the commit timeout was scheduled
 */
export function createIdlePacer(hasWork: () => boolean, heartbeatMs = IDLE_HEARTBEAT_MS): IdlePacer {
  let held: { fire: () => void; timer: NodeJS.Timeout } | null = null;
  const later = (ms: number, f: () => void): NodeJS.Timeout => {
    const t = setTimeout(f, ms);
    t.unref?.();
    return t;
  };
  const release = (): void => {
    if (held === null) return;
    const { fire, timer } = held;
    held = null;
    clearTimeout(timer);
    fire();
  };
  return {
    schedule(ms: number, fire: () => void, timeout?: TimeoutRef): void {
      if (timeout?.step !== "commit") {
        later(ms, fire);
        return;
      }
      const since = Date.now();
      later(ms, () => {
        if (hasWork()) return fire();
        // A newer hold replaces an older one: the driver ignores the stale timer's fire anyway.
        if (held !== null) release();
        held = { fire, timer: later(Math.max(0, heartbeatMs - (Date.now() - since)), release) };
      });
    },
    wake: release,
    get holding() {
      return held !== null;
    },
  };
}
