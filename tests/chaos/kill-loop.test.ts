/** The kill-loop chaos campaign at CI scale: 5 SIGKILLs of the real relay process under saved-acknowledged writers. */
import { describe, expect, it } from 'vitest';

import { killLoop } from '../../chaos/kill-loop';

describe('chaos: kill-loop', () => {
  it('keeps every acknowledged write, stores nothing twice and converges after each SIGKILL', async () => {
    const report = await killLoop.run('ci');
    expect(report.passed, `${report.failures.join('\n')}\nfigures: ${JSON.stringify(report.figures)}`).toBe(true);
  }, 60_000);
});
