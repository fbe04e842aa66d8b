/**
 * Cluster mode in one process: relays sharing one Redis and one PostgreSQL
 * serve the same documents. Each test names the SPEC rule it checks (C rules).
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';

import { clusterKeys } from '../../collab-server/cluster/keys';
import { parseDocId } from '../../lib/ids';
import { lazyClusterServers } from '../helpers/cluster';
import { clusterSecret, startClusterRelay } from '../helpers/cluster-relay';
import { connectClient, Teardown, waitForSaved, waitForSync, waitUntil } from '../helpers/relay';

const servers = lazyClusterServers();
afterAll(() => servers.dispose());

describe('relays sharing Redis and PostgreSQL', () => {
  const teardown = new Teardown();
  beforeEach(() => servers.empty());
  afterEach(() => teardown.run());

  // Alice on one relay, Bob on another, both synced.
  const clientsOnTwoRelays = async (docId: string) => {
    const secret = clusterSecret();
    const first = await startClusterRelay(teardown, await servers.get(), { secret });
    const second = await startClusterRelay(teardown, await servers.get(), { secret });
    const alice = connectClient(teardown, first, docId);
    const bob = connectClient(teardown, second, docId);
    await Promise.all([waitForSync(alice), waitForSync(bob)]);
    return { alice, bob };
  };

  it('[M2] clients of one document on different relays see each other’s edits', async () => {
    const { alice, bob } = await clientsOnTwoRelays('shared-doc');
    alice.text.insert(0, 'hello from A ');
    bob.text.insert(0, 'hello from B ');
    await waitUntil(() => alice.text.toString() === bob.text.toString() && alice.text.length === 26, { what: 'both relays converge' });
    expect(Y.encodeStateVector(alice.doc)).toEqual(Y.encodeStateVector(bob.doc));
  });

  it('[M3] presence set on one relay shows on the other, and goes when its owner leaves', async () => {
    const { alice, bob } = await clientsOnTwoRelays('presence-doc');
    alice.provider.awareness.setLocalStateField('user', { name: 'Alice', color: '#2b8a3e' });
    const aliceId = alice.doc.clientID;
    await waitUntil(() => (bob.provider.awareness.getStates().get(aliceId) as { user?: { name?: string } } | undefined)?.user?.name === 'Alice', { what: 'Bob sees Alice' });
    alice.provider.destroy();
    await waitUntil(() => !bob.provider.awareness.getStates().has(aliceId), { what: 'Alice gone from Bob’s presence' });
  });

  it('[M4] a relay that stops cleanly folds the log of each document open on it into PostgreSQL', async () => {
    const { redis, postgres } = await servers.get();
    const relay = await startClusterRelay(teardown, { redis, postgres }, { secret: clusterSecret() });
    const alice = connectClient(teardown, relay, 'folded-doc', { savedAcks: true });
    await waitForSync(alice);
    for (let i = 0; i < 20; i++) alice.text.insert(0, `${i} `);
    await waitForSaved(alice);
    await relay.close();

    const docId = parseDocId('folded-doc')!;
    const commands = new Redis(redis.url);
    const database = new pg.Client({ connectionString: postgres.url });
    teardown.add(async () => {
      commands.disconnect();
      await database.end();
    });
    const [logEntries, lastSeq] = await Promise.all([commands.xlen(clusterKeys.log(docId)), commands.get(clusterKeys.seq(docId))]);
    await database.connect();
    const { rows } = await database.query<{ through: string }>('SELECT snapshot_through_seq AS through FROM inkwell_documents WHERE doc_id = $1', [docId]);
    expect(Number(lastSeq)).toBeGreaterThan(0);
    expect({ logEntries, snapshotThroughSeq: Number(rows[0]?.through ?? 0) }).toEqual({ logEntries: 0, snapshotThroughSeq: Number(lastSeq) });
  });
});
