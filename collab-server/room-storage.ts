/**
 * A room's side of storage: what it knows of its document as stored (its size,
 * checked against COLLAB_MAX_DOC_BYTES), the persister that writes its updates,
 * made on the first write, and the limit on what it may hold unsaved while
 * storage fails (COLLAB_MAX_UNSAVED_BYTES). The room decides what to store;
 * this decides whether it may, and reports what storage did.
 */
import type { DocId } from '../lib/ids';
import type { Logger } from './logger';
import type { RelayMetrics } from './metrics';
import { RoomPersister } from './room-persister';
import type { DocStore, StoredDoc } from './storage/doc-store';

/** The limits of `RoomStorage`, shared by every room of a relay. */
export interface RoomStorageLimits {
  /** Log length (updates) after which the document is compacted. */
  readonly compactAfterUpdates: number;
  /** Log size (bytes) after which the document is compacted. */
  readonly compactAfterBytes: number;
  /** Size the stored document may reach; updates that would pass it are refused. */
  readonly maxDocBytes: number;
  /** Bytes of updates a room may hold that are not on disk yet; past it, changes are refused until storage catches up. */
  readonly maxUnsavedBytes: number;
  /** How long a write may take before it counts as a failure. */
  readonly writeStallMs: number;
}

/** Options of `RoomStorage`. */
export interface RoomStorageOptions {
  readonly docId: DocId;
  readonly store: DocStore;
  readonly stored: StoredDoc;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly limits: RoomStorageLimits;
  /** The document's current state vector. */
  readonly readStateVector: () => Uint8Array;
  /** The document's whole state and its state vector, for compaction. */
  readonly readSnapshot: () => { snapshot: Uint8Array; stateVector: Uint8Array };
  /** The size of the document's whole state, encoded (shared logs: what its store folds it to). */
  readonly measureDocument: () => number;
  /** Batch `batchId` is on disk; `stateVector` is what it made durable. */
  readonly onBatchSaved: (batchId: number, stateVector: Uint8Array) => void;
  /** Writes started failing (`reason`), or succeed again (`null`). */
  readonly onWriteHealth: (failure: string | null) => void;
}

/** Why an update may not be stored. */
export type StoreRefusal = 'document-too-large' | 'too-much-unsaved';

/** Persistence of one room, and the limits on what it stores. */
export class RoomStorage {
  private persister: RoomPersister | null = null;
  /**
   * Size of the document as stored (snapshot plus the updates logged after it);
   * approximate between compactions, never under.
   */
  private storedBytes: number;
  /** `storedBytes` when the snapshot being written was read, and that snapshot's size. */
  private compactionBase: { readonly storedBytes: number; readonly snapshotBytes: number } | null = null;
  private readonly storedLog: { readonly count: number; readonly bytes: number; readonly lastSeq: number };
  /** Shared logs: `storedBytes` when the document was last measured. */
  private measuredAtBytes = 0;

  constructor(private readonly options: RoomStorageOptions) {
    const { stored } = options;
    this.storedBytes = (stored.snapshot?.byteLength ?? 0) + stored.logBytes;
    this.storedLog = { count: stored.updates.length, bytes: stored.logBytes, lastSeq: stored.lastSeq };
    // A log left by the last session is folded now, so the next load reads one value
    // (a shared log is its store's to fold).
    if (stored.updates.length > 0 && !options.store.sharedLog) this.persisterInstance().maybeCompact();
  }

  /** Bytes of the document as stored, counting what is queued to be. */
  get documentBytes(): number {
    return this.storedBytes;
  }

  /** Why writes are failing, or null while they succeed (or none were needed). */
  get writeFailure(): string | null {
    return this.persister?.writeFailure ?? null;
  }

  /** Bytes queued or being written, not on disk yet. */
  get unsavedBytes(): number {
    return this.persister?.unsavedBytes ?? 0;
  }

  /** Whether an update of `byteLength` bytes may be stored now; null if it may. */
  refusalFor(byteLength: number): StoreRefusal | null {
    const { maxDocBytes, maxUnsavedBytes } = this.options.limits;
    if (this.storedBytes + byteLength > maxDocBytes && !this.isUnderLimitMeasured(byteLength)) return 'document-too-large';
    if (this.unsavedBytes + byteLength > maxUnsavedBytes) return 'too-much-unsaved';
    return null;
  }

  /** Cluster mode: another relay stored `byteLength` bytes of this document. */
  noteStoredElsewhere(byteLength: number): void {
    this.storedBytes += byteLength;
  }

  // A shared log is folded by its store, out of this room's sight, so `storedBytes` only
  // grows: near the limit the document is measured instead, at most once per
  // compaction threshold of growth (an encode of the whole document costs).
  private isUnderLimitMeasured(byteLength: number): boolean {
    const { options } = this;
    if (!options.store.sharedLog) return false;
    const { maxDocBytes, compactAfterBytes } = options.limits;
    if (this.storedBytes - this.measuredAtBytes < Math.min(compactAfterBytes, maxDocBytes / 8)) return false;
    this.storedBytes = this.measuredAtBytes = options.measureDocument();
    return this.storedBytes + byteLength <= maxDocBytes;
  }

  /** Queues `update` to be written; returns the batch that will carry it. */
  store(update: Uint8Array): number {
    this.storedBytes += update.byteLength;
    return this.persisterInstance().enqueue(update);
  }

  /** The batch whose save covers everything stored so far, or null when all of it is on disk. */
  latestUnsavedBatchId(): number | null {
    return this.persister?.latestUnsavedBatchId() ?? null;
  }

  /** True when nothing is waiting, being written or being compacted. */
  isSettled(): boolean {
    return this.persister?.isSettled() ?? true;
  }

  /** Resolves once everything queued so far is on disk. */
  settle(): Promise<void> {
    return this.persister?.settle() ?? Promise.resolve();
  }

  /**
   * Like `settle`, then folds the update log into the snapshot (before an
   * unload); a shared log is folded by its store, told that the document is idle here.
   */
  async settleAndCompact(): Promise<void> {
    const { sharedLog } = this.options.store;
    if (!sharedLog) return this.persister?.settleAndCompact();
    await this.settle();
    sharedLog.noteIdle(this.options.docId);
  }

  /** Stops timers; the room is going away. */
  dispose(): void {
    this.persister?.dispose();
  }

  private persisterInstance(): RoomPersister {
    const { options } = this;
    this.persister ??= new RoomPersister({
      docId: options.docId,
      store: options.store,
      logger: options.logger,
      metrics: options.metrics,
      // A shared log is folded by its store, from storage: this room's memory may lag it.
      compactAfterUpdates: options.store.sharedLog ? Infinity : options.limits.compactAfterUpdates,
      compactAfterBytes: options.store.sharedLog ? Infinity : options.limits.compactAfterBytes,
      writeStallMs: options.limits.writeStallMs,
      initialLog: this.storedLog,
      readStateVector: options.readStateVector,
      readSnapshot: () => {
        const read = options.readSnapshot();
        this.compactionBase = { storedBytes: this.storedBytes, snapshotBytes: read.snapshot.byteLength };
        return read;
      },
      // The log up to the snapshot is gone: what is stored is the snapshot plus what came since.
      onCompacted: () => {
        if (!this.compactionBase) return;
        this.storedBytes = this.compactionBase.snapshotBytes + (this.storedBytes - this.compactionBase.storedBytes);
        this.compactionBase = null;
      },
      onBatchSaved: options.onBatchSaved,
      onWriteHealth: options.onWriteHealth,
    });
    return this.persister;
  }
}
