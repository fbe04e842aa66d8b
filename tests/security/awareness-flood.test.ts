/**
 * Attack: flood a room's awareness with fresh client ids (50,000 in one
 * message, or a few in each of many), growing the relay's memory and every
 * peer's presence list. Rules (SPEC P6a): a connection owns at most
 * COLLAB_MAX_AWARENESS_IDS_PER_CONNECTION ids; a message may hold only as many
 * entries as the room knows ids, plus a few; a connection that keeps sending
 * refused entries is closed with 1008. Peers never see more than its allowance.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { CLOSE_CODES, encode, encodeAwarenessUpdate, type AwarenessEntry } from '../../lib/protocol';
import { Teardown, connectPeerPair, makeTempDir, openRawSocket, socketUrl, startRelay, waitUntil } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

const STATE = { user: { name: 'Flood', color: '#000000' } };

function awarenessFrame(entries: AwarenessEntry[]): Uint8Array {
  return encode({ type: 'awareness', update: encodeAwarenessUpdate(entries) });
}

async function startWatchedRoom(docId: string) {
  const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
  const { alice: editor, bob: watcher, expectLive } = await connectPeerPair(teardown, relay, docId);
  return { relay, watcher, editor, expectLive };
}

describe('[P6a] awareness floods', () => {
  it('closes a message of 50,000 fresh ids with 1008 before storing any', async () => {
    const { relay, watcher, expectLive } = await startWatchedRoom('flood-one');
    const raw = await openRawSocket(teardown, socketUrl(relay, 'flood-one', 'viewer'));
    const floodIds = new Set(Array.from({ length: 50_000 }, (_, i) => 1_000_000 + i));
    raw.send(awarenessFrame([...floodIds].map((clientId) => ({ clientId, clock: 1, state: STATE }))));
    const closed = await raw.closed;
    expect(closed.code).toBe(CLOSE_CODES.policyViolation);
    expect(closed.reason).toMatch(/exceeds the limit/);
    await expectLive('after');
    expect([...watcher.provider.awareness.getStates().keys()].filter((id) => floodIds.has(id))).toEqual([]);
  });

  it('lets one connection own four ids, refuses the rest, and closes it when it keeps trying', async () => {
    const { relay, watcher } = await startWatchedRoom('flood-many');
    const raw = await openRawSocket(teardown, socketUrl(relay, 'flood-many', 'viewer'));
    const floodIds = new Set<number>();
    let nextId = 2_000_000;
    // Each message waits for the relay's answer to the one before, so the last ids tried are the ones refused.
    for (let message = 0; message < 20 && raw.socket.readyState === raw.socket.OPEN; message++) {
      const ids = [nextId++, nextId++, nextId++, nextId++];
      for (const id of ids) floodIds.add(id);
      raw.send(awarenessFrame(ids.map((clientId) => ({ clientId, clock: 1, state: STATE }))));
      if (message === 0) await waitUntil(() => ids.every((id) => watcher.provider.awareness.getStates().has(id)), { what: 'the first four' });
    }
    const closed = await raw.closed;
    expect(closed.code).toBe(CLOSE_CODES.policyViolation);
    expect(closed.reason).toMatch(/repeated invalid awareness: more than 4 awareness client ids/);
    // The four it owned reached the others, nothing more, and they leave with it.
    const seen = (): number[] => [...watcher.provider.awareness.getStates().keys()].filter((id) => floodIds.has(id));
    expect(seen().every((id) => id < 2_000_004)).toBe(true);
    await waitUntil(() => seen().length === 0, { what: 'the flood leaves' });
  });
});
