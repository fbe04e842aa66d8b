/**
 * A token bucket: `capacity` tokens at most, refilled continuously at
 * `refillPerSecond`. Written here rather than taken from a library because it
 * runs on every frame of every connection: it must be synchronous and
 * allocation-free, and keyed libraries (rate-limiter-flexible, limiter) are
 * promise- or timer-based.
 */

/** The shape of a budget: how much may be spent at once, and how fast it comes back. */
export interface BucketSpec {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** One budget, full when created. Time is passed in (ms), so tests need no clock. */
export class TokenBucket {
  private tokens: number;
  private updatedAtMs: number;

  constructor(
    private readonly spec: BucketSpec,
    nowMs: number,
  ) {
    this.tokens = spec.capacity;
    this.updatedAtMs = nowMs;
  }

  /** Takes `cost` tokens if there are that many; returns false (and takes none) otherwise. */
  tryTake(cost: number, nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /**
   * Charges a cost already incurred: refused (false) only when the bucket was
   * empty; otherwise it may go into debt, which later refills repay. For costs
   * measured after the fact, where one large cost must not be refused forever.
   */
  spend(cost: number, nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens <= 0) return false;
    this.tokens -= cost;
    return true;
  }

  /** True when at least half the capacity is left: whoever holds it has not been spending much lately. */
  isMostlyFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.spec.capacity / 2;
  }

  /** True when anything is left (not empty, not in debt). */
  hasAny(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens > 0;
  }

  /** True when the bucket is full again: a keyed limiter may forget it, since a new one starts full. */
  isFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.spec.capacity;
  }

  private refill(nowMs: number): void {
    // A clock that steps back must not mint tokens.
    const elapsedMs = Math.max(0, nowMs - this.updatedAtMs);
    this.updatedAtMs = Math.max(this.updatedAtMs, nowMs);
    if (elapsedMs > 0) this.tokens = Math.min(this.spec.capacity, this.tokens + (elapsedMs / 1000) * this.spec.refillPerSecond);
  }
}
