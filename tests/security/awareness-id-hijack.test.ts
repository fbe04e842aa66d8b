/**
 * Attack: take over a returning person's presence. Once, the relay kept a
 * closed connection's client ids with their clocks: a returning peer whose
 * clock had not moved was ignored, and anyone could claim the id with a huge
 * clock, locking its owner out for as long as the room stayed loaded.
 * Rules (SPEC P7): when a connection closes, its ids are forgotten completely,
 * states and clocks; while one is owned, nobody else may set or remove it.
 */
import { afterEach, expect, it } from 'vitest';

import { encode, encodeAwarenessUpdate } from '../../lib/protocol';
import { Teardown, connectClient, makeTempDir, openConnections, openRawSocket, socketUrl, startRelay, waitForSync, waitUntil } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

it('[P7] a person who returns is seen again, whatever an attacker did with their id meanwhile', async () => {
  const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
  const watcher = connectClient(teardown, relay, 'hijack');
  const alice = connectClient(teardown, relay, 'hijack');
  await Promise.all([waitForSync(watcher), waitForSync(alice)]);
  const aliceId = alice.doc.clientID;
  alice.provider.awareness.setLocalStateField('user', { name: 'Alice', color: '#2b8a3e' });
  await waitUntil(() => watcher.provider.awareness.getStates().get(aliceId)?.user?.name === 'Alice', { what: 'alice present' });
  const aliceClock = alice.provider.awareness.meta.get(aliceId)!.clock;

  // While Alice is connected, her id is hers alone.
  const mallory = await openRawSocket(teardown, socketUrl(relay, 'hijack', 'viewer'));
  const claim = (clock: number, name: string) =>
    mallory.send(encode({ type: 'awareness', update: encodeAwarenessUpdate([{ clientId: aliceId, clock, state: { user: { name, color: '#000000' } } }]) }));
  claim(aliceClock + 1_000, 'Mallory as Alice');

  alice.provider.disconnect();
  // Her client says goodbye before its socket closes: wait for the relay to see the close itself.
  await waitUntil(async () => (await openConnections(relay)) === 2, { what: 'alice gone' });
  // Mallory claims the free id with a clock no real client reaches, then leaves.
  claim(2 ** 50, 'Mallory');
  await waitUntil(() => watcher.provider.awareness.getStates().get(aliceId)?.user?.name === 'Mallory', { what: 'the claim' });
  mallory.socket.close();
  await waitUntil(async () => (await openConnections(relay)) === 1, { what: 'mallory gone' });
  await waitUntil(() => !watcher.provider.awareness.getStates().has(aliceId), { what: 'her claim removed' });

  // Alice comes back with her own, far smaller clock: the relay hears her.
  const observer = connectClient(teardown, relay, 'hijack');
  alice.provider.connect();
  await waitUntil(() => observer.provider.awareness.getStates().get(aliceId)?.user?.name === 'Alice', { what: 'alice seen again' });
  expect(observer.provider.awareness.getStates().get(aliceId)).toMatchObject({ user: { name: 'Alice' }, role: 'editor' });
});
