import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('allows a burst of its capacity, then refuses until tokens come back', () => {
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 1 }, 0);
    expect([1, 2, 3].map(() => bucket.tryTake(1, 0))).toEqual([true, true, true]);
    expect(bucket.tryTake(1, 0)).toBe(false);
    expect(bucket.tryTake(1, 999)).toBe(false);
    expect(bucket.tryTake(1, 1000)).toBe(true);
  });

  it('never holds more than its capacity, however long it rests', () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 10 }, 0);
    expect(bucket.tryTake(2, 0)).toBe(true);
    expect(bucket.isFull(3_600_000)).toBe(true);
    expect(bucket.tryTake(3, 3_600_000)).toBe(false);
    expect(bucket.tryTake(2, 3_600_000)).toBe(true);
  });

  it('refuses a cost larger than what it holds without spending anything', () => {
    const bucket = new TokenBucket({ capacity: 100, refillPerSecond: 0 }, 0);
    expect(bucket.tryTake(101, 0)).toBe(false);
    expect(bucket.tryTake(100, 0)).toBe(true);
  });

  it('takes a cost already incurred into debt once, then refuses until the debt is repaid', () => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10 }, 0);
    expect(bucket.spend(25, 0)).toBe(true);
    expect(bucket.spend(1, 0)).toBe(false);
    expect(bucket.spend(1, 1_400)).toBe(false);
    expect(bucket.spend(1, 1_600)).toBe(true);
  });

  it('mints nothing when the clock steps back', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 }, 10_000);
    expect(bucket.tryTake(1, 10_000)).toBe(true);
    expect(bucket.tryTake(1, 0)).toBe(false);
    expect(bucket.tryTake(1, 10_500)).toBe(false);
    expect(bucket.tryTake(1, 11_000)).toBe(true);
  });

  it('over any run of requests, grants at most capacity + rate × elapsed time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 2_000 }), cost: fc.integer({ min: 1, max: 10 }) }), { maxLength: 200 }),
        (capacity, refillPerSecond, requests) => {
          const bucket = new TokenBucket({ capacity, refillPerSecond }, 0);
          let now = 0;
          let granted = 0;
          for (const { gapMs, cost } of requests) {
            now += gapMs;
            if (bucket.tryTake(cost, now)) granted += cost;
          }
          expect(granted).toBeLessThanOrEqual(capacity + (refillPerSecond * now) / 1000 + 1e-9);
        },
      ),
    );
  });
});
