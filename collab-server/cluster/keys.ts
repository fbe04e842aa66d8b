/**
 * Names of what cluster mode keeps in Redis. A document's keys share one hash
 * tag (`{docId}`), so its log and counter could move to one Redis Cluster slot
 * together; the relay itself talks to one Redis server (see the README).
 */
import type { DocId } from '../../lib/ids';

const PREFIX = 'inkwell';

/** Redis keys and channels of cluster mode. */
export const clusterKeys = {
  /**
   * The document's log: a stream whose updates have ids `<seq>-0`, seq counting
   * from 1 without gaps, and whose other entries (link resets) `<seq>-<n>`, n ≥ 1,
   * after the update `seq` they follow, so they take no sequence number.
   */
  log: (docId: DocId) => `${PREFIX}:{${docId}}:log`,
  /** The last sequence number handed out for the document's log; it outlives trims of the stream. */
  seq: (docId: DocId) => `${PREFIX}:{${docId}}:seq`,
  /** Lease of the process compacting the document's log. */
  compactionLease: (docId: DocId) => `${PREFIX}:{${docId}}:compaction-lease`,
  /** Pub/sub channel of the document's presence (awareness). */
  presence: (docId: DocId) => `${PREFIX}:{${docId}}:presence`,
  /** A relay process's heartbeat: expires when the process stops renewing it. */
  process: (processId: string) => `${PREFIX}:process:${processId}`,
} as const;

/** Fields of a log entry: who appended it, and what it holds. */
export const LOG_FIELDS = {
  origin: 'o',
  update: 'u',
  linksReset: 'r',
} as const;

/** What a log entry holds: a Yjs update, or a reset of the document's share links. */
export type LogEntryKind = typeof LOG_FIELDS.update | typeof LOG_FIELDS.linksReset;

/** A position in a document's log: after update `seq`, and `sub` other entries after it. */
export interface LogPosition {
  readonly seq: number;
  readonly sub: number;
}

/** The stream entry id of a log position. */
export function entryIdOf(position: LogPosition): string {
  return `${position.seq}-${position.sub}`;
}

/** The log position of stream entry id `id`, or null for an id this relay never writes. */
export function parseEntryId(id: string): LogPosition | null {
  const match = /^(\d{1,15})-(\d{1,15})$/.exec(id);
  return match ? { seq: Number(match[1]), sub: Number(match[2]) } : null;
}
