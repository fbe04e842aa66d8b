/** A small seeded generator (mulberry32), so a failing chaos schedule can be run again from its seed. */

/** Uniform numbers in [0, 1) from `seed`; the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The seed from `CHAOS_SEED` when set (to replay a run), else a fresh one. */
export function pickChaosSeed(): number {
  const fromEnv = Number(process.env.CHAOS_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
}

/** A number drawn uniformly from [min, max). */
export function drawBetween(random: () => number, range: { min: number; max: number }): number {
  return range.min + random() * (range.max - range.min);
}
