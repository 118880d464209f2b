/**
 * Byte-rate limiter: a token bucket that may go into debt. A frame is let
 * through whenever the bucket is not in debt, and its whole size is taken,
 * so frames larger than the burst still pass (one at a time) and the long-run
 * rate holds: over any span t, at most burst + rate * t + one frame.
 * Pure: the time is passed in (ms, monotonic).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
    private burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Tokens now: positive is credit, negative is debt. */
  level(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** Changes the rate and burst (the peer announced lower limits); the current level is capped at the new burst. */
  reconfigure(rate: number, burst: number, now: number): void {
    this.refill(now);
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  /** Takes `bytes` (possibly into debt). */
  take(bytes: number, now: number): void {
    if (this.rate === Infinity) return;
    this.refill(now);
    this.tokens -= bytes;
  }

  /** Milliseconds until the bucket is out of debt (0 when it is not in debt). */
  waitMs(now: number): number {
    if (this.rate === Infinity) return 0;
    this.refill(now);
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
    }
  }
}
