/**
 * Compaction crashing or racing itself. Rule (SPEC M4): a compaction stores
 * the snapshot, with the update number it covers, before it trims the log, so
 * a crash between any two steps loses nothing and duplicates nothing, and two
 * compactions at once store one snapshot; the document loads exactly as its
 * writers have it, from storage and in a relay that opens it afterwards.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { clusterKeys } from '../../collab-server/cluster/keys';
import { lazyClusterServers, type ClusterServers } from '../helpers/cluster';
import { clientContent, docIdOf, loadStoredContent, openTestCluster, spawnClusterRelay, storedLayout, type StoredContent } from '../helpers/cluster-process';
import { Teardown, connectClient, waitForSaved, waitForSync, type TestClient } from '../helpers/relay';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const servers = lazyClusterServers();
afterAll(() => servers.dispose());
const teardown = new Teardown();
beforeEach(() => servers.empty());
afterEach(() => teardown.run());

/** Appends `count` edits, one update (one log entry) each. */
function typeEdits(client: TestClient, label: string, count: number): void {
  for (let i = 0; i < count; i++) client.text.insert(client.text.length, `${label} ${i}. `);
}

/** A relay process with a writer on `docId` who has typed `count` edits, all acknowledged. */
async function documentWithLog(docId: string, count: number): Promise<TestClient> {
  const relay = await spawnClusterRelay(teardown, await servers.get());
  const writer = connectClient(teardown, relay, docId, { savedAcks: true });
  await waitForSync(writer);
  typeEdits(writer, 'before', count);
  await waitForSaved(writer);
  return writer;
}

/** What a relay opening `docId` now shows a new client, on a relay process that never had it open. */
async function contentInNewRelay(docId: string): Promise<StoredContent> {
  const relay = await spawnClusterRelay(teardown, await servers.get());
  const reader = connectClient(teardown, relay, docId);
  await waitForSync(reader);
  return clientContent(reader);
}

/** Runs `compact-until-killed.ts` on `docId`; resolves with how the process ended. */
function compactUntilKilled(servers: ClusterServers, docId: string): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/compact-until-killed.ts', servers.redis.url, servers.postgres.url, docId], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (_code, signal) => resolve({ signal, stderr })));
}

describe('[M4] compaction crashes and races', () => {
  it('[M4] a compaction killed between storing the snapshot and trimming the log loses nothing, and the next one completes and trims', async () => {
    const docId = 'compaction-killed';
    const writer = await documentWithLog(docId, 30);
    const crashed = await compactUntilKilled(await servers.get(), docId);
    expect(crashed, crashed.stderr).toMatchObject({ signal: 'SIGKILL' });
    // The snapshot covers the whole log, and the log is all still there.
    const afterCrash = await storedLayout(await servers.get(), docId);
    expect(afterCrash.snapshotThroughSeq).toBe(afterCrash.counter);
    expect(afterCrash.logLength).toBe(afterCrash.counter);

    const cluster = await openTestCluster(teardown, await servers.get());
    expect(await loadStoredContent(cluster, docId)).toEqual(clientContent(writer));
    expect(await contentInNewRelay(docId)).toEqual(clientContent(writer));

    // The dead process's lease holds compaction off until it expires (in 30 s); it is made to expire now.
    expect(await cluster.store.compactor.compactNow(docIdOf(docId))).toEqual({ kind: 'busy' });
    await expireLease(docId);
    typeEdits(writer, 'after', 10);
    await waitForSaved(writer);
    expect(await cluster.store.compactor.compactNow(docIdOf(docId))).toMatchObject({ kind: 'compacted', foldedUpdates: 10 });
    const afterNext = await storedLayout(await servers.get(), docId);
    expect(afterNext).toEqual({ snapshotThroughSeq: afterNext.counter, logLength: 0, counter: afterCrash.counter + 10 });
    expect(await loadStoredContent(cluster, docId)).toEqual(clientContent(writer));
    expect(await contentInNewRelay(docId)).toEqual(clientContent(writer));
  });

  it('[M4] two compactions at once, while edits keep coming, leave a document that loads exactly', async () => {
    const docId = 'compaction-raced';
    const writer = await documentWithLog(docId, 30);
    const [first, second] = [await openTestCluster(teardown, await servers.get()), await openTestCluster(teardown, await servers.get())];
    const key = docIdOf(docId);
    typeEdits(writer, 'during', 30);
    // Unleased, as a lease that expired under a slow compaction would allow.
    const unleased = Promise.all([first.store.compactor.compactFromStorage(key), second.store.compactor.compactFromStorage(key)]);
    // Leased: a second call in one process shares the first's run; another process finds the lease taken.
    const leased = [first.store.compactor.compactNow(key), first.store.compactor.compactNow(key), second.store.compactor.compactNow(key)] as const;
    expect(leased[1]).toBe(leased[0]);
    const [inFirst, , inSecond] = await Promise.all(leased);
    expect([inFirst.kind, inSecond.kind].filter((kind) => kind === 'busy')).toHaveLength(1);
    await unleased;
    await waitForSaved(writer);

    // Every update after the stored snapshot is still in the log.
    const layout = await storedLayout(await servers.get(), docId);
    expect(layout.snapshotThroughSeq).toBeGreaterThan(0);
    expect(layout.logLength).toBeGreaterThanOrEqual(layout.counter - layout.snapshotThroughSeq);
    expect(await loadStoredContent(first, docId)).toEqual(clientContent(writer));
    expect(await contentInNewRelay(docId)).toEqual(clientContent(writer));
  });
});

/** Lets the lease on `docId`'s compaction lapse now, as it would once its holder stopped renewing it. */
async function expireLease(docId: string): Promise<void> {
  const redis = new Redis((await servers.get()).redis.url);
  try {
    await redis.del(clusterKeys.compactionLease(docIdOf(docId)));
  } finally {
    redis.disconnect();
  }
}
