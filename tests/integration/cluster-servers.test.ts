/** The private Redis and PostgreSQL that cluster-mode tests run against: configured as promised, and crash-restartable. */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';

import { startPostgres } from '../helpers/postgres-server';
import { startRedis } from '../helpers/redis-server';
import { Teardown } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

/** A client that fails fast instead of retrying, so a dead server shows up as an error, not a hang. */
function connectRedis(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  teardown.add(() => client.disconnect());
  return client;
}

describe('test Redis', () => {
  it('runs with an fsynced AOF and keeps acknowledged writes through SIGKILL and restart', async () => {
    const redis = await startRedis();
    teardown.add(() => redis.dispose());
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);

    const before = connectRedis(redis.url);
    expect(await before.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await before.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    expect(await before.set('inkwell:probe', 'kept')).toBe('OK');
    before.disconnect();

    const killedPid = redis.pid;
    await redis.kill();
    await redis.restart();
    expect(redis.pid).not.toBe(killedPid);

    const after = connectRedis(redis.url);
    expect(await after.get('inkwell:probe')).toBe('kept');
  });

  it('answers again after pause and resume', async () => {
    const redis = await startRedis();
    teardown.add(() => redis.dispose());
    const client = connectRedis(redis.url);
    await client.connect();
    redis.pause();
    const reply = client.ping();
    redis.resume();
    expect(await reply).toBe('PONG');
  });
});

describe('test PostgreSQL', () => {
  it('serves the inkwell database and comes back after SIGKILL with its tables', async () => {
    const postgres = await startPostgres();
    teardown.add(() => postgres.dispose());
    expect(postgres.url).toBe(`postgres://inkwell@127.0.0.1:${postgres.port}/inkwell`);

    const before = new pg.Client({ connectionString: postgres.url });
    await before.connect();
    expect((await before.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    expect((await before.query<{ fsync: string }>('show fsync')).rows).toEqual([{ fsync: 'on' }]);
    await before.query('create table snapshots (doc_id text primary key, state bytea not null)');
    await before.query("insert into snapshots values ('doc', '\\x01')");
    // The socket dies with the server below; swallow that so it is not reported as unhandled.
    before.on('error', () => undefined);

    await postgres.kill();
    await before.end().catch(() => undefined);
    await postgres.restart();

    const after = new pg.Client({ connectionString: postgres.url });
    await after.connect();
    teardown.add(() => after.end());
    expect((await after.query<{ doc_id: string }>('select doc_id from snapshots')).rows).toEqual([{ doc_id: 'doc' }]);
  });
});
