/**
 * The one blocking `XREAD` loop of a relay process over the logs of the
 * documents open on it: hands each document's new entries to its follower in
 * log order, without gaps. Sequence numbers are dense, so a gap (entries a
 * compaction trimmed before this process read them) shows as a jump, and the
 * follower reloads the document from storage before reading on.
 *
 * A trim can also remove every entry after a lagging cursor, leaving nothing to
 * jump over; a periodic check of each log's counter against the cursor finds
 * that too.
 */
import type { Redis } from 'ioredis';

import type { DocId } from '../../lib/ids';
import type { Logger } from '../logger';
import { clusterKeys, entryIdOf, type LogPosition } from './keys';
import { parseEntry, type LogEntry } from './redis-pg-store';

const BLOCK_MS = 1_000;
const ENTRIES_PER_READ = 1_000;
const GAP_CHECK_EVERY_MS = 2_000;
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2_000;

/** Who reads a document's log. */
export interface LogFollower {
  /** Entries after the follower's position, in order, gapless; updates this process appended are left out. */
  onEntries(entries: readonly LogEntry[]): void;
  /** Entries the follower never read were trimmed: it reloads and resolves with the sequence number it now holds. */
  onGap(): Promise<number>;
}

interface Follow {
  cursor: LogPosition;
  readonly follower: LogFollower;
  isReloading: boolean;
}

/** Options of `LogTail`. */
export interface LogTailOptions {
  /** A connection of its own: XREAD blocks it. */
  readonly blocking: Redis;
  /** The shared command connection (to unblock the loop, and for gap checks). */
  readonly commands: Redis;
  readonly processId: string;
  readonly logger: Logger;
  /** Reading fails (`reason`) or works again (`null`). */
  readonly onHealth?: (failure: string | null) => void;
}

/** Follows the logs of open documents. */
export class LogTail {
  private readonly follows = new Map<DocId, Follow>();
  private isClosed = false;
  private blockingClientId: number | null = null;
  private wake: (() => void) | null = null;
  private failure: string | null = null;
  private lastGapCheckAt = 0;
  private readonly loop: Promise<void>;

  constructor(private readonly options: LogTailOptions) {
    options.blocking.on('ready', () => void this.learnClientId());
    void this.learnClientId();
    this.loop = this.run();
  }

  /** Why the logs cannot be read now, or null. */
  get health(): string | null {
    return this.failure;
  }

  /** Delivers entries of `docId` after `fromSeq` to `follower` until the returned function is called. */
  follow(docId: DocId, fromSeq: number, follower: LogFollower): () => void {
    const follow: Follow = { cursor: { seq: fromSeq, sub: 0 }, follower, isReloading: false };
    this.follows.set(docId, follow);
    this.restartRead();
    return () => {
      if (this.follows.get(docId) === follow) this.follows.delete(docId);
    };
  }

  /** Ends the loop; a read blocked on a hung Redis is cut off with its connection. */
  async close(): Promise<void> {
    this.isClosed = true;
    this.wake?.();
    this.options.blocking.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failedAttempts = 0;
    while (!this.isClosed) {
      const reading = [...this.follows].filter(([, follow]) => !follow.isReloading);
      if (reading.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      try {
        const keys = reading.map(([docId]) => clusterKeys.log(docId));
        const ids = reading.map(([, follow]) => entryIdOf(follow.cursor));
        const reply = await this.options.blocking.xreadBuffer('COUNT', ENTRIES_PER_READ, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...ids);
        if (reply) {
          const byKey = new Map(reading.map((each) => [clusterKeys.log(each[0]), each] as const));
          for (const [key, rawEntries] of reply) {
            const match = byKey.get(key.toString());
            if (match) this.deliver(match[0], match[1], rawEntries);
          }
        }
        if (Date.now() - this.lastGapCheckAt >= GAP_CHECK_EVERY_MS) await this.checkForTrimmedTails();
        failedAttempts = 0;
        this.setFailure(null);
      } catch (error) {
        if (this.isClosed) break;
        failedAttempts += 1;
        const message = error instanceof Error ? error.message : String(error);
        this.options.logger.warn({ err: error, attempt: failedAttempts }, 'reading the document logs failed');
        this.setFailure(`cannot read document logs from Redis: ${message}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failedAttempts - 1))));
      }
    }
  }

  private deliver(docId: DocId, follow: Follow, rawEntries: [Buffer, Buffer[]][]): void {
    // Unfollowed (or followed afresh) while the read was out.
    if (this.follows.get(docId) !== follow) return;
    const fresh: LogEntry[] = [];
    for (const [id, fields] of rawEntries) {
      const entry = parseEntry(id.toString(), fields);
      if (!entry || !isAfter(entry.position, follow.cursor)) continue;
      if (!followsOn(entry.position, follow.cursor)) {
        this.flush(follow, fresh);
        this.reload(docId, follow, `updates after ${follow.cursor.seq} were trimmed before they were read`);
        return;
      }
      follow.cursor = entry.position;
      if (entry.kind === 'u' && entry.origin === this.options.processId) continue;
      fresh.push(entry);
    }
    this.flush(follow, fresh);
  }

  private flush(follow: Follow, entries: LogEntry[]): void {
    if (entries.length > 0) follow.follower.onEntries(entries);
  }

  // A lagging cursor whose whole tail was trimmed sees no entry to jump over: compare with the counters.
  private async checkForTrimmedTails(): Promise<void> {
    this.lastGapCheckAt = Date.now();
    const reading = [...this.follows].filter(([, follow]) => !follow.isReloading);
    if (reading.length === 0) return;
    const counters = await this.options.commands.mget(...reading.map(([docId]) => clusterKeys.seq(docId)));
    const behind = reading.filter(([, follow], index) => Number(counters[index] ?? 0) > follow.cursor.seq);
    for (const [docId, follow] of behind) {
      const cursor = follow.cursor;
      const next = await this.options.commands.xrangeBuffer(clusterKeys.log(docId), `(${entryIdOf(cursor)}`, '+', 'COUNT', 1);
      const nextEntry = next[0] ? parseEntry(next[0][0].toString(), next[0][1]) : null;
      // Read on meanwhile, or reloading: the check is stale.
      if (this.follows.get(docId) !== follow || follow.isReloading || follow.cursor !== cursor) continue;
      if (!nextEntry || !followsOn(nextEntry.position, cursor)) this.reload(docId, follow, `the log after update ${cursor.seq} was trimmed before it was read`);
    }
  }

  private reload(docId: DocId, follow: Follow, why: string): void {
    this.options.logger.warn({ docId, cursor: follow.cursor, why }, 'missed log entries; reloading the document from storage');
    follow.isReloading = true;
    void follow.follower.onGap().then(
      (seq) => {
        if (seq > follow.cursor.seq) follow.cursor = { seq, sub: 0 };
        follow.isReloading = false;
        this.restartRead();
      },
      (error: unknown) => {
        this.options.logger.error({ docId, err: error }, 'reloading after missed log entries failed; trying again');
        follow.isReloading = false;
        // The jump is seen again on the next read, and the reload retried.
        this.restartRead();
      },
    );
  }

  // The loop blocks in XREAD over the documents it knew; a change of that set ends the block early.
  private restartRead(): void {
    if (this.wake) {
      this.wake();
      return;
    }
    if (this.blockingClientId !== null) void this.options.commands.client('UNBLOCK', this.blockingClientId).catch(() => undefined);
  }

  private async learnClientId(): Promise<void> {
    try {
      this.blockingClientId = Number(await this.options.blocking.client('ID'));
    } catch {
      this.blockingClientId = null;
    }
  }

  private setFailure(failure: string | null): void {
    if (failure === this.failure) return;
    this.failure = failure;
    this.options.onHealth?.(failure);
  }
}

function isAfter(position: LogPosition, cursor: LogPosition): boolean {
  return position.seq > cursor.seq || (position.seq === cursor.seq && position.sub > cursor.sub);
}

// Nothing is missing between `cursor` and `position`: the next update, or another
// entry after the same one. (Entries after one update are trimmed only with the
// next update, so a missing one shows as a missing update.)
function followsOn(position: LogPosition, cursor: LogPosition): boolean {
  return position.sub === 0 ? position.seq === cursor.seq + 1 : position.seq === cursor.seq;
}
