/**
 * Reconnect delays: capped exponential backoff with jitter, so that peers
 * that lost each other at the same moment do not redial in lockstep, and a
 * peer that is down is tried less and less often (at most once per cap).
 */

/** Backoff settings (the reconnect* limits). */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /** Fraction taken off at random: 0 = none, 0.5 = uniform in [d/2, d]. */
  jitter: number;
}

/**
 * Delay before reconnect attempt `attempt` (0 for the first after a loss):
 * d = min(maxMs, baseMs * 2^attempt), less jitter * random() of it.
 * `random` returns a number in [0, 1) (Math.random, or a seeded one in tests).
 */
export function reconnectDelay(attempt: number, b: Backoff, random: () => number): number {
  const d = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(attempt, 52));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(0, Math.round(d * (1 - b.jitter * r)));
}
