/**
 * Persistence of one room: batches the room's updates per tick, appends them
 * to the store one batch at a time, retries failed writes with backoff, and
 * folds the log into a snapshot once it passes a threshold.
 *
 * Batches are numbered. A batch is "cut" when its write starts; at that moment
 * the document holds exactly the persisted updates plus this batch, so the
 * state vector read then is the one that is durable once the write resolves.
 */
import type { DocId } from '../lib/ids';
import type { Logger } from './logger';
import type { RelayMetrics } from './metrics';
import type { DocStore } from './storage/doc-store';

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5_000;
/** A write still unfinished after this long counts as a failure (a hung disk or network mount) until it ends. */
export const DEFAULT_WRITE_STALL_MS = 5_000;

/** Options of `RoomPersister`. */
export interface RoomPersisterOptions {
  readonly docId: DocId;
  readonly store: DocStore;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly compactAfterUpdates: number;
  readonly compactAfterBytes: number;
  /** What `load` found in the log, so compaction thresholds count it. */
  readonly initialLog: { readonly count: number; readonly bytes: number; readonly lastSeq: number };
  /** Reads the document's current state vector. */
  readonly readStateVector: () => Uint8Array;
  /** Encodes the document's full state and its state vector, for compaction. */
  readonly readSnapshot: () => { snapshot: Uint8Array; stateVector: Uint8Array };
  /** Called once a compaction that read `readSnapshot` is stored. */
  readonly onCompacted: () => void;
  /** Called after batch `batchId` is on disk; `stateVector` is what it made durable. */
  readonly onBatchSaved: (batchId: number, stateVector: Uint8Array) => void;
  /** Called when a write fails or stalls (`reason`), and with `null` once writes succeed again. */
  readonly onWriteHealth: (failure: string | null) => void;
  /** How long a write may take before it counts as a failure; `DEFAULT_WRITE_STALL_MS` if absent. */
  readonly writeStallMs?: number;
}

/** Group-committed, retrying, compacting persistence of one room's updates. */
export class RoomPersister {
  private pending: Uint8Array[] = [];
  /** Bytes of updates not on disk yet: queued, waiting for a retry, or being written. */
  private unsavedByteCount = 0;
  /** Why writes are failing, or null while they succeed. */
  private failure: string | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private nextBatchId = 1;
  private inFlightBatchId: number | null = null;
  private isFlushScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private failedAttempts = 0;
  private isCompacting = false;
  /** After a failed compaction, the log length from which the next is tried. */
  private retryCompactionAtCount = 0;
  private logCount: number;
  private logBytes: number;
  private lastSeq: number;
  private settledWaiters: (() => void)[] = [];

  constructor(private readonly options: RoomPersisterOptions) {
    this.logCount = options.initialLog.count;
    this.logBytes = options.initialLog.bytes;
    this.lastSeq = options.initialLog.lastSeq;
  }

  /** Queues one update; returns the id of the batch that will carry it. */
  enqueue(update: Uint8Array): number {
    this.pending.push(update);
    this.unsavedByteCount += update.byteLength;
    this.scheduleFlush();
    return this.nextBatchId;
  }

  /** Bytes of updates not on disk yet. */
  get unsavedBytes(): number {
    return this.unsavedByteCount;
  }

  /** Why writes are failing (or stalled), or null while they succeed. */
  get writeFailure(): string | null {
    return this.failure;
  }

  /** The batch whose save covers everything applied so far, or `null` when all of it is on disk. */
  latestUnsavedBatchId(): number | null {
    if (this.pending.length > 0) return this.nextBatchId;
    return this.inFlightBatchId;
  }

  /** True when nothing is waiting, being written or being compacted. */
  isSettled(): boolean {
    return this.pending.length === 0 && this.inFlightBatchId === null && !this.isCompacting;
  }

  /** Resolves once everything queued so far is on disk and no compaction runs. */
  async settle(): Promise<void> {
    if (this.retryTimer) {
      // Shutting down or unloading: try the failed batch now rather than after the backoff.
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.scheduleFlush();
    }
    if (this.isSettled()) return;
    await new Promise<void>((resolve) => this.settledWaiters.push(resolve));
  }

  /** Compacts now if the log is over a threshold (used after load, too). */
  maybeCompact(): void {
    const { compactAfterUpdates, compactAfterBytes } = this.options;
    if (this.isCompacting || this.logCount === 0 || this.logCount < this.retryCompactionAtCount) return;
    if (this.logCount < compactAfterUpdates && this.logBytes < compactAfterBytes) return;
    void this.compact();
  }

  /**
   * Writes everything, then folds whatever is logged into the snapshot, so the
   * next load of this document reads one value instead of replaying a log.
   */
  async settleAndCompact(): Promise<void> {
    await this.settle();
    if (this.logCount === 0 || this.failedAttempts > 0) return;
    if (!this.isCompacting) void this.compact();
    await this.settle();
  }

  /** Stops retry timers; the room is going away. */
  dispose(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.clearStallTimer();
  }

  private scheduleFlush(): void {
    if (this.isFlushScheduled || this.inFlightBatchId !== null || this.retryTimer) return;
    this.isFlushScheduled = true;
    setImmediate(() => {
      this.isFlushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlightBatchId !== null || this.pending.length === 0) {
      this.notifyIfSettled();
      return;
    }
    const { store, docId, metrics, logger } = this.options;
    const batch = this.pending;
    const batchId = this.nextBatchId;
    this.pending = [];
    this.nextBatchId += 1;
    this.inFlightBatchId = batchId;
    const stateVector = this.options.readStateVector();
    const startedAt = performance.now();
    const stallMs = this.options.writeStallMs ?? DEFAULT_WRITE_STALL_MS;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      logger.error({ docId, stalledForMs: stallMs }, 'a write to storage has not finished');
      this.setFailure(`a write to storage has not finished after ${stallMs} ms`);
    }, stallMs);
    try {
      this.lastSeq = await store.appendUpdates(docId, batch);
    } catch (error) {
      this.clearStallTimer();
      // Keep the batch in memory, ahead of anything queued since, and retry.
      this.pending = batch.concat(this.pending);
      this.inFlightBatchId = null;
      this.failedAttempts += 1;
      metrics.persistFailures.inc();
      const delayMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.failedAttempts - 1));
      logger.error({ docId, err: error, attempt: this.failedAttempts, retryInMs: delayMs }, 'persisting updates failed');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.scheduleFlush();
      }, delayMs);
      this.setFailure(`writes to storage are failing: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.clearStallTimer();
    metrics.persistSeconds.observe((performance.now() - startedAt) / 1000);
    this.failedAttempts = 0;
    this.inFlightBatchId = null;
    this.logCount += batch.length;
    for (const update of batch) {
      this.logBytes += update.byteLength;
      this.unsavedByteCount -= update.byteLength;
    }
    if (this.failure !== null) {
      logger.info({ docId }, 'writes to storage succeed again');
      this.setFailure(null);
    }
    this.options.onBatchSaved(batchId, stateVector);
    this.maybeCompact();
    if (this.pending.length > 0) this.scheduleFlush();
    this.notifyIfSettled();
  }

  private async compact(): Promise<void> {
    const { store, docId, metrics, logger } = this.options;
    this.isCompacting = true;
    // The snapshot may include updates still queued after `throughSeq`; they are
    // logged again later and applying a Yjs update twice is a no-op, so load stays exact.
    const throughSeq = this.lastSeq;
    const compactedCount = this.logCount;
    const compactedBytes = this.logBytes;
    try {
      const startedAt = performance.now();
      await store.compact(docId, { ...this.options.readSnapshot(), throughSeq });
      this.logCount -= compactedCount;
      this.logBytes -= compactedBytes;
      this.options.onCompacted();
      metrics.compactions.inc();
      logger.info(
        { docId, compactedUpdates: compactedCount, compactedBytes, durationMs: Math.round(performance.now() - startedAt) },
        'compacted document log',
      );
      this.isCompacting = false;
      // Batches that landed while this compaction ran may already fill the log again.
      this.maybeCompact();
    } catch (error) {
      this.isCompacting = false;
      // Not again at every batch: once the log has grown by another threshold.
      this.retryCompactionAtCount = this.logCount + this.options.compactAfterUpdates;
      logger.error({ docId, err: error }, 'compaction failed; the log stays as it was');
    } finally {
      this.notifyIfSettled();
    }
  }

  private setFailure(failure: string | null): void {
    if (failure === this.failure) return;
    this.failure = failure;
    this.options.onWriteHealth(failure);
  }

  private clearStallTimer(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }

  private notifyIfSettled(): void {
    if (!this.isSettled() || this.settledWaiters.length === 0) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
