/**
 * Browser flap at CI scale: Alice and Bob type for about 12 s while Bob's
 * network goes offline, is cut or stalls every few seconds; both editors, and
 * a fresh load after the relay is killed and restarted, must hold every token
 * exactly once. The scenario is chaos/browser-flap.ts, shared with `npm run chaos`.
 */
import { expect, test } from '@playwright/test';

import { FLAP_DURATION_MS, runBrowserFlap } from '../../chaos/browser-flap';
import { chooseSeed } from '../../chaos/random';

// Typing, then up to 10 s (the backoff cap) for Bob to come back, then a restart of the app.
const FLAP_TEST_TIMEOUT_MS = 120_000;

test('two people type through a flapping network: both editors and the disk agree, every token exactly once', async ({ browser }) => {
  test.setTimeout(FLAP_TEST_TIMEOUT_MS);
  const report = await runBrowserFlap({ browser, durationMs: FLAP_DURATION_MS.ci, seed: chooseSeed() });
  test.info().annotations.push({ type: 'figures', description: JSON.stringify(report.figures) });
  expect(report.failures).toEqual([]);
});
