/**
 * Link resets in cluster mode. Rule (SPEC M5, with P10b and L2): a reset
 * posted to one relay process is stored, then logged for the document, so
 * every other relay with the document open ends the sessions it voids with
 * the link-reset close code, and keeps the others.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { CLOSE_CODES } from '../../lib/protocol';
import { lazyClusterServers } from '../helpers/cluster';
import { spawnClusterRelay } from '../helpers/cluster-process';
import { Teardown, connectClient, postJson, waitForSync, waitUntil, type TestClient } from '../helpers/relay';

const servers = lazyClusterServers();
afterAll(() => servers.dispose());
const teardown = new Teardown();
afterEach(() => teardown.run());

/** Resolves with the code of the next close of `client`'s socket. */
function nextCloseCode(client: TestClient): Promise<number> {
  return new Promise((resolve) => client.provider.once('connection-close', (event) => resolve(event?.code ?? -1)));
}

describe('[M5] link resets across relay processes', () => {
  it('[M5] a reset posted to one relay ends, on another, the sessions opened with a link it voids, and only those', async () => {
    const [first, second] = await Promise.all([0, 1].map(async () => spawnClusterRelay(teardown, await servers.get())));
    const docId = 'reset-across';
    // Opened on the second relay with a link issued before the reset.
    const voided = connectClient(teardown, second!, docId);
    await waitForSync(voided);
    const closed = nextCloseCode(voided);

    const reset = await postJson(first!, '/api/links/reset', { docId, token: first!.tokenFor(docId, 'owner') });
    expect(reset.status).toBe(200);
    expect(await closed).toBe(CLOSE_CODES.linkReset);
    voided.provider.destroy();

    // A link the reset issued opens a session there, which stays while the writer on the first relay edits.
    const kept = connectClient(teardown, second!, docId, { params: { token: String(reset.body.editorToken) } });
    const writer = connectClient(teardown, first!, docId, { params: { token: String(reset.body.editorToken) } });
    await Promise.all([waitForSync(kept), waitForSync(writer)]);
    writer.text.insert(0, 'after the reset');
    await waitUntil(() => kept.text.toString() === 'after the reset', { what: 'the edit on the other relay' });
    expect(kept.provider.wsconnected).toBe(true);
  });
});
