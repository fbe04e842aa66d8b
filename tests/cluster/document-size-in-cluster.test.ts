/**
 * P13 in cluster mode: the size limit is about the document, not about the
 * traffic it saw. A shared log is folded by its store, out of the room's sight,
 * so the room measures the document once its count of stored bytes nears the limit.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { emptyClusterServers, lazyClusterServers } from '../helpers/cluster';
import { clusterSecret, startClusterRelay } from '../helpers/cluster-relay';
import { connectClient, Teardown, waitForSync, waitUntil } from '../helpers/relay';

const servers = lazyClusterServers();
afterAll(() => servers.dispose());

describe('document size limit on a shared log', () => {
  const teardown = new Teardown();
  beforeEach(async () => {
    const { redis, postgres } = await servers.get();
    await emptyClusterServers(redis.url, postgres.url);
  });
  afterEach(() => teardown.run());

  it('[P13] typing and deleting past the limit in total is accepted while the document stays small', async () => {
    const maxDocBytes = 32 * 1024;
    const relay = await startClusterRelay(teardown, await servers.get(), { secret: clusterSecret(), maxDocBytes, compactAfterBytes: 4 * 1024 });
    const writer = connectClient(teardown, relay, 'churn', { savedAcks: true });
    const reader = connectClient(teardown, relay, 'churn');
    await Promise.all([waitForSync(writer), waitForSync(reader)]);
    const paragraph = 'x'.repeat(1_000);
    // 100 kB of updates in all, never more than one paragraph of text at a time.
    for (let round = 0; round < 100; round++) {
      writer.text.insert(0, paragraph);
      writer.text.delete(0, paragraph.length);
    }
    writer.text.insert(0, 'still accepted');
    await waitUntil(() => reader.text.toString() === 'still accepted', { what: 'the last edit reaches the other client', timeoutMs: 15_000 });
    expect(writer.provider.wsconnected).toBe(true);
  });
});
