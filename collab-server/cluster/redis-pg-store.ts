/**
 * The `DocStore` of cluster mode, shared by every relay process: each
 * document's update log is a Redis stream (entry ids `<seq>-0`, numbered by a
 * counter in the same script that appends, so sequence numbers have no gaps),
 * and its snapshot and link-reset time are a row in PostgreSQL that records
 * the sequence number the snapshot covers.
 *
 * Durability: Redis must run with `appendonly yes` and `appendfsync always`
 * (checked at open and after every reconnect), so an append resolves only
 * once it is fsynced to the AOF.
 *
 * Reads take the stream before the row: a compaction writes the row before it
 * trims, so every entry after the snapshot read later is still in the stream
 * read earlier, whatever compaction ran in between.
 */
import type { Redis, Result } from 'ioredis';
import type { Pool } from 'pg';

import type { DocId } from '../../lib/ids';
import type { Logger } from '../logger';
import { StorageError, type DocStore, type StoredDoc } from '../storage/doc-store';
import { LOG_FIELDS, clusterKeys, entryIdOf, parseEntryId, type LogEntryKind, type LogPosition } from './keys';
import { durabilityProblem } from './redis-connection';

// KEYS: log, seq. ARGV: origin, updates… Numbers the updates from the counter
// and appends them in one step, so ids are dense and a crash leaves either all
// of them or none.
const APPEND_SCRIPT = `
local count = #ARGV - 1
local last = redis.call('INCRBY', KEYS[2], count)
local seq = last - count
for i = 2, #ARGV do
  seq = seq + 1
  redis.call('XADD', KEYS[1], string.format('%d-0', seq), '${LOG_FIELDS.origin}', ARGV[1], '${LOG_FIELDS.update}', ARGV[i])
end
return last`;

// KEYS: log, seq. ARGV: origin, reset time. A link reset follows the last update
// as \`<seq>-<n>\` (Redis picks n), so it takes no sequence number.
const APPEND_RESET_SCRIPT = `
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
return redis.call('XADD', KEYS[1], string.format('%d-*', seq), '${LOG_FIELDS.origin}', ARGV[1], '${LOG_FIELDS.linksReset}', ARGV[2])`;

// KEYS: seq. ARGV: floor. The counter must never fall below what a snapshot covers
// (a Redis restored from an older backup would otherwise hand out covered numbers).
const RAISE_SEQ_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if current < floor then redis.call('SET', KEYS[1], ARGV[1]) return floor end
return current`;

const UNCHECKED_AFTER_RECONNECT = 'the connection to Redis was lost; its durability settings are read again once it is back';

/** One entry of a document's log, as read back. */
export interface LogEntry {
  readonly position: LogPosition;
  /** The relay process that appended it. */
  readonly origin: string;
  readonly kind: LogEntryKind;
  readonly payload: Buffer;
}

interface SnapshotRow {
  readonly snapshot: Buffer | null;
  readonly state_vector: Buffer | null;
  readonly snapshot_through_seq: string;
  readonly links_reset_at: string;
}

/** Options of `RedisPgStore`. */
export interface RedisPgStoreOptions {
  /** Commands (appends, reads, trims); shared with the rest of cluster mode. */
  readonly redis: Redis;
  readonly pool: Pool;
  /** This process's id, recorded with each entry it appends. */
  readonly processId: string;
  readonly logger: Logger;
}

/** Update log in Redis streams, snapshots and link resets in PostgreSQL. */
export class RedisPgStore implements DocStore {
  private isClosed = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Why Redis would lose appends (it was reconfigured), or null: appends are refused meanwhile. */
  private redisProblem: string | null = null;

  constructor(private readonly options: RedisPgStoreOptions) {
    options.redis.defineCommand('inkwellAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
    options.redis.defineCommand('inkwellAppendReset', { numberOfKeys: 2, lua: APPEND_RESET_SCRIPT });
    options.redis.defineCommand('inkwellRaiseSeq', { numberOfKeys: 1, lua: RAISE_SEQ_SCRIPT });
    // A Redis restarted with other settings must not be trusted with acknowledgements:
    // from the moment the connection drops until its settings are read again, nothing is appended.
    options.redis.on('close', () => (this.redisProblem ??= UNCHECKED_AFTER_RECONNECT));
    options.redis.on('ready', () => void this.checkDurability());
  }

  /** Why Redis cannot be trusted with appends now, or null. */
  get durabilityFailure(): string | null {
    return this.redisProblem;
  }

  async load(docId: DocId): Promise<StoredDoc> {
    return this.run('load', async () => {
      const { entries, counter } = await this.readLog(docId);
      const row = await this.readRow(docId);
      const throughSeq = row ? Number(row.snapshot_through_seq) : 0;
      const updates: Uint8Array[] = [];
      let logBytes = 0;
      for (const entry of entries) {
        if (entry.position.seq <= throughSeq || entry.kind !== LOG_FIELDS.update) continue;
        updates.push(entry.payload);
        logBytes += entry.payload.byteLength;
      }
      let lastSeq = counter;
      if (counter < throughSeq) {
        this.options.logger.error({ docId, counter, throughSeq }, 'the Redis log counter is behind the snapshot (Redis lost data?); raising it');
        lastSeq = Number(await this.options.redis.inkwellRaiseSeq(clusterKeys.seq(docId), String(throughSeq)));
      }
      return {
        linksResetAt: row ? Number(row.links_reset_at) : 0,
        snapshot: row?.snapshot ? new Uint8Array(row.snapshot) : null,
        snapshotStateVector: row?.state_vector ? new Uint8Array(row.state_vector) : null,
        updates,
        lastSeq,
        logBytes,
      };
    });
  }

  appendUpdates(docId: DocId, updates: readonly Uint8Array[]): Promise<number> {
    return this.run('append', async () => {
      if (this.redisProblem !== null) throw new Error(this.redisProblem);
      if (updates.length === 0) return Number((await this.options.redis.get(clusterKeys.seq(docId))) ?? 0);
      const last = await this.options.redis.inkwellAppend(clusterKeys.log(docId), clusterKeys.seq(docId), this.options.processId, ...updates.map(asBuffer));
      return Number(last);
    });
  }

  async compact(docId: DocId, options: { snapshot: Uint8Array; stateVector: Uint8Array; throughSeq: number }): Promise<void> {
    await this.run('compact', async () => {
      const coveredSeq = await this.storeSnapshot(docId, options);
      await this.trimLog(docId, coveredSeq);
    });
  }

  /**
   * Stores `snapshot` as the document's, unless a snapshot covering as much or
   * more is stored already (another compaction won): then leaves that one.
   * Resolves with the sequence number the stored snapshot covers.
   */
  async storeSnapshot(docId: DocId, options: { snapshot: Uint8Array; stateVector: Uint8Array; throughSeq: number }): Promise<number> {
    return this.run('compact', async () => {
      const { rows } = await this.options.pool.query<{ snapshot_through_seq: string }>(
        `INSERT INTO inkwell_documents AS d (doc_id, snapshot, state_vector, snapshot_through_seq)
           VALUES ($1, $2, $3, $4)
         ON CONFLICT (doc_id) DO UPDATE
           SET snapshot = EXCLUDED.snapshot, state_vector = EXCLUDED.state_vector,
               snapshot_through_seq = EXCLUDED.snapshot_through_seq, updated_at = now()
           WHERE d.snapshot_through_seq < EXCLUDED.snapshot_through_seq
         RETURNING snapshot_through_seq`,
        [docId, asBuffer(options.snapshot), asBuffer(options.stateVector), options.throughSeq],
      );
      if (rows[0]) return Number(rows[0].snapshot_through_seq);
      // Not updated: a snapshot covering at least as much is there.
      const row = await this.readRow(docId);
      return row ? Number(row.snapshot_through_seq) : 0;
    });
  }

  /**
   * Drops the log's updates up to `throughSeq`, which a stored snapshot covers,
   * with the entries between them. Entries after update `throughSeq` stay, so a
   * relay whose position is that update still reads them.
   */
  async trimLog(docId: DocId, throughSeq: number): Promise<void> {
    if (throughSeq <= 0) return;
    await this.run('trim', () => this.options.redis.xtrim(clusterKeys.log(docId), 'MINID', entryIdOf({ seq: throughSeq, sub: 1 })));
  }

  async loadLinksResetAt(docId: DocId): Promise<number> {
    return this.run('load', async () => {
      const row = await this.readRow(docId);
      return row ? Number(row.links_reset_at) : 0;
    });
  }

  /**
   * Records the reset in PostgreSQL (the time never moves back), then appends
   * it to the document's log, which every relay with the document open reads
   * in order and so ends the sessions the reset voids.
   */
  async resetLinks(docId: DocId, at: number): Promise<number> {
    return this.run('reset links', async () => {
      const { rows } = await this.options.pool.query<{ links_reset_at: string }>(
        `INSERT INTO inkwell_documents AS d (doc_id, links_reset_at) VALUES ($1, $2)
         ON CONFLICT (doc_id) DO UPDATE
           SET links_reset_at = GREATEST(d.links_reset_at, EXCLUDED.links_reset_at), updated_at = now()
         RETURNING links_reset_at`,
        [docId, at],
      );
      const stored = Number(rows[0]!.links_reset_at);
      await this.options.redis.inkwellAppendReset(clusterKeys.log(docId), clusterKeys.seq(docId), this.options.processId, String(stored));
      return stored;
    });
  }

  /** Waits for appends in flight, then stops taking calls; the connections are their owner's to close. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  // The stream and its counter, read in one MULTI so the counter matches the entries.
  private async readLog(docId: DocId): Promise<{ entries: LogEntry[]; counter: number }> {
    const replies = await this.options.redis.multi().xrangeBuffer(clusterKeys.log(docId), '-', '+').get(clusterKeys.seq(docId)).exec();
    if (!replies) throw new Error('the read of the log was aborted');
    const [[rangeError, range], [seqError, seq]] = replies as [[Error | null, [Buffer, Buffer[]][]], [Error | null, string | null]];
    if (rangeError) throw rangeError;
    if (seqError) throw seqError;
    return { entries: range.flatMap(([id, fields]) => parseEntry(id.toString(), fields) ?? []), counter: Number(seq ?? 0) };
  }

  private async readRow(docId: DocId): Promise<SnapshotRow | null> {
    const { rows } = await this.options.pool.query<SnapshotRow>(
      'SELECT snapshot, state_vector, snapshot_through_seq, links_reset_at FROM inkwell_documents WHERE doc_id = $1',
      [docId],
    );
    return rows[0] ?? null;
  }

  private async checkDurability(): Promise<void> {
    const problem = await durabilityProblem(this.options.redis);
    if (problem !== this.redisProblem) {
      if (problem) this.options.logger.error({ problem }, 'Redis would lose acknowledged updates; appends are refused');
      this.redisProblem = problem;
    }
  }

  // Every failure becomes a StorageError (S7), and close waits for what runs.
  private async run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    if (this.isClosed) throw new StorageError(`${what}: the store is closed`);
    const running = operation();
    this.inFlight.add(running);
    try {
      return await running;
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw new StorageError(`${what} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      this.inFlight.delete(running);
    }
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    inkwellAppend(log: string, seq: string, origin: string, ...updates: Buffer[]): Result<number, Context>;
    inkwellAppendReset(log: string, seq: string, origin: string, at: string): Result<string, Context>;
    inkwellRaiseSeq(seq: string, floor: string): Result<number, Context>;
  }
}

/** Parses one stream entry as written by the append script; null for anything else. */
export function parseEntry(id: string, fields: readonly Buffer[]): LogEntry | null {
  const position = parseEntryId(id);
  if (position === null) return null;
  let origin = '';
  let kind: LogEntryKind | null = null;
  let payload: Buffer | null = null;
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const name = fields[index]!.toString();
    const value = fields[index + 1]!;
    if (name === LOG_FIELDS.origin) origin = value.toString();
    else if (name === LOG_FIELDS.update || name === LOG_FIELDS.linksReset) {
      kind = name;
      payload = value;
    }
  }
  // An update is always `<seq>-0`, a reset never: anything else was not written by a relay.
  if (!kind || !payload || (kind === LOG_FIELDS.update) !== (position.sub === 0)) return null;
  return { position, origin, kind, payload };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
