/**
 * Attack: read the relay's internals from outside — how many people are
 * connected, which attacks are being refused — to time an attack or watch one
 * work. Rules (SPEC O1, O2): /metrics is never served on the public port, only
 * on COLLAB_METRICS_PORT, bound to 127.0.0.1 unless a bearer token guards it
 * (start-up refuses otherwise); /healthz answers a status and nothing more.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { Teardown, connectClient, makeTempDir, waitForSync } from '../helpers/relay';
import { metricsUrlOf, runRelayExpectingFailure, spawnRelay } from '../helpers/relay-process';

const teardown = new Teardown();
afterEach(() => teardown.run());

const METRICS_TOKEN = 'metrics-token-of-at-least-thirty-two-chars';

describe('[O1][O2] metrics and health', () => {
  it('serves no metrics and no counts on the public port; metrics only on their own loopback port', async () => {
    const relay = await spawnRelay(teardown, { COLLAB_DATA_DIR: await makeTempDir(teardown), COLLAB_METRICS_PORT: '0' });
    const client = connectClient(teardown, relay, 'counted');
    await waitForSync(client);
    expect((await fetch(`http://127.0.0.1:${relay.port}/metrics`)).status).toBe(404);
    expect(await (await fetch(`http://127.0.0.1:${relay.port}/healthz`)).json()).toEqual({ status: 'ok' });
    const metricsUrl = metricsUrlOf(relay);
    expect(new URL(metricsUrl).hostname).toBe('127.0.0.1');
    expect(new URL(metricsUrl).port).not.toBe(String(relay.port));
    expect(await (await fetch(metricsUrl)).text()).toContain('inkwell_relay_connections 1');
  });

  it('asks for the bearer token when one is set', async () => {
    const relay = await spawnRelay(teardown, {
      COLLAB_DATA_DIR: await makeTempDir(teardown),
      COLLAB_METRICS_PORT: '0',
      COLLAB_METRICS_TOKEN: METRICS_TOKEN,
    });
    const metricsUrl = metricsUrlOf(relay);
    const anonymous = await fetch(metricsUrl);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect((await fetch(metricsUrl, { headers: { Authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401);
    const authorized = await fetch(metricsUrl, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(authorized.status).toBe(200);
    expect(await authorized.text()).toContain('inkwell_relay_connections');
  });

  it('refuses to serve metrics on a non-loopback address without a token, naming the variable', async () => {
    const { code, stderr } = await runRelayExpectingFailure({
      COLLAB_DATA_DIR: await makeTempDir(teardown),
      COLLAB_METRICS_PORT: '0',
      COLLAB_METRICS_HOST: '0.0.0.0',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('COLLAB_METRICS_TOKEN');
  });
});
