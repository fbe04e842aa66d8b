/**
 * Attack: read a token out of a URL (proxy logs, Referer). Rule (SPEC P1a): the
 * relay takes the token from the `Sec-WebSocket-Protocol` header
 * (`inkwell.token.<token>`, offered beside `inkwell`), selects `inkwell` and
 * never echoes the token; stock y-websocket clients may still use `?token=`.
 */
import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';

import { INKWELL_SUBPROTOCOL, socketProtocolsFor } from '../../lib/protocol';
import { Teardown, makeTempDir, startRelay, upgradeStatus } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

it('[P1a] accepts the token in Sec-WebSocket-Protocol, selects the plain subprotocol, and checks it like any token', async () => {
  const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
  const socket = new WebSocket(`${relay.url}/header-token?saved=1`, socketProtocolsFor(relay.tokenFor('header-token')));
  teardown.add(() => socket.terminate());
  const upgraded = new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
    socket.once('upgrade', (response) => resolve(response.headers));
    socket.once('error', reject);
  });
  const opened = new Promise((resolve) => socket.once('open', resolve));
  expect((await upgraded)['sec-websocket-protocol']).toBe(INKWELL_SUBPROTOCOL);
  await opened;
  expect(socket.protocol).toBe(INKWELL_SUBPROTOCOL);

  // The header is checked exactly as the query parameter is.
  const forged = socketProtocolsFor(`${relay.tokenFor('header-token').slice(0, -4)}AAAA`);
  expect(await upgradeStatus(`${relay.url}/header-token`, { headers: { 'Sec-WebSocket-Protocol': forged.join(', ') } })).toBe(401);
  expect(await upgradeStatus(`${relay.url}/other`, { headers: { 'Sec-WebSocket-Protocol': socketProtocolsFor(relay.tokenFor('header-token')).join(', ') } })).toBe(403);
});
