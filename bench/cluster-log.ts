/**
 * What cluster mode stores of one document, read straight from the benchmark's
 * Redis and PostgreSQL: S4 reports it to show that the cold load it times read
 * the document from a PostgreSQL snapshot rather than replaying a Redis log.
 */
import { Redis } from 'ioredis';
import pg from 'pg';

import { clusterKeys } from '../collab-server/cluster/keys';
import { parseDocId } from '../lib/ids';
import type { Backing } from './backing-services';

/** A document's log and snapshot row. */
export interface ClusterLogState {
  /** Entries left in the document's Redis stream. */
  readonly logEntries: number;
  /** The last update number handed out. */
  readonly lastSeq: number;
  /** The update number the PostgreSQL snapshot covers (0 without a row). */
  readonly snapshotThroughSeq: number;
  readonly snapshotBytes: number;
}

/** Reads `room`'s log length and counter from Redis and its snapshot row from PostgreSQL. */
export async function readClusterLog(backing: Backing, room: string): Promise<ClusterLogState> {
  const docId = parseDocId(room);
  if (!docId || !backing.postgres) throw new Error(`no cluster document ${room}`);
  const redis = new Redis(backing.redis.url);
  const client = new pg.Client({ connectionString: backing.postgres.url });
  try {
    const [logEntries, lastSeq] = await Promise.all([redis.xlen(clusterKeys.log(docId)), redis.get(clusterKeys.seq(docId))]);
    await client.connect();
    const { rows } = await client.query<{ through: string; bytes: number | null }>(
      'SELECT snapshot_through_seq AS through, octet_length(snapshot) AS bytes FROM inkwell_documents WHERE doc_id = $1',
      [docId],
    );
    return { logEntries, lastSeq: Number(lastSeq ?? 0), snapshotThroughSeq: Number(rows[0]?.through ?? 0), snapshotBytes: rows[0]?.bytes ?? 0 };
  } finally {
    redis.disconnect();
    await client.end();
  }
}
