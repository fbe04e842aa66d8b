/**
 * Compaction in cluster mode: folds a document's Redis log into its snapshot
 * row in PostgreSQL, then trims the log. Any relay process may start it when a
 * log passes a threshold or a document goes idle there; a lease in Redis,
 * renewed while the work runs, lets one process do it at a time.
 *
 * It works from storage, not from a room's memory: a room may not have read
 * the latest entries yet, and a snapshot must cover exactly what it claims.
 * Crash-safe between any two steps: the row is written only if it covers more
 * than the stored one (a duplicate or late run changes nothing), loads skip
 * entries the row covers, and a trim removes only what a stored row covers.
 */
import type { Redis, Result } from 'ioredis';
import * as Y from 'yjs';

import type { DocId } from '../../lib/ids';
import type { Logger } from '../logger';
import { clusterKeys } from './keys';
import type { RedisPgStore } from './redis-pg-store';

const LEASE_MS = 30_000;
const RENEW_EVERY_MS = 10_000;
// After a failure (PostgreSQL unreachable, say) a document is tried again after
// this, doubling up to the maximum, rather than at every append past the threshold.
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 30_000;

const RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The steps of one compaction, reported as they complete (logs, tests of crashes between steps). */
export type CompactionStep = 'snapshot-stored' | 'log-trimmed';

/** What a compaction did. */
export type CompactionOutcome =
  | { readonly kind: 'compacted'; readonly throughSeq: number; readonly foldedUpdates: number; readonly snapshotBytes: number }
  | { readonly kind: 'nothing-to-fold' }
  /** Another process holds the lease. */
  | { readonly kind: 'busy' };

/** Options of `Compactor`. */
export interface CompactorOptions {
  readonly store: RedisPgStore;
  readonly redis: Redis;
  readonly processId: string;
  readonly logger: Logger;
  /** Log length (entries) after which a document is compacted. */
  readonly compactAfterUpdates: number;
  /** Log size (bytes appended by this process) after which a document is compacted. */
  readonly compactAfterBytes: number;
  /** Compaction failed (`reason`, e.g. PostgreSQL unreachable) or works again (`null`). */
  readonly onHealth?: (failure: string | null) => void;
  readonly onStep?: (docId: DocId, step: CompactionStep) => Promise<void> | void;
}

/** Decides when to compact, and compacts under a lease. */
export class Compactor {
  /** Per document this process appended to: bytes appended since it last compacted here. */
  private readonly appendedBytes = new Map<DocId, number>();
  /** Per document: the sequence number its stored snapshot covers, as last seen. */
  private readonly coveredSeq = new Map<DocId, number>();
  private readonly running = new Map<DocId, Promise<CompactionOutcome>>();
  /** Documents whose last compaction failed, with the attempts that failed in a row. */
  private readonly failedAttempts = new Map<DocId, number>();
  private readonly retryTimers = new Map<DocId, NodeJS.Timeout>();
  private failure: string | null = null;
  private isClosed = false;

  constructor(private readonly options: CompactorOptions) {
    options.redis.defineCommand('inkwellRenewLease', { numberOfKeys: 1, lua: RENEW_SCRIPT });
    options.redis.defineCommand('inkwellReleaseLease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  }

  /** Why compaction fails, or null. */
  get health(): string | null {
    return this.failure;
  }

  /** Notes what a load found, so thresholds count the log left before. */
  noteLoaded(docId: DocId, stored: { lastSeq: number; updates: readonly unknown[]; logBytes: number }): void {
    this.coveredSeq.set(docId, stored.lastSeq - stored.updates.length);
    this.appendedBytes.set(docId, stored.logBytes);
    this.considerAfterAppend(docId, stored.lastSeq, 0);
  }

  /** Call after an append to `docId` ended at `lastSeq`: compacts in the background once the log passes a threshold. */
  considerAfterAppend(docId: DocId, lastSeq: number, bytes: number): void {
    const appended = (this.appendedBytes.get(docId) ?? 0) + bytes;
    this.appendedBytes.set(docId, appended);
    const logLength = lastSeq - (this.coveredSeq.get(docId) ?? 0);
    if (logLength >= this.options.compactAfterUpdates || appended >= this.options.compactAfterBytes) this.start(docId);
  }

  /** The document has no peers here any more: fold whatever its log holds, so the next load reads one row. */
  noteIdle(docId: DocId): void {
    this.start(docId);
    this.appendedBytes.delete(docId);
    this.coveredSeq.delete(docId);
  }

  /** Waits for the compactions running in this process, and starts and retries none after. */
  async close(): Promise<void> {
    this.isClosed = true;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  /** Compacts `docId` now if no other process holds its lease. */
  compactNow(docId: DocId): Promise<CompactionOutcome> {
    const running = this.running.get(docId);
    if (running) return running;
    const run = this.withLease(docId).finally(() => this.running.delete(docId));
    this.running.set(docId, run);
    return run;
  }

  /**
   * One compaction, without the lease: what `compactNow` runs while holding it.
   * Safe to run twice at once (the second stores nothing newer and trims what a
   * stored row covers).
   */
  async compactFromStorage(docId: DocId): Promise<CompactionOutcome> {
    const { store } = this.options;
    const stored = await store.load(docId);
    if (stored.updates.length === 0) {
      // Entries the row already covers may remain after a crash before the trim.
      await store.trimLog(docId, stored.lastSeq - stored.updates.length);
      return { kind: 'nothing-to-fold' };
    }
    // Applied in log order, as a room loads it, and checked to load again before it replaces the log.
    const doc = new Y.Doc({ gc: true });
    try {
      Y.transact(doc, () => {
        if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
        for (const update of stored.updates) Y.applyUpdate(doc, update);
      });
      const snapshot = Y.encodeStateAsUpdate(doc);
      assertLoads(snapshot);
      const stateVector = Y.encodeStateVector(doc);
      const coveredSeq = await store.storeSnapshot(docId, { snapshot, stateVector, throughSeq: stored.lastSeq });
      await this.options.onStep?.(docId, 'snapshot-stored');
      await store.trimLog(docId, coveredSeq);
      await this.options.onStep?.(docId, 'log-trimmed');
      this.coveredSeq.set(docId, coveredSeq);
      return { kind: 'compacted', throughSeq: coveredSeq, foldedUpdates: stored.updates.length, snapshotBytes: snapshot.byteLength };
    } finally {
      doc.destroy();
    }
  }

  private start(docId: DocId): void {
    if (this.isClosed || this.running.has(docId) || this.retryTimers.has(docId)) return;
    this.appendedBytes.set(docId, 0);
    void this.compactNow(docId).catch(() => undefined);
  }

  private async withLease(docId: DocId): Promise<CompactionOutcome> {
    const { redis, processId, logger } = this.options;
    const lease = clusterKeys.compactionLease(docId);
    let outcome: CompactionOutcome;
    try {
      const taken = await redis.set(lease, processId, 'PX', LEASE_MS, 'NX');
      if (taken === null) {
        // Another process compacts it. After a failure here, try again later: the failure
        // (and /healthz) clears only once this process sees compaction work, and nothing
        // else would retry it.
        if (this.failedAttempts.has(docId)) this.retryLater(docId);
        return { kind: 'busy' };
      }
      const renewal = setInterval(() => void redis.inkwellRenewLease(lease, processId, String(LEASE_MS)).catch(() => undefined), RENEW_EVERY_MS);
      const startedAt = performance.now();
      try {
        outcome = await this.compactFromStorage(docId);
      } finally {
        clearInterval(renewal);
        await redis.inkwellReleaseLease(lease, processId).catch(() => undefined);
      }
      if (outcome.kind === 'compacted') {
        logger.info({ docId, ...outcome, durationMs: Math.round(performance.now() - startedAt) }, 'compacted document log');
      }
    } catch (error) {
      // Closing: the connections are about to go, so a retry timer would only fail again, forever.
      if (this.isClosed) throw error;
      const attempts = (this.failedAttempts.get(docId) ?? 0) + 1;
      this.failedAttempts.set(docId, attempts);
      const retryInMs = this.retryLater(docId);
      logger.error({ docId, err: error, attempts, retryInMs }, 'compaction failed; the log stays as it was');
      this.setFailure(`compaction is failing: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
    this.failedAttempts.delete(docId);
    if (this.failedAttempts.size === 0) this.setFailure(null);
    return outcome;
  }

  // Backoff by the failures in a row so far; returns the delay. Once closed, nothing is retried.
  private retryLater(docId: DocId): number {
    const attempts = this.failedAttempts.get(docId) ?? 1;
    const retryInMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempts - 1));
    if (this.isClosed) return retryInMs;
    const timer = setTimeout(() => {
      this.retryTimers.delete(docId);
      this.start(docId);
    }, retryInMs);
    this.retryTimers.set(docId, timer);
    return retryInMs;
  }

  private setFailure(failure: string | null): void {
    if (failure === this.failure) return;
    this.failure = failure;
    this.options.onHealth?.(failure);
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    inkwellRenewLease(lease: string, owner: string, leaseMs: string): Result<number, Context>;
    inkwellReleaseLease(lease: string, owner: string): Result<number, Context>;
  }
}

function assertLoads(snapshot: Uint8Array): void {
  const check = new Y.Doc();
  try {
    Y.applyUpdate(check, snapshot);
  } finally {
    check.destroy();
  }
}
