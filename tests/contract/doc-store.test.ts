/**
 * Runs the `DocStore` contract against every store: memory, LevelDB in a fresh
 * temp dir per test, and cluster mode's Redis + PostgreSQL (private servers).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll } from 'vitest';

import { openCluster } from '../../collab-server/cluster/cluster';
import { createSilentLogger } from '../../collab-server/logger';
import { openLevelStore } from '../../collab-server/storage/leveldb';
import { emptyClusterServers, lazyClusterServers } from '../helpers/cluster';
import { createMemoryStore } from '../../collab-server/storage/memory';
import { registerDocStoreContract } from './doc-store.contract';

registerDocStoreContract(
  'memory',
  async () => ({
    open: async () => createMemoryStore(),
    dispose: async () => {},
  }),
  { isPersistent: false },
);

registerDocStoreContract(
  'leveldb',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inkwell-doc-store-'));
    return {
      open: () => openLevelStore({ dir }),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { isPersistent: true },
);

// Cluster mode: one Redis and one PostgreSQL for the file, emptied for each test.
const clusterServers = lazyClusterServers();
afterAll(() => clusterServers.dispose());

registerDocStoreContract(
  'redis + postgresql',
  async () => {
    const { redis, postgres } = await clusterServers.get();
    await emptyClusterServers(redis.url, postgres.url);
    return {
      open: async () => (await openCluster({ redisUrl: redis.url, databaseUrl: postgres.url, logger: createSilentLogger(), compactAfterUpdates: 1_000_000, compactAfterBytes: 2 ** 40 })).store,
      dispose: async () => {},
    };
  },
  { isPersistent: true, isExclusive: false },
);
