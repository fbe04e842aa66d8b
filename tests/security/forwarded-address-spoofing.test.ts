/**
 * Attacks on per-client budgets through addresses. Behind a reverse proxy every
 * user shares the proxy's address, so one person could lock everyone out; and a
 * client that writes its own `X-Forwarded-For` could dodge every limit.
 * Rules (SPEC P1c): `X-Forwarded-For` counts only from COLLAB_TRUSTED_PROXIES;
 * IPv6 clients share a budget per /64; upgrades and the links API have separate budgets.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { Teardown, makeTempDir, postJson, socketUrl, startRelay, upgradeStatus, type TestRelay } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

/** The status of an upgrade sent as if through a proxy that appended `clientAddress`. */
function upgradeVia(relay: TestRelay, clientAddress: string): Promise<number> {
  return upgradeStatus(`${relay.url}/budget`, { headers: { 'X-Forwarded-For': clientAddress } });
}

async function linksApiVia(relay: TestRelay, clientAddress: string): Promise<number> {
  return (await postJson(relay, '/api/links/check', { docId: 'budget', token: 'junk' }, { 'X-Forwarded-For': clientAddress })).status;
}

/** A relay that trusts the loopback proxy the tests pose as, with two attempts a minute per client. */
async function startBehindProxy(): Promise<TestRelay> {
  return startRelay(teardown, { dataDir: await makeTempDir(teardown), maxConnectAttemptsPerMinute: 2, trustedProxies: ['127.0.0.1/32', '::1'] });
}

describe('[P1c] client addresses', () => {
  it('ignores X-Forwarded-For from a client that is not a trusted proxy', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), maxConnectAttemptsPerMinute: 3 });
    expect([await upgradeVia(relay, '203.0.113.1'), await upgradeVia(relay, '203.0.113.2'), await upgradeVia(relay, '203.0.113.3')]).toEqual([
      401, 401, 401,
    ]);
    // A fourth made-up address does not buy a fresh budget.
    expect(await upgradeVia(relay, '203.0.113.4')).toBe(429);
  });

  it('behind a trusted proxy, one client using up its budget leaves the others theirs', async () => {
    const relay = await startBehindProxy();
    expect([await upgradeVia(relay, '203.0.113.1'), await upgradeVia(relay, '203.0.113.1')]).toEqual([401, 401]);
    expect(await upgradeVia(relay, '203.0.113.1')).toBe(429);
    expect(await upgradeVia(relay, '203.0.113.2')).toBe(401);
    // A client cannot pick its address by writing one in front of what the proxy appended.
    expect(await upgradeVia(relay, '198.51.100.9, 203.0.113.1')).toBe(429);
  });

  it('counts IPv6 clients per /64', async () => {
    const relay = await startBehindProxy();
    expect(await upgradeVia(relay, '2001:db8:a:b::1')).toBe(401);
    expect(await upgradeVia(relay, '2001:db8:a:b:ffff::2')).toBe(401);
    expect(await upgradeVia(relay, '2001:db8:a:b:1234:5678:9abc:def0')).toBe(429);
    expect(await upgradeVia(relay, '2001:db8:a:c::1')).toBe(401);
  });

  it('keeps separate budgets for upgrades and for the links API', async () => {
    const relay = await startRelay(teardown, {
      dataDir: await makeTempDir(teardown),
      maxConnectAttemptsPerMinute: 2,
      maxApiRequestsPerMinute: 2,
    });
    expect([await linksApiVia(relay, ''), await linksApiVia(relay, '')]).toEqual([200, 200]);
    expect(await linksApiVia(relay, '')).toBe(429);
    // The API's budget is spent; upgrades still have theirs.
    expect(await upgradeStatus(`${relay.url}/budget`)).toBe(401);
    expect(await upgradeStatus(`${relay.url}/budget`)).toBe(401);
    expect(await upgradeStatus(socketUrl(relay, 'budget'))).toBe(429);
  });
});
