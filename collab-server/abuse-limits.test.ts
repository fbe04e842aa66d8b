import { describe, expect, it } from 'vitest';

import { KeyedRateLimiter, OpenSocketCounter } from './abuse-limits';

describe('KeyedRateLimiter', () => {
  it('gives each key its own budget per minute', () => {
    const limiter = new KeyedRateLimiter(2);
    expect([limiter.tryTake('a', 0), limiter.tryTake('a', 0), limiter.tryTake('a', 0)]).toEqual([true, true, false]);
    expect(limiter.tryTake('b', 0)).toBe(true);
    expect(limiter.tryTake('a', 30_000)).toBe(true);
  });

  it('forgets keys whose budget refilled', () => {
    const limiter = new KeyedRateLimiter(2);
    limiter.tryTake('a', 0);
    limiter.tryTake('b', 59_000);
    limiter.prune(60_000);
    expect(limiter.size).toBe(1);
  });
});

describe('OpenSocketCounter', () => {
  it('refuses past the cap and gives a slot back once per release, however often it is called', () => {
    const counter = new OpenSocketCounter(2);
    const first = counter.tryAcquire('a');
    const second = counter.tryAcquire('a');
    expect(first && second).toBeTruthy();
    expect(counter.tryAcquire('a')).toBeNull();
    first!();
    first!();
    expect(counter.countOf('a')).toBe(1);
    expect(counter.tryAcquire('a')).not.toBeNull();
    expect(counter.tryAcquire('b')).not.toBeNull();
  });
});
