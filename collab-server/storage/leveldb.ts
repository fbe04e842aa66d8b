/**
 * The LevelDB `DocStore`: one append-only update log per document plus an
 * optional snapshot, with group commit: appends across all documents go to disk
 * in synced batches, at most one per commit interval. A lone append after a
 * quiet spell is committed at once; under load, everything that arrives while
 * a batch is on its way or within the interval forms the next batch, so fsyncs
 * stay at a fixed rate however many keystrokes arrive. Broadcasts never wait
 * for it; only "saved" acknowledgements do.
 *
 * Keys (utf8, versioned so the layout can change):
 *   v1/!seq                  last sequence number handed out (relay-wide, monotonic)
 *   v1/d/<docId>/links       when the share links were last reset: [var-uint ms]
 *   v1/d/<docId>/s           snapshot: [var-uint throughSeq][var-length state vector][Yjs update]
 *   v1/d/<docId>/u/<seq>     one logged update; <seq> is zero-padded so keys sort numerically
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { Level } from 'level';

import type { DocId } from '../../lib/ids';
import { KeyedLock } from '../keyed-lock';
import { StorageError, type DocStore, type StoredDoc } from './doc-store';

const SEQ_KEY = 'v1/!seq';
const SEQ_DIGITS = 16;
/** Log entries fetched per native call when loading: enough to make calls rare, few enough not to stall the event loop. */
const LOG_READ_CHUNK = 1_000;

type Entry = [key: string, value: Uint8Array];

/** What loading needs of a LevelDB iterator. */
interface EntryReader {
  nextv(size: number): Promise<Entry[]>;
}

interface PendingAppend {
  readonly docId: DocId;
  readonly updates: readonly Uint8Array[];
  /** Sequence number of the first of `updates`; the others follow it. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  resolve(seq: number): void;
  reject(error: Error): void;
}

/** Options of `openLevelStore`. */
export interface LevelStoreOptions {
  /** Directory of the LevelDB database; created if missing. */
  readonly dir: string;
  /** The least time between the starts of two synced batches; 0 commits every tick's appends at once. */
  readonly minCommitIntervalMs?: number;
}

/**
 * At most 50 fsyncs a second under load: each costs the relay CPU (measured in
 * `bench/`: S2 used 13.3% CPU at one batch per 4 ms, 9.0% at one per 25 ms),
 * while "saved" arriving up to 20 ms later is not something a writer can see.
 */
export const DEFAULT_MIN_COMMIT_INTERVAL_MS = 20;

type Database = Level<string, Uint8Array>;

async function openDatabase(dir: string): Promise<Database> {
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  try {
    await db.open();
  } catch (cause) {
    throw new StorageError(`cannot open LevelDB at ${dir}: ${describe(cause)}`, { cause });
  }
  return db;
}

/** Opens (or creates) the LevelDB database in `dir`. Fails if another process holds it. */
export async function openLevelStore(options: LevelStoreOptions): Promise<DocStore> {
  let db = await openDatabase(options.dir);
  const storedSeq = await db.get(SEQ_KEY);
  let lastSeq = storedSeq === undefined ? 0 : readSeqValue(storedSeq);

  let pending: PendingAppend[] = [];
  const linkResets = new KeyedLock<DocId>();
  let commitInFlight: Promise<void> | null = null;
  let isCommitScheduled = false;
  let isClosed = false;

  // After a failed write (a full disk, an I/O error) LevelDB's log may end in a
  // torn record, and writes that then succeed are appended after it: on the next
  // open, recovery stops at the tear and drops them, synced and acknowledged as
  // they were (measured on a full tmpfs: three writes acknowledged after the
  // disk had room again were gone after a restart). So after any failed write
  // the database is closed and opened again, which recovers the log and starts a
  // new one, before anything else is written; until that succeeds, writes fail.
  let mustReopen = false;
  let reopening: Promise<void> | null = null;
  const reopenIfNeeded = (): Promise<void> => {
    if (!mustReopen) return Promise.resolve();
    reopening ??= (async () => {
      try {
        await db.close().catch(() => undefined);
        db = await openDatabase(options.dir);
        mustReopen = false;
      } finally {
        reopening = null;
      }
    })();
    return reopening;
  };
  // Runs one write against the database, reopened first if an earlier write failed.
  const write = async <T>(operation: () => Promise<T>): Promise<T> => {
    await reopenIfNeeded();
    try {
      return await operation();
    } catch (error) {
      mustReopen = true;
      throw error;
    }
  };

  // Why one commit at a time: appends queued while a batch is on its way to disk
  // form the next batch, which is what makes the commit a group commit.
  const minCommitIntervalMs = options.minCommitIntervalMs ?? DEFAULT_MIN_COMMIT_INTERVAL_MS;
  let lastCommitStartedAt = -Infinity;
  const startCommit = (): Promise<void> => {
    lastCommitStartedAt = performance.now();
    return (commitInFlight = commit().finally(() => {
      commitInFlight = null;
      if (pending.length > 0) scheduleCommit();
    }));
  };
  const scheduleCommit = (): void => {
    if (isCommitScheduled) return;
    isCommitScheduled = true;
    const start = (): void => {
      isCommitScheduled = false;
      if (!commitInFlight) void startCommit();
    };
    // The next tick at the earliest, so the appends of this one share the batch.
    const waitMs = lastCommitStartedAt + minCommitIntervalMs - performance.now();
    if (waitMs > 0) setTimeout(start, waitMs);
    else setImmediate(start);
  };

  const commit = async (): Promise<void> => {
    const group = pending;
    pending = [];
    if (group.length === 0) return;
    const groupLastSeq = group[group.length - 1]?.lastSeq ?? lastSeq;
    // A chained batch, not an array of operations: abstract-level copies and
    // checks each operation of an array in JS (10 µs an operation, against 2.6
    // for a chained put, measured for 20-operation batches).
    try {
      await write(() => {
        const batch = db.batch();
        for (const append of group) {
          append.updates.forEach((update, index) => batch.put(updateKey(append.docId, append.firstSeq + index), update));
        }
        batch.put(SEQ_KEY, writeSeqValue(groupLastSeq));
        return batch.write({ sync: true });
      });
    } catch (cause) {
      const error = new StorageError(`LevelDB batch write failed: ${describe(cause)}`, { cause });
      for (const append of group) append.reject(error);
      return;
    }
    for (const append of group) append.resolve(append.lastSeq);
  };

  return {
    async load(docId) {
      if (isClosed) throw new StorageError('store is closed');
      try {
        await reopenIfNeeded();
      } catch (cause) {
        throw new StorageError(`cannot load ${docId}: ${describe(cause)}`, { cause });
      }
      let linksResetAt = 0;
      let snapshot: Uint8Array | null = null;
      let snapshotStateVector: Uint8Array | null = null;
      let snapshotSeq = 0;
      const updates: Uint8Array[] = [];
      let docLastSeq = 0;
      let logBytes = 0;
      // Takes the log entries already read, then reads the rest.
      const readLog = async (iterator: EntryReader, first: readonly Entry[]): Promise<void> => {
        let entries = first;
        do {
          for (const [key, value] of entries) {
            updates.push(value);
            logBytes += value.byteLength;
            docLastSeq = Number(key.slice(key.lastIndexOf('/') + 1));
          }
          entries = await iterator.nextv(LOG_READ_CHUNK);
        } while (entries.length > 0);
      };
      // One iterator over the whole document: `links` and `s` sort before the log,
      // so a new document (most connections) costs a single, empty read.
      const whole = db.iterator({ gte: docPrefix(docId), lt: `${docPrefix(docId)}\xff` });
      try {
        // One entry at a time until the log, so nothing is read ahead.
        let [entry] = await whole.nextv(1);
        if (entry?.[0] === linksKey(docId)) {
          linksResetAt = readSeqValue(entry[1]);
          [entry] = await whole.nextv(1);
        }
        if (entry?.[0] === snapshotKey(docId)) {
          const decoder = decoding.createDecoder(entry[1]);
          snapshotSeq = decoding.readVarUint(decoder);
          snapshotStateVector = decoding.readVarUint8Array(decoder);
          snapshot = decoding.readTailAsUint8Array(decoder);
          // The log is read by a new iterator that starts after the keys the snapshot
          // folded in: reading on would step over each of their tombstones, and so may
          // a seek (classic-level falls back to scanning back from the end).
          const log = db.iterator({ gt: updateKey(docId, snapshotSeq), lt: `${docPrefix(docId)}u/\xff` });
          try {
            await readLog(log, []);
          } finally {
            await log.close();
          }
        } else {
          await readLog(whole, entry ? [entry] : []);
        }
      } catch (cause) {
        throw new StorageError(`cannot load ${docId}: ${describe(cause)}`, { cause });
      } finally {
        await whole.close();
      }
      return {
        linksResetAt,
        snapshot,
        snapshotStateVector,
        updates,
        lastSeq: Math.max(docLastSeq, snapshotSeq),
        logBytes,
      } satisfies StoredDoc;
    },

    appendUpdates(docId, updates) {
      if (isClosed) return Promise.reject(new StorageError('store is closed'));
      const firstSeq = lastSeq + 1;
      lastSeq += updates.length;
      const appendLastSeq = lastSeq;
      return new Promise<number>((resolve, reject) => {
        pending.push({ docId, updates, firstSeq, lastSeq: appendLastSeq, resolve, reject });
        scheduleCommit();
      });
    },

    async compact(docId, { snapshot, stateVector, throughSeq }) {
      if (isClosed) throw new StorageError('store is closed');
      try {
        await write(async () => {
          // Keys up to the previous snapshot are gone already; skip their tombstones.
          const previous = await db.get(snapshotKey(docId));
          const previousSeq = previous === undefined ? 0 : readSeqValue(previous);
          const folded = await db.keys({ gt: updateKey(docId, previousSeq), lte: updateKey(docId, throughSeq) }).all();
          const batch = db.batch();
          for (const key of folded) batch.del(key);
          const encoder = encoding.createEncoder();
          encoding.writeVarUint(encoder, throughSeq);
          encoding.writeVarUint8Array(encoder, stateVector);
          encoding.writeUint8Array(encoder, snapshot);
          batch.put(snapshotKey(docId), encoding.toUint8Array(encoder));
          await batch.write({ sync: true });
        });
      } catch (cause) {
        throw new StorageError(`cannot compact ${docId}: ${describe(cause)}`, { cause });
      }
    },

    async loadLinksResetAt(docId) {
      if (isClosed) throw new StorageError('store is closed');
      try {
        await reopenIfNeeded();
        const value = await db.get(linksKey(docId));
        return value === undefined ? 0 : readSeqValue(value);
      } catch (cause) {
        throw new StorageError(`cannot read link state of ${docId}: ${describe(cause)}`, { cause });
      }
    },

    resetLinks(docId, at) {
      // Read, compare and write as one step per document, so two resets cannot interleave.
      return linkResets.run(docId, async () => {
        if (isClosed) throw new StorageError('store is closed');
        try {
          return await write(async () => {
            const current = await db.get(linksKey(docId));
            const stored = Math.max(current === undefined ? 0 : readSeqValue(current), at);
            await db.put(linksKey(docId), writeSeqValue(stored), { sync: true });
            return stored;
          });
        } catch (cause) {
          throw new StorageError(`cannot reset links of ${docId}: ${describe(cause)}`, { cause });
        }
      });
    },

    async close() {
      if (isClosed) return;
      // Shutting down: what waits is written now, not after the interval; what
      // cannot be written is refused to its callers, who report it.
      while (commitInFlight || pending.length > 0) await (commitInFlight ?? startCommit());
      isClosed = true;
      await reopening?.catch(() => undefined);
      await db.close();
    },
  };
}

// Doc ids are validated to [A-Za-z0-9_-]; encoding them anyway keeps the key
// layout safe even if that rule ever loosens.
function docPrefix(docId: DocId): string {
  return `v1/d/${encodeURIComponent(docId)}/`;
}

function linksKey(docId: DocId): string {
  return `${docPrefix(docId)}links`;
}

function snapshotKey(docId: DocId): string {
  return `${docPrefix(docId)}s`;
}

function updateKey(docId: DocId, seq: number): string {
  return `${docPrefix(docId)}u/${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

// Var-uint values: sequence numbers and reset times.
function writeSeqValue(seq: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, seq);
  return encoding.toUint8Array(encoder);
}

function readSeqValue(value: Uint8Array): number {
  return decoding.readVarUint(decoding.createDecoder(value));
}

// abstract-level wraps the native error ("Database failed to open", cause "IO error: … No space left on device"): name both.
function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  return cause.cause instanceof Error ? `${cause.message}: ${cause.cause.message}` : cause.message;
}
