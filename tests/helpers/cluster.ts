/**
 * Cluster-mode test servers: a private Redis and PostgreSQL (temp dirs, free
 * ports on 127.0.0.1), started once per file when first needed, and emptied
 * between tests.
 */
import { Redis } from 'ioredis';
import pg from 'pg';

import { startPostgres, type PostgresServer } from './postgres-server';
import { startRedis, type RedisServer } from './redis-server';

/** Both servers of a cluster. */
export interface ClusterServers {
  readonly redis: RedisServer;
  readonly postgres: PostgresServer;
}

/** Starts both servers on first `get`; `empty` clears them between tests; `dispose` stops whatever started. */
export function lazyClusterServers(): { get(): Promise<ClusterServers>; empty(): Promise<void>; dispose(): Promise<void> } {
  let started: Promise<ClusterServers> | null = null;
  const get = (): Promise<ClusterServers> => (started ??= Promise.all([startRedis(), startPostgres()]).then(([redis, postgres]) => ({ redis, postgres })));
  return {
    get,
    async empty() {
      const { redis, postgres } = await get();
      await emptyClusterServers(redis.url, postgres.url);
    },
    async dispose() {
      if (!started) return;
      const { redis, postgres } = await started;
      await Promise.all([redis.dispose(), postgres.dispose()]);
    },
  };
}

/** Deletes every key in Redis and every row Inkwell keeps in PostgreSQL (the schema stays). */
export async function emptyClusterServers(redisUrl: string, databaseUrl: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    await redis.flushall();
  } finally {
    redis.disconnect();
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DO $$ BEGIN IF to_regclass('inkwell_documents') IS NOT NULL THEN TRUNCATE inkwell_documents; END IF; END $$`);
  } finally {
    await client.end();
  }
}
