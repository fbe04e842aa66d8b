/**
 * PostgreSQL unreachable under relay processes. Rules (SPEC C6, C4): documents
 * already open go on being edited, acknowledged (acknowledgements need only
 * Redis) and shared between relays; compaction pauses and is retried with
 * backoff; documents not open are refused with 503; /healthz says degraded
 * with the reason. Once PostgreSQL is back, compaction succeeds and health is ok.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { lazyClusterServers } from '../helpers/cluster';
import { clientContent, isRunning, loadStoredContent, openTestCluster, spawnClusterRelay, storedLayout } from '../helpers/cluster-process';
import { Teardown, connectClient, relayHealth, socketUrl, upgradeStatus, waitForSaved, waitForSync, waitUntil } from '../helpers/relay';
import type { RelayProcess } from '../helpers/relay-process';

// This file stops its PostgreSQL.
const servers = lazyClusterServers();
afterAll(() => servers.dispose());
const teardown = new Teardown();
afterEach(() => teardown.run());

/** Compaction after this many log entries: the test passes it while PostgreSQL is down. */
const COMPACT_UPDATES = 20;

describe('[C6] PostgreSQL unreachable', () => {
  it('[C6][C4] open documents are edited and acknowledged, compaction waits, unopened ones get 503, /healthz is degraded; all recovers when it is back', async () => {
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
    await waitUntil(() => alice.text.toString() === bob.text.toString(), { what: 'Alice and Bob converge' });

    await waitUntil(async () => (await relayHealth(first)).reason?.includes('compaction') ?? false, { what: 'degraded: compaction failing' });
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
});
