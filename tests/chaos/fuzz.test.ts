/** The fuzz chaos campaign at CI scale: 20,000 generated frames against the real relay process. */
import { describe, expect, it } from 'vitest';

import { fuzz } from '../../chaos/fuzz';

describe('chaos: fuzz', () => {
  it('refuses every bad frame, stays up, keeps honest peers syncing and stores nothing from a refused frame', async () => {
    const report = await fuzz.run('ci');
    expect(report.passed, `${report.failures.join('\n')}\nfigures: ${JSON.stringify(report.figures)}`).toBe(true);
  }, 120_000);
});
