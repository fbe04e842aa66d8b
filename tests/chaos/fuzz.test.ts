/**
 * The fuzz chaos campaign at CI scale: 20,000 generated frames against the real
 * relay process. CI replays one fixed seed (the one whose long run found the
 * partial-update and bricked-snapshot bugs, P5a and S17), so a red build is a
 * regression, never a new draw; `npm run chaos` draws new seeds, and whatever it
 * finds is replayed with CHAOS_SEED.
 */
import { describe, expect, it } from 'vitest';

import { fuzz } from '../../chaos/fuzz';

const CI_SEED = '1058511603';
process.env.CHAOS_SEED ||= CI_SEED;

describe('chaos: fuzz', () => {
  it('refuses every bad frame, stays up, keeps honest peers syncing and stores nothing from a refused frame', async () => {
    const report = await fuzz.run('ci');
    expect(report.passed, `${report.failures.join('\n')}\nfigures: ${JSON.stringify(report.figures)}`).toBe(true);
  }, 120_000);
});
