/**
 * PostgreSQL unreachable under relay processes. Rules (SPEC M6, M4): documents
 * already open go on being edited, acknowledged (acknowledgements need only
 * Redis) and shared between relays; compaction pauses and is retried with
 * backoff; documents not open are refused with 503; /healthz says degraded
 * with the reason. Once PostgreSQL is back, compaction succeeds and health is
 * ok, on every relay that saw it fail, even when another relay's compaction
 * is the one that succeeds.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';

import type { CompactionOutcome } from '../../collab-server/cluster/compactor';
import { clusterKeys } from '../../collab-server/cluster/keys';
import { lazyClusterServers } from '../helpers/cluster';
import { clientContent, docIdOf, haveConverged, isRunning, loadStoredContent, openTestCluster, spawnClusterRelay, storedLayout } from '../helpers/cluster-process';
import { Teardown, connectClient, relayHealth, socketUrl, upgradeStatus, waitForSaved, waitForSync, waitUntil } from '../helpers/relay';
import type { RelayProcess } from '../helpers/relay-process';

// This file stops its PostgreSQL.
const servers = lazyClusterServers();
afterAll(() => servers.dispose());
const teardown = new Teardown();
afterEach(() => teardown.run());

/** Compaction after this many log entries: the test passes it while PostgreSQL is down. */
const COMPACT_UPDATES = 20;

describe('[M6] PostgreSQL unreachable', () => {
  it('[M6][M4] open documents are edited and acknowledged, compaction waits, unopened ones get 503, /healthz is degraded; all recovers when it is back', async () => {
    const cluster = await servers.get();
    const relays = await Promise.all([0, 1].map(() => spawnClusterRelay(teardown, cluster, { COLLAB_COMPACT_UPDATES: String(COMPACT_UPDATES) })));
    const [first, second] = relays as [RelayProcess, RelayProcess];
    const docId = 'postgres-down';
    const alice = connectClient(teardown, first, docId, { savedAcks: true });
    const bob = connectClient(teardown, second, docId, { savedAcks: true });
    await Promise.all([waitForSync(alice), waitForSync(bob)]);

    await cluster.postgres.stop();
    for (let i = 0; i < COMPACT_UPDATES + 5; i++) alice.text.insert(alice.text.length, `a${i} `);
    for (let i = 0; i < 5; i++) bob.text.insert(0, `b${i} `);
    await Promise.all([waitForSaved(alice), waitForSaved(bob)]);
    await waitUntil(() => haveConverged([alice, bob]), { what: 'Alice and Bob converge' });

    // Whichever relay took the compaction's lease finds it failing, and says so.
    const isCompactionFailing = async (relay: RelayProcess): Promise<boolean> => (await relayHealth(relay)).reason?.includes('compaction is failing') ?? false;
    await waitUntil(async () => (await isCompactionFailing(first)) || (await isCompactionFailing(second)), { what: 'degraded: compaction failing' });
    expect(await upgradeStatus(socketUrl(second, 'not-open'))).toBe(503);
    expect(await relayHealth(second)).toMatchObject({ status: 'degraded', reason: expect.stringContaining('load') });
    // A stock client on the unopened document keeps trying; it gets in once PostgreSQL is back.
    const carol = connectClient(teardown, second, 'not-open');

    await cluster.postgres.restart();
    for (const relay of relays) await waitUntil(async () => (await relayHealth(relay)).status === 'ok', { timeoutMs: 40_000, what: 'health ok again' });
    await waitForSync(carol);
    const layout = await storedLayout(cluster, docId);
    expect(layout.snapshotThroughSeq).toBeGreaterThanOrEqual(COMPACT_UPDATES);
    expect(layout.logLength).toBeLessThan(layout.counter);
    const reader = await openTestCluster(teardown, cluster);
    expect(await loadStoredContent(reader, docId)).toEqual(clientContent(alice));
    expect(relays.every(isRunning)).toBe(true);
  }, 60_000);

  it('[M4] a relay whose compaction failed retries while another holds the lease, and is healthy once a compaction works', async () => {
    const cluster = await servers.get();
    const relay = await openTestCluster(teardown, cluster);
    const docId = docIdOf('lease-held-elsewhere');
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'to fold');
    await relay.store.appendUpdates(docId, [Y.encodeStateAsUpdate(doc)]);
    doc.destroy();

    await cluster.postgres.stop();
    await expect(relay.store.compactor.compactNow(docId)).rejects.toThrow();
    expect(relay.feed.health()).toContain('compaction is failing');
    // Another relay holds the lease meanwhile: this one's retries find it busy.
    const redis = new Redis(cluster.redis.url);
    teardown.add(() => redis.disconnect());
    await redis.set(clusterKeys.compactionLease(docId), 'another-relay', 'PX', 60_000);
    const attempts = vi.spyOn(relay.store.compactor, 'compactNow');
    await cluster.postgres.restart();
    const outcomes = async (): Promise<PromiseSettledResult<CompactionOutcome>[]> => Promise.allSettled(attempts.mock.results.map((result) => result.value));
    await waitUntil(async () => (await outcomes()).some((outcome) => outcome.status === 'fulfilled' && outcome.value.kind === 'busy'), {
      timeoutMs: 10_000,
      what: 'a retry that finds the lease taken',
    });

    // The other relay is done with it.
    await redis.del(clusterKeys.compactionLease(docId));
    await waitUntil(() => relay.feed.health() === null, { timeoutMs: 10_000, what: 'healthy once a retry works' });
    expect((await storedLayout(cluster, docId)).snapshotThroughSeq).toBe(1);
  });
});
