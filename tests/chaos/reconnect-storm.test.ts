/**
 * The reconnect storm at CI scale (200 clients over 20 documents): the relay
 * restarts under them, first with the app's own session, then with stock
 * y-websocket clients; everyone must come back, synced, with every edit made
 * during the outage present exactly once.
 */
import { expect, it } from 'vitest';

import { reconnectStorm } from '../../chaos/reconnect-storm';

// Recovery alone may take up to the backoff cap (30 s) in an unlucky draw; typically the whole run takes 20–35 s.
const STORM_TIMEOUT_MS = 60_000;

it(
  'every client is back, synced and saved after the relay restarts under it, and the relay survives stock clients',
  async () => {
    const report = await reconnectStorm.run('ci');
    expect(report.failures).toEqual([]);
    expect(report.passed).toBe(true);
  },
  STORM_TIMEOUT_MS,
);
