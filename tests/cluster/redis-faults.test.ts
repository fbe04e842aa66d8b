/**
 * Redis failing under relay processes that share it. Rules (SPEC M1, M6): an
 * acknowledged update survives Redis being killed and restarted from its AOF;
 * while Redis is hung or unreachable nothing is acknowledged, clients waiting
 * for `saved` hear `not-saved`, /healthz says degraded, no process exits, and
 * once Redis answers again everything is written, acknowledged and converged;
 * a Redis reconfigured to lose acknowledged appends is refused after a reconnect.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { clientContent, countOccurrences, haveConverged, isRunning, loadStoredContent, openTestCluster, spawnClusterRelay } from '../helpers/cluster-process';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { Teardown, connectClient, covers, isAllSaved, relayHealth, waitForSaved, waitForSync, waitUntil, watchNotSaved, type TestClient } from '../helpers/relay';
import type { RelayProcess } from '../helpers/relay-process';

// One PostgreSQL for the file; each test kills, pauses or reconfigures a Redis of its own.
let postgres: Promise<PostgresServer> | null = null;
afterAll(async () => (await postgres)?.dispose());
const teardown = new Teardown();
afterEach(() => teardown.run());

/** Both relays of a test, each with one client (saved acknowledgements on) of `docId`, synced. */
interface TwoRelays {
  readonly redis: RedisServer;
  readonly relays: readonly RelayProcess[];
  readonly alice: TestClient;
  readonly bob: TestClient;
}

/** A fresh Redis, two relay processes over it, Alice on the first and Bob on the second, both synced. */
async function twoRelays(docId: string, env: Record<string, string> = {}): Promise<TwoRelays> {
  const redis = await startRedis();
  // Disposing resumes a paused Redis first, so it stops.
  teardown.add(() => redis.dispose());
  const servers = { redis, postgres: await (postgres ??= startPostgres()) };
  const relays = await Promise.all([0, 1].map(() => spawnClusterRelay(teardown, servers, env)));
  const alice = connectClient(teardown, relays[0]!, docId, { savedAcks: true });
  const bob = connectClient(teardown, relays[1]!, docId, { savedAcks: true });
  await Promise.all([waitForSync(alice), waitForSync(bob)]);
  return { redis, relays, alice, bob };
}

/** Each client types `count` edits, one update each. */
function typeOnBoth(clients: readonly TestClient[], label: string, count: number): void {
  for (let i = 0; i < count; i++) for (const client of clients) client.text.insert(client.text.length, `${label}${client.doc.clientID % 100}.${i} `);
}

/** Waits until every client's changes are acknowledged and all hold the same document. */
async function expectAllSavedAndConverged(clients: readonly TestClient[], timeoutMs = 5_000): Promise<void> {
  await Promise.all(clients.map((client) => waitForSaved(client, timeoutMs)));
  await waitUntil(() => haveConverged(clients), { timeoutMs, what: 'clients converged' });
}

describe('[M1] Redis killed and restarted from its AOF', () => {
  it('[M1] keeps every acknowledged update, and acknowledges the rest once it is back', async () => {
    const { redis, relays, alice, bob } = await twoRelays('aof-restart');
    typeOnBoth([alice, bob], 'acked', 20);
    await expectAllSavedAndConverged([alice, bob]);
    // More edits in flight as Redis dies: some of them may be acknowledged, some not.
    typeOnBoth([alice, bob], 'racing', 20);
    await redis.kill();
    // One edit more each, whose append fails: its `not-saved` comes after every `saved` the relay sent before.
    const notSaved = [alice, bob].map(watchNotSaved);
    typeOnBoth([alice, bob], 'after-kill', 1);
    await waitUntil(() => notSaved.every((seen) => seen.reasons.length > 0), { what: 'not-saved on both', timeoutMs: 15_000 });
    const acked = [alice, bob].map((client) => client.saved.stateVector!);

    await redis.restart();
    const reader = await openTestCluster(teardown, { redis, postgres: (await postgres)! });
    const restored = await loadStoredContent(reader, 'aof-restart');
    for (const stateVector of acked) expect(covers(restored.stateVector, stateVector)).toBe(true);

    await expectAllSavedAndConverged([alice, bob], 15_000);
    expect(await loadStoredContent(reader, 'aof-restart')).toEqual(clientContent(alice));
    expect(relays.every(isRunning)).toBe(true);
  });
});

describe('[M6] Redis hung (SIGSTOP)', () => {
  it('[M6] acknowledges nothing while it is stopped, says not-saved and degraded, and recovers fully once it resumes', async () => {
    const { redis, relays, alice, bob } = await twoRelays('redis-paused', { COLLAB_WRITE_STALL_MS: '200' });
    redis.pause();
    const notSaved = [alice, bob].map(watchNotSaved);
    typeOnBoth([alice, bob], 'paused', 10);
    await waitUntil(() => notSaved.every((seen) => seen.reasons.length > 0), { what: 'not-saved on both', timeoutMs: 15_000 });
    for (const relay of relays) expect((await relayHealth(relay)).status).toBe('degraded');
    expect(isAllSaved(alice) || isAllSaved(bob)).toBe(false);

    redis.resume();
    await expectAllSavedAndConverged([alice, bob], 15_000);
    for (const relay of relays) await waitUntil(async () => (await relayHealth(relay)).status === 'ok', { what: 'health ok again' });
    expect(countOccurrences(alice.text.toString(), 'paused')).toBe(20);
    expect(relays.every(isRunning)).toBe(true);
  });
});

describe('[M6] Redis unreachable', () => {
  it('[M6] relays keep running, degraded and acknowledging nothing, through repeated failed writes; once Redis is back everything is acknowledged', async () => {
    const { redis, relays, alice, bob } = await twoRelays('redis-down');
    await redis.kill();
    const notSaved = [alice, bob].map(watchNotSaved);
    typeOnBoth([alice, bob], 'offline', 10);
    await waitUntil(() => notSaved.every((seen) => seen.reasons.length > 0), { what: 'not-saved on both', timeoutMs: 15_000 });
    // Down "for a while": until each relay has retried its write several times.
    await waitUntil(() => relays.every((relay) => failedWriteAttempts(relay) >= 4), { timeoutMs: 15_000, what: 'four failed writes on each relay' });
    for (const relay of relays) {
      const health = await relayHealth(relay);
      expect(health.status).toBe('degraded');
      expect(health.reason).toBeTruthy();
    }
    expect(isAllSaved(alice) || isAllSaved(bob)).toBe(false);
    expect(relays.every(isRunning)).toBe(true);

    await redis.restart();
    await expectAllSavedAndConverged([alice, bob], 15_000);
    for (const relay of relays) await waitUntil(async () => (await relayHealth(relay)).status === 'ok', { what: 'health ok again' });
    expect(relays.every(isRunning)).toBe(true);
  }, 45_000);
});

describe('[M1] Redis reconfigured to lose acknowledged appends', () => {
  it('[M1] after a reconnect the relays refuse appends (not-saved, degraded naming appendfsync) until it keeps them again', async () => {
    const { redis, relays, alice, bob } = await twoRelays('redis-reconfigured');
    await reconfigureAndReconnect(redis.url, 'everysec');
    for (const relay of relays) await waitUntil(async () => (await relayHealth(relay)).reason?.includes('appendfsync') ?? false, { what: 'degraded, naming appendfsync' });
    const notSaved = [alice, bob].map(watchNotSaved);
    typeOnBoth([alice, bob], 'unsafe', 3);
    await waitUntil(() => notSaved.every((seen) => seen.reasons.length > 0), { what: 'not-saved on both', timeoutMs: 15_000 });
    expect(isAllSaved(alice) || isAllSaved(bob)).toBe(false);

    await reconfigureAndReconnect(redis.url, 'always');
    await expectAllSavedAndConverged([alice, bob], 15_000);
  });
});

/** Failed writes a relay process logged (with LOG_LEVEL info, errors are among its lines). */
function failedWriteAttempts(relay: RelayProcess): number {
  return relay.stdout.filter((line) => line.includes('"persisting updates failed"')).length;
}

/** Sets Redis's `appendfsync`, then drops every other client's connection, as a restart of Redis would. */
async function reconfigureAndReconnect(url: string, appendfsync: 'always' | 'everysec'): Promise<void> {
  const admin = new Redis(url);
  try {
    await admin.config('SET', 'appendfsync', appendfsync);
    await admin.client('KILL', 'TYPE', 'normal');
    await admin.client('KILL', 'TYPE', 'pubsub');
  } finally {
    admin.disconnect();
  }
}
