/**
 * M2: the log tail hands a follower every update after its position, in order,
 * and when entries it never read were trimmed, has it reload rather than skip
 * them: both when the trim leaves later entries (a jump in the numbers) and
 * when it leaves none (the counter is past the position).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';

import { LogTail, type LogFollower } from '../../collab-server/cluster/log-tail';
import { RedisPgStore, type LogEntry } from '../../collab-server/cluster/redis-pg-store';
import { createSilentLogger } from '../../collab-server/logger';
import { emptyClusterServers, lazyClusterServers } from '../helpers/cluster';
import { testDocId } from '../helpers/documents';
import { Teardown, waitUntil } from '../helpers/relay';

const servers = lazyClusterServers();
afterAll(() => servers.dispose());

const DOC = testDocId('tail-doc');

describe('log tail', () => {
  const teardown = new Teardown();
  let writer: RedisPgStore;
  let tail: LogTail;
  // A store as another relay would have: its own process id over the same servers.
  let storeOfRelay: (processId: string) => RedisPgStore;

  beforeEach(async () => {
    const { redis, postgres } = await servers.get();
    await emptyClusterServers(redis.url, postgres.url);
    const commands = new Redis(redis.url);
    const blocking = new Redis(redis.url, { enableAutoPipelining: false });
    const pool = new pg.Pool({ connectionString: postgres.url });
    teardown.add(async () => {
      commands.disconnect();
      blocking.disconnect();
      await pool.end();
    });
    storeOfRelay = (processId) => {
      const redisOfRelay = new Redis(redis.url);
      teardown.add(() => redisOfRelay.disconnect());
      return new RedisPgStore({ redis: redisOfRelay, pool, processId, logger: createSilentLogger() });
    };
    // The writer is "another relay": its entries are not this tail's own.
    writer = storeOfRelay('other-relay');
    tail = new LogTail({ blocking, commands, processId: 'this-relay', logger: createSilentLogger() });
    teardown.add(() => tail.close());
  });
  afterEach(() => teardown.run());

  const updates = (count: number, from = 0) => Array.from({ length: count }, (_, index) => Uint8Array.of(from + index));

  function recordingFollower(reloadTo: () => number): LogFollower & { entries: LogEntry[]; gaps: number } {
    const follower = {
      entries: [] as LogEntry[],
      gaps: 0,
      onEntries: (entries: readonly LogEntry[]) => void follower.entries.push(...entries),
      onGap: async () => {
        follower.gaps += 1;
        return reloadTo();
      },
    };
    return follower;
  }

  it('[M2] delivers every update after the position, in log order', async () => {
    await writer.appendUpdates(DOC, updates(3));
    const follower = recordingFollower(() => 0);
    tail.follow(DOC, 1, follower);
    await writer.appendUpdates(DOC, updates(4, 3));
    await waitUntil(() => follower.entries.length === 6, { what: 'six entries' });
    expect(follower.entries.map((entry) => entry.position.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(follower.entries.map((entry) => entry.payload[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(follower.gaps).toBe(0);
  });

  it('[M2] reloads when updates after its position were trimmed before it read them', async () => {
    await writer.appendUpdates(DOC, updates(10));
    await writer.trimLog(DOC, 5);
    const follower = recordingFollower(() => 10);
    tail.follow(DOC, 2, follower);
    await waitUntil(() => follower.gaps === 1, { what: 'a reload' });
    await writer.appendUpdates(DOC, updates(1, 10));
    await waitUntil(() => follower.entries.some((entry) => entry.position.seq === 11), { what: 'the next update after the reload' });
    // Nothing from before the reload position is handed over after it.
    expect(follower.entries.every((entry) => entry.position.seq < 3 || entry.position.seq > 10)).toBe(true);
  });

  it('[M2] reloads when the whole tail after its position was trimmed', async () => {
    await writer.appendUpdates(DOC, updates(6));
    await writer.trimLog(DOC, 6);
    const follower = recordingFollower(() => 6);
    tail.follow(DOC, 3, follower);
    await waitUntil(() => follower.gaps === 1, { what: 'a reload found by the counter check', timeoutMs: 10_000 });
    expect(follower.entries).toEqual([]);
  });

  it('[M2] leaves out the updates this relay appended itself', async () => {
    const own = storeOfRelay('this-relay');
    const follower = recordingFollower(() => 0);
    tail.follow(DOC, 0, follower);
    await own.appendUpdates(DOC, updates(2));
    await writer.appendUpdates(DOC, updates(1, 2));
    await waitUntil(() => follower.entries.length === 1, { what: 'the other relay’s update' });
    expect(follower.entries[0]?.position.seq).toBe(3);
  });
});
