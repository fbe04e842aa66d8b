/**
 * A relay process killed after it sent an append to Redis and before the
 * reply came back. Rules (SPEC M1, M2): no `saved` is sent before the append's
 * reply; the stock client offers its change again to another relay when it
 * reconnects, and the change, logged once by the dead relay, is in the
 * document exactly once, on every relay and in storage.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { lazyClusterServers } from '../helpers/cluster';
import { countOccurrences, haveConverged, isRunning, loadStoredContent, openTestCluster, spawnClusterRelay } from '../helpers/cluster-process';
import { Teardown, connectClient, covers, isAllSaved, waitForSaved, waitForSync, waitUntil, watchNotSaved } from '../helpers/relay';

// This file pauses its Redis.
const servers = lazyClusterServers();
afterAll(() => servers.dispose());
const teardown = new Teardown();
afterEach(async () => {
  (await servers.get()).redis.resume();
  await teardown.run();
});

describe('[M1] a relay killed between the append and its acknowledgement', () => {
  it('[M1][M2] the client resends to another relay and its edit is in the document exactly once', async () => {
    const cluster = await servers.get();
    // A short stall limit, so the client hears `not-saved` once the append hangs: proof it was sent.
    const [doomed, survivor] = await Promise.all([0, 1].map(() => spawnClusterRelay(teardown, cluster, { COLLAB_WRITE_STALL_MS: '200' })));
    const docId = 'crash-before-ack';
    const alice = connectClient(teardown, doomed!, docId, { savedAcks: true });
    const bob = connectClient(teardown, survivor!, docId);
    await Promise.all([waitForSync(alice), waitForSync(bob)]);
    alice.text.insert(0, 'saved first. ');
    await waitForSaved(alice);
    await waitUntil(() => bob.text.toString() === 'saved first. ', { what: 'Bob has the saved edit' });

    // Redis stops answering: the append of the next edit is sent and never replied to.
    cluster.redis.pause();
    const notSaved = watchNotSaved(alice);
    alice.text.insert(alice.text.length, 'ONCE');
    await waitUntil(() => notSaved.reasons.length > 0, { what: 'not-saved: the append is in flight' });
    doomed!.child.kill('SIGKILL');
    await doomed!.exited;
    // No `saved` covered the edit before the relay died.
    expect(isAllSaved(alice)).toBe(false);

    // Redis reads the append the dead relay left in its socket and logs it.
    cluster.redis.resume();
    const reader = await openTestCluster(teardown, cluster);
    // Generous: a resumed Redis first replays what queued up on every socket while it was stopped.
    await waitUntil(async () => (await loadStoredContent(reader, docId)).text === 'saved first. ONCE', { what: 'the dead relay’s append logged', timeoutMs: 20_000 });

    // The stock client reconnects to the other relay (same token: the relays share a key) and offers its change again.
    alice.provider.serverUrl = survivor!.url;
    await waitForSaved(alice, 10_000);
    await waitUntil(() => haveConverged([alice, bob]), { what: 'Bob converges with Alice' });
    expect(countOccurrences(bob.text.toString(), 'ONCE')).toBe(1);
    expect(alice.text.toString()).toBe('saved first. ONCE');
    const stored = await loadStoredContent(reader, docId);
    expect(stored.text).toBe('saved first. ONCE');
    expect(covers(stored.stateVector, alice.saved.localStateVector)).toBe(true);
    expect(isRunning(survivor!)).toBe(true);
  });
});
