/**
 * The storage interface the relay depends on. Rooms never know which store they
 * use: LevelDB is the embedded default, `memory` serves unit tests, and cluster
 * mode shares one Redis + PostgreSQL store between relay processes.
 */
import type { DocId } from '../../lib/ids';

/** What `load` returns: the snapshot (if any) and the updates logged after it, in order. */
export interface StoredDoc {
  /** When the document's share links were last reset (ms since the epoch), 0 if never. */
  readonly linksResetAt: number;
  readonly snapshot: Uint8Array | null;
  /** The snapshot's state vector, stored with it so a load need not decode the snapshot to learn it. */
  readonly snapshotStateVector: Uint8Array | null;
  readonly updates: readonly Uint8Array[];
  /** Sequence number of the last logged update, 0 when nothing is logged. */
  readonly lastSeq: number;
  /** Bytes held in the update log (not counting the snapshot). */
  readonly logBytes: number;
}

/** Storage of one document per id: an append-only update log folded into snapshots. */
export interface DocStore {
  /** Reads a document, with its links' reset time. An unknown id yields an empty `StoredDoc`. */
  load(docId: DocId): Promise<StoredDoc>;
  /**
   * Durably appends updates, in order. Resolves with the sequence number of the
   * last one once they are on disk; rejects on failure (nothing is swallowed).
   * The buffers are kept until written: callers must not mutate them.
   */
  appendUpdates(docId: DocId, updates: readonly Uint8Array[]): Promise<number>;
  /**
   * Atomically replaces every logged update with sequence ≤ `throughSeq` (and any
   * earlier snapshot) by `snapshot`, which must encode exactly that state, and
   * `stateVector`, the state vector of `snapshot`.
   */
  compact(docId: DocId, options: { snapshot: Uint8Array; stateVector: Uint8Array; throughSeq: number }): Promise<void>;
  /** When the document's share links were last reset (ms since the epoch), 0 if never. */
  loadLinksResetAt(docId: DocId): Promise<number>;
  /**
   * Durably records a reset of the document's share links at `at` (ms), unless a
   * later reset is already stored: the reset time never moves back, so a link
   * voided once stays void. Resolves with the reset time now stored. Concurrent
   * calls for one document are applied one at a time.
   */
  resetLinks(docId: DocId, at: number): Promise<number>;
  /** Flushes and releases the store. */
  close(): Promise<void>;
  /**
   * Present on stores that several relay processes share (cluster mode). Such a
   * store folds each log itself, from storage, since one relay's copy of a
   * document may lag the shared log: rooms never call `compact` then, and only
   * report that a document went idle on this relay, a good time to fold it.
   */
  readonly sharedLog?: { noteIdle(docId: DocId): void };
}

/** Raised by stores; the relay retries with backoff and reports it. */
export class StorageError extends Error {
  readonly code = 'storage';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
  }
}

export const EMPTY_STORED_DOC: StoredDoc = { linksResetAt: 0, snapshot: null, snapshotStateVector: null, updates: [], lastSeq: 0, logBytes: 0 };
