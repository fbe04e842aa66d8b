/**
 * Seeded randomness for the campaigns' timing and choices, so a failing run can
 * be replayed: every campaign reports its seed, and CHAOS_SEED sets it.
 */

/** A seed from CHAOS_SEED, or a fresh one. */
export function chooseSeed(): number {
  const fromEnv = Number(process.env.CHAOS_SEED);
  return Number.isSafeInteger(fromEnv) && process.env.CHAOS_SEED !== '' ? fromEnv : Math.floor(Math.random() * 2 ** 31);
}

/** A small deterministic generator (mulberry32): uniform numbers from a seed. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** An integer in [min, max]. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}
