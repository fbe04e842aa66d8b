/**
 * Unit tests of the reconnect delay: full jitter within an exponential ceiling
 * that stops at RECONNECT_CAP_MS. Randomness is injected, so every case is exact.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';

import { RECONNECT_BASE_MS, RECONNECT_CAP_MS, fullJitterDelayMs } from './backoff';

/** Just below 1, the largest value `Math.random` can return. */
const ALMOST_ONE = 1 - Number.EPSILON;

/** The documented ceiling, min(cap, base·2^attempt); 2^attempt overflowing to Infinity still gives the cap. */
function expectedCeilingMs(attempt: number): number {
  return Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** attempt);
}

describe('fullJitterDelayMs', () => {
  it('returns 0 when the random source returns 0', () => {
    for (const attempt of [0, 1, 5, 10, 100]) {
      expect(fullJitterDelayMs(attempt, () => 0)).toBe(0);
    }
  });

  it('returns just under the ceiling when the random source returns almost 1', () => {
    expect(fullJitterDelayMs(0, () => ALMOST_ONE)).toBe(RECONNECT_BASE_MS - 1);
    expect(fullJitterDelayMs(1, () => ALMOST_ONE)).toBe(2 * RECONNECT_BASE_MS - 1);
    expect(fullJitterDelayMs(3, () => ALMOST_ONE)).toBe(8 * RECONNECT_BASE_MS - 1);
    expect(fullJitterDelayMs(20, () => ALMOST_ONE)).toBe(RECONNECT_CAP_MS - 1);
  });

  it('doubles the ceiling with each attempt until the cap', () => {
    const half = () => 0.5;
    expect(fullJitterDelayMs(0, half)).toBe(250);
    expect(fullJitterDelayMs(1, half)).toBe(500);
    expect(fullJitterDelayMs(2, half)).toBe(1_000);
    expect(fullJitterDelayMs(4, half)).toBe(4_000);
    // 500 · 2^5 = 16 000 is above the 10 000 cap.
    expect(fullJitterDelayMs(5, half)).toBe(RECONNECT_CAP_MS / 2);
  });

  it('stays capped at RECONNECT_CAP_MS for very large attempt numbers', () => {
    for (const attempt of [31, 100, 1_000, Number.MAX_SAFE_INTEGER]) {
      expect(fullJitterDelayMs(attempt, () => ALMOST_ONE)).toBe(RECONNECT_CAP_MS - 1);
      expect(fullJitterDelayMs(attempt, () => 0.5)).toBe(RECONNECT_CAP_MS / 2);
    }
  });

  it('draws exactly one value from the injected random source', () => {
    const random = vi.fn(() => 0.25);
    expect(fullJitterDelayMs(2, random)).toBe(500);
    expect(random).toHaveBeenCalledTimes(1);
  });

  it('falls back to Math.random when no random source is given', () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    try {
      expect(fullJitterDelayMs(0)).toBe(250);
      expect(random).toHaveBeenCalledTimes(1);
    } finally {
      random.mockRestore();
    }
  });

  it('is a whole number of milliseconds within [0, min(cap, base·2^attempt)] for any attempt and random value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, value) => {
          const delayMs = fullJitterDelayMs(attempt, () => value);
          expect(Number.isInteger(delayMs)).toBe(true);
          expect(delayMs).toBeGreaterThanOrEqual(0);
          expect(delayMs).toBeLessThan(expectedCeilingMs(attempt));
        },
      ),
    );
  });

  it('never shrinks when the random value grows, for a fixed attempt', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 64 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          expect(fullJitterDelayMs(attempt, () => low)).toBeLessThanOrEqual(fullJitterDelayMs(attempt, () => high));
        },
      ),
    );
  });
});
