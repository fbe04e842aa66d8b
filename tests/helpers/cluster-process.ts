/**
 * Cluster mode as it runs in production: relay processes (the compiled relay,
 * as `npm run relay` starts it) over test Redis and PostgreSQL servers, and a
 * fresh read of a document from that storage, as a relay opening it would load it.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import * as Y from 'yjs';

import { openCluster, type Cluster } from '../../collab-server/cluster/cluster';
import { clusterKeys } from '../../collab-server/cluster/keys';
import { createSilentLogger } from '../../collab-server/logger';
import { parseDocId, type DocId } from '../../lib/ids';
import type { Teardown, TestClient } from './relay';
import { spawnRelay, type RelayProcess } from './relay-process';

/** Where the cluster's Redis and PostgreSQL listen. */
export interface ClusterUrls {
  readonly redis: { readonly url: string };
  readonly postgres: { readonly url: string };
}

/**
 * Starts a relay process in cluster mode over `servers` (with the shared TEST_SECRET);
 * `env` adds or overrides variables. Killed at teardown if still running.
 */
export function spawnClusterRelay(teardown: Teardown, servers: ClusterUrls, env: Record<string, string> = {}): Promise<RelayProcess> {
  return spawnRelay(teardown, {
    COLLAB_REDIS_URL: servers.redis.url,
    COLLAB_DATABASE_URL: servers.postgres.url,
    // Every test client connects from 127.0.0.1, and stock clients retry every 200 ms while a relay refuses them.
    COLLAB_MAX_CONNECT_ATTEMPTS_PER_MINUTE: '100000',
    ...env,
  });
}

/** True while the relay process has not exited. */
export function isRunning(relay: RelayProcess): boolean {
  return relay.child.exitCode === null && relay.child.signalCode === null;
}

/** Opens a part of the cluster in this process (no relay), for reading storage or compacting; closed at teardown. */
export async function openTestCluster(teardown: Teardown, servers: ClusterUrls): Promise<Cluster> {
  const cluster = await openCluster({
    redisUrl: servers.redis.url,
    databaseUrl: servers.postgres.url,
    logger: createSilentLogger(),
    // Compaction only when a test asks for it.
    compactAfterUpdates: Number.MAX_SAFE_INTEGER,
    compactAfterBytes: Number.MAX_SAFE_INTEGER,
  });
  teardown.add(() => cluster.store.close());
  return cluster;
}

/** What a document holds as stored: its text and state vector. */
export interface StoredContent {
  readonly text: string;
  readonly stateVector: Map<number, number>;
}

/** Loads `docId` from the cluster's storage into a fresh document (snapshot, then the log in order, as a room does). */
export async function loadStoredContent(cluster: Cluster, docId: string): Promise<StoredContent> {
  const stored = await cluster.store.load(docIdOf(docId));
  const doc = new Y.Doc();
  try {
    Y.transact(doc, () => {
      if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
      for (const update of stored.updates) Y.applyUpdate(doc, update);
    });
    return { text: doc.getText('t').toString(), stateVector: Y.decodeStateVector(Y.encodeStateVector(doc)) };
  } finally {
    doc.destroy();
  }
}

/** How `docId` is stored: the update number its snapshot covers, the entries in its log, the log's counter. */
export async function storedLayout(servers: ClusterUrls, docId: string): Promise<{ snapshotThroughSeq: number; logLength: number; counter: number }> {
  const redis = new Redis(servers.redis.url);
  const client = new pg.Client({ connectionString: servers.postgres.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ snapshot_through_seq: string }>('SELECT snapshot_through_seq FROM inkwell_documents WHERE doc_id = $1', [docId]);
    const key = docIdOf(docId);
    return {
      snapshotThroughSeq: Number(rows[0]?.snapshot_through_seq ?? 0),
      logLength: await redis.xlen(clusterKeys.log(key)),
      counter: Number((await redis.get(clusterKeys.seq(key))) ?? 0),
    };
  } finally {
    redis.disconnect();
    await client.end();
  }
}

/** A client's content in the shape `loadStoredContent` returns. */
export function clientContent(client: TestClient): StoredContent {
  return { text: client.text.toString(), stateVector: Y.decodeStateVector(Y.encodeStateVector(client.doc)) };
}

/** True when every client holds the same text and state vector (everything reached everyone). */
export function haveConverged(clients: readonly TestClient[]): boolean {
  const [first, ...others] = clients.map((client) => ({ text: client.text.toString(), stateVector: Y.encodeStateVector(client.doc) }));
  return others.every((other) => other.text === first!.text && Buffer.from(other.stateVector).equals(first!.stateVector));
}

/** The `DocId` of a test's literal id. */
export function docIdOf(docId: string): DocId {
  const parsed = parseDocId(docId);
  if (!parsed) throw new Error(`not a valid doc id: ${docId}`);
  return parsed;
}

/** Occurrences of `part` in `text` (how many times an edit landed). */
export function countOccurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}
