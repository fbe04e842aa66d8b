/**
 * Attack: an update that decodes cleanly but makes Yjs throw halfway through
 * integrating it (found by the chaos fuzz), leaving the relay's copy of the
 * document half-changed: acknowledgements from that copy would claim on disk what
 * never reached it, and the next load could fail. Rule (SPEC P5a): the sender is
 * closed with 1002, every other session with 1012, and the room reloads from
 * storage; nothing of the update is stored, and nothing acknowledged is lost.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { CLOSE_CODES, encode } from '../../lib/protocol';
import { UPDATE_THAT_BREAKS_OFF } from '../helpers/documents';
import { Teardown, connectClient, makeTempDir, openRawSocket, socketUrl, startRelay, waitForSaved, waitForSync, waitUntil } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

describe('[P5a] an update that breaks off while being integrated', () => {
  it('closes its sender, reloads the room from storage, and everyone comes back to what is stored', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startRelay(teardown, { dataDir });
    const alice = connectClient(teardown, relay, 'broken-off', { savedAcks: true });
    await waitForSync(alice);
    alice.text.insert(0, 'kept;');
    await waitForSaved(alice);
    const closes: number[] = [];
    alice.provider.on('connection-close', (event: { code: number } | null) => {
      if (event) closes.push(event.code);
    });

    const mallory = await openRawSocket(teardown, socketUrl(relay, 'broken-off'));
    mallory.send(encode({ type: 'update', update: UPDATE_THAT_BREAKS_OFF }));
    expect((await mallory.closed).code).toBe(CLOSE_CODES.protocolError);
    await waitUntil(() => closes.includes(CLOSE_CODES.serviceRestart), { what: 'the other session closed with 1012' });

    // Alice's stock client reconnects on its own; her next change is saved as usual.
    await waitUntil(() => alice.provider.wsconnected && alice.provider.synced, { what: 'alice back' });
    alice.text.insert(alice.text.length, 'after;');
    await waitForSaved(alice);
    const reader = connectClient(teardown, relay, 'broken-off');
    await waitForSync(reader);
    expect(reader.text.toString()).toBe('kept;after;');
  });
});
