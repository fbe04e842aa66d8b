/**
 * A relay process starting in cluster mode. Rules (SPEC M1, M7): it refuses a
 * Redis that could lose an acknowledged append, naming the setting; the Redis
 * and PostgreSQL URLs come together; cluster mode needs COLLAB_SECRET; relays
 * starting at once on an empty database migrate it once and all start.
 */
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { lazyClusterServers } from '../helpers/cluster';
import { isRunning, spawnClusterRelay } from '../helpers/cluster-process';
import { startRedis } from '../helpers/redis-server';
import { Teardown, relayHealth } from '../helpers/relay';
import { TEST_SECRET, runRelayExpectingFailure } from '../helpers/relay-process';

const servers = lazyClusterServers();
afterAll(() => servers.dispose());
const teardown = new Teardown();
afterEach(() => teardown.run());

describe('[M1] a Redis that could lose acknowledged appends', () => {
  it.each([
    ['appendfsync', ['--appendfsync', 'everysec']],
    ['appendonly', ['--appendonly', 'no']],
    ['maxmemory-policy', ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']],
  ])('[M1] is refused at start, naming %s', async (setting, extraArgs) => {
    const redis = await startRedis({ extraArgs });
    teardown.add(() => redis.dispose());
    const { postgres } = await servers.get();
    const { code, stderr } = await runRelayExpectingFailure({ COLLAB_REDIS_URL: redis.url, COLLAB_DATABASE_URL: postgres.url, COLLAB_SECRET: TEST_SECRET });
    expect(code).toBe(1);
    expect(stderr).toContain(setting);
  });
});

describe('[M7] cluster configuration', () => {
  it.each([
    ['COLLAB_DATABASE_URL', { COLLAB_REDIS_URL: 'redis://127.0.0.1:6379', COLLAB_DATABASE_URL: '' }],
    ['COLLAB_REDIS_URL', { COLLAB_REDIS_URL: '', COLLAB_DATABASE_URL: 'postgres://inkwell@127.0.0.1:5432/inkwell' }],
    ['COLLAB_SECRET', { COLLAB_REDIS_URL: 'redis://127.0.0.1:6379', COLLAB_DATABASE_URL: 'postgres://inkwell@127.0.0.1:5432/inkwell', COLLAB_SECRET: '' }],
  ])('[M7] refuses to start without %s, naming it', async (missing, env) => {
    const { code, stderr } = await runRelayExpectingFailure({ COLLAB_SECRET: TEST_SECRET, ...env });
    expect(code).toBe(1);
    expect(stderr).toContain(`${missing}=""`);
  });

  it('[M7] two relays starting at once on an empty database both start, and each migration step is applied once', async () => {
    const { redis, postgres } = await servers.get();
    const databaseUrl = await createEmptyDatabase(postgres.url, 'inkwell_concurrent_start');
    const relays = await Promise.all([0, 1].map(() => spawnClusterRelay(teardown, { redis, postgres: { url: databaseUrl } })));
    for (const relay of relays) {
      expect(isRunning(relay)).toBe(true);
      expect(await relayHealth(relay)).toEqual({ status: 'ok' });
    }
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number }>('SELECT version FROM inkwell_schema_migrations ORDER BY version');
      expect(rows.map((row) => row.version)).toEqual([1]);
    } finally {
      await client.end();
    }
  });
});

/** Creates database `name` (none of Inkwell's tables in it) on the server of `serverUrl`; returns its URL. */
async function createEmptyDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
