/**
 * The `DocStore` contract: one suite body, registered for every store in
 * `doc-store.test.ts`, so all stores are held to the same rules: S1–S12 of
 * `lib/protocol/SPEC.md` (## Storage), S8–S10 only for stores whose data
 * outlives `close`. Each test names the rule it checks. Every update is
 * produced by a real Y.Doc in the test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';

import { StorageError, type DocStore, type StoredDoc } from '../../collab-server/storage/doc-store';
import type { DocId } from '../../lib/ids';
import { byteArrays, testDocId } from '../helpers/documents';

/** One isolated storage location; `open` may be called again to reopen it. */
export interface DocStoreHarness {
  /** Opens a store on this harness's location (the same data each time for persistent stores). */
  open(): Promise<DocStore>;
  /** Removes the location (temp dirs and the like); runs after every opened store is closed. */
  dispose(): Promise<void>;
}

/** What a store promises beyond the shared rules. */
export interface DocStoreContractOptions {
  /** Whether data outlives `close`, which enables rules S8–S10. */
  readonly isPersistent: boolean;
  /** Whether one location takes one open store at a time (S10); false for stores relay processes share. */
  readonly isExclusive?: boolean;
}

/** Registers the contract suite for one store implementation. */
export function registerDocStoreContract(
  name: string,
  makeStore: () => Promise<DocStoreHarness>,
  options: DocStoreContractOptions,
): void {
  describe(`DocStore contract: ${name}`, () => {
    let harness: DocStoreHarness;
    let openedStores: DocStore[];
    let store: DocStore;

    const openStore = async (): Promise<DocStore> => {
      const opened = await harness.open();
      openedStores.push(opened);
      return opened;
    };

    beforeEach(async () => {
      harness = await makeStore();
      openedStores = [];
      store = await openStore();
    });

    afterEach(async () => {
      for (const opened of openedStores) await opened.close();
      await harness.dispose();
    });

    it('[S1] load of an unknown doc is empty', async () => {
      await store.appendUpdates(testDocId('other'), createEditHistory(1).updates);
      expect(await store.load(testDocId('unknown'))).toEqual({ linksResetAt: 0, snapshot: null, snapshotStateVector: null, updates: [], lastSeq: 0, logBytes: 0 });
    });

    it('[S2] appendUpdates returns increasing sequence numbers and load returns the updates in order', async () => {
      const docId = testDocId('doc');
      const { doc, updates } = createEditHistory(6);
      const batches = [updates.slice(0, 1), updates.slice(1, 3), updates.slice(3)];
      let previousSeq = 0;
      for (const batch of batches) {
        const seq = await store.appendUpdates(docId, batch);
        // The resolved value is the last update's sequence number, so each update had its own.
        expect(seq).toBeGreaterThanOrEqual(previousSeq + batch.length);
        previousSeq = seq;
      }
      const stored = await store.load(docId);
      expect(stored.snapshot).toBeNull();
      expect(byteArrays(stored.updates)).toEqual(byteArrays(updates));
      expect(stored.lastSeq).toBe(previousSeq);
      expect(stored.logBytes).toBe(sumBytes(updates));
      expect(rebuildState(stored)).toEqual(Y.encodeStateAsUpdate(doc));
    });

    it('[S3] documents are isolated, including ids that prefix each other', async () => {
      const ids = ['abc', 'abc-x', 'abc_', 'ab', 'a_b', 'a-b'].map(testDocId);
      const histories = new Map(ids.map((id, index) => [id, createEditHistory(index + 1, id)]));
      for (const id of ids) await store.appendUpdates(id, historyOf(histories, id).updates);
      for (const id of ids) {
        const stored = await store.load(id);
        expect(byteArrays(stored.updates)).toEqual(byteArrays(historyOf(histories, id).updates));
        expect(stored.logBytes).toBe(sumBytes(historyOf(histories, id).updates));
      }
      const abc = testDocId('abc');
      const { lastSeq } = await store.load(abc);
      const snapshot = Y.encodeStateAsUpdate(historyOf(histories, abc).doc);
      await store.compact(abc, { snapshot, stateVector: Y.encodeStateVectorFromUpdate(snapshot), throughSeq: lastSeq });
      for (const id of ids.filter((other) => other !== abc)) {
        const stored = await store.load(id);
        expect(stored.snapshot).toBeNull();
        expect(byteArrays(stored.updates)).toEqual(byteArrays(historyOf(histories, id).updates));
      }
    });

    it('[S4] compact replaces updates ≤ throughSeq by the snapshot and keeps later ones', async () => {
      const docId = testDocId('doc');
      const { updates } = createEditHistory(5);
      const seqs: number[] = [];
      for (const update of updates) seqs.push(await store.appendUpdates(docId, [update]));
      const stateBefore = rebuildState(await store.load(docId));
      const snapshot = Y.encodeStateAsUpdate(docFromUpdates(updates.slice(0, 3)));
      await store.compact(docId, { snapshot, stateVector: Y.encodeStateVectorFromUpdate(snapshot), throughSeq: at(seqs, 2) });
      const stored = await store.load(docId);
      expect(byteArrays(stored.snapshot ? [stored.snapshot] : [])).toEqual(byteArrays([snapshot]));
      // The state vector comes back as stored, so a load need not decode the snapshot for it.
      expect(byteArrays(stored.snapshotStateVector ? [stored.snapshotStateVector] : [])).toEqual(byteArrays([Y.encodeStateVectorFromUpdate(snapshot)]));
      expect(byteArrays(stored.updates)).toEqual(byteArrays(updates.slice(3)));
      expect(stored.lastSeq).toBe(at(seqs, 4));
      expect(stored.logBytes).toBe(sumBytes(updates.slice(3)));
      expect(rebuildState(stored)).toEqual(stateBefore);
    });

    it('[S4] compact through the last update leaves only the snapshot and keeps lastSeq', async () => {
      const docId = testDocId('doc');
      const { doc, updates } = createEditHistory(4);
      const lastSeq = await store.appendUpdates(docId, updates);
      const stateBefore = rebuildState(await store.load(docId));
      await store.compact(docId, { snapshot: Y.encodeStateAsUpdate(doc), stateVector: Y.encodeStateVectorFromUpdate(Y.encodeStateAsUpdate(doc)), throughSeq: lastSeq });
      const stored = await store.load(docId);
      expect(stored.updates).toHaveLength(0);
      expect(stored.logBytes).toBe(0);
      expect(stored.lastSeq).toBe(lastSeq);
      expect(rebuildState(stored)).toEqual(stateBefore);
    });

    it('[S4] a later compact replaces the earlier snapshot', async () => {
      const docId = testDocId('doc');
      const { doc, updates } = createEditHistory(6);
      const firstSeq = await store.appendUpdates(docId, updates.slice(0, 3));
      const firstSnapshot = Y.encodeStateAsUpdate(docFromUpdates(updates.slice(0, 3)));
      await store.compact(docId, { snapshot: firstSnapshot, stateVector: Y.encodeStateVectorFromUpdate(firstSnapshot), throughSeq: firstSeq });
      const secondSeq = await store.appendUpdates(docId, updates.slice(3));
      const snapshot = Y.encodeStateAsUpdate(doc);
      await store.compact(docId, { snapshot, stateVector: Y.encodeStateVectorFromUpdate(snapshot), throughSeq: secondSeq });
      const stored = await store.load(docId);
      expect(byteArrays(stored.snapshot ? [stored.snapshot] : [])).toEqual(byteArrays([snapshot]));
      expect(stored.updates).toHaveLength(0);
      expect(rebuildState(stored)).toEqual(Y.encodeStateAsUpdate(doc));
    });

    it('[S5] appendUpdates after compact is replayed on load', async () => {
      const docId = testDocId('doc');
      const { doc, updates } = createEditHistory(7);
      const compactedSeq = await store.appendUpdates(docId, updates.slice(0, 4));
      const snapshot = Y.encodeStateAsUpdate(docFromUpdates(updates.slice(0, 4)));
      await store.compact(docId, { snapshot, stateVector: Y.encodeStateVectorFromUpdate(snapshot), throughSeq: compactedSeq });
      const lastSeq = await store.appendUpdates(docId, updates.slice(4));
      expect(lastSeq).toBeGreaterThanOrEqual(compactedSeq + 3);
      const stored = await store.load(docId);
      expect(byteArrays(stored.updates)).toEqual(byteArrays(updates.slice(4)));
      expect(stored.lastSeq).toBe(lastSeq);
      expect(stored.logBytes).toBe(sumBytes(updates.slice(4)));
      expect(rebuildState(stored)).toEqual(Y.encodeStateAsUpdate(doc));
    });

    it('[S6] appends issued in the same tick all resolve and load in issue order', async () => {
      const docIds = [testDocId('left'), testDocId('right')];
      const histories = docIds.map((docId) => createEditHistory(30, docId));
      // Interleave the two docs and cycle batch sizes 1, 2, 3 (6 per cycle, so 30 splits exactly).
      const appends: { docId: DocId; batch: Uint8Array[] }[] = [];
      for (let start = 0, size = 1; start < 30; start += size, size = (size % 3) + 1) {
        for (const [which, docId] of docIds.entries()) {
          appends.push({ docId, batch: at(histories, which).updates.slice(start, start + size) });
        }
      }
      // Issued without awaiting in between, so every append is pending in the same tick.
      const seqs = await Promise.all(appends.map(({ docId, batch }) => store.appendUpdates(docId, batch)));
      for (const [which, docId] of docIds.entries()) {
        const mine = appends
          .map((append, index) => ({ ...append, seq: at(seqs, index) }))
          .filter((append) => append.docId === docId);
        for (let index = 1; index < mine.length; index++) {
          expect(at(mine, index).seq).toBeGreaterThanOrEqual(at(mine, index - 1).seq + at(mine, index).batch.length);
        }
        const stored = await store.load(docId);
        expect(byteArrays(stored.updates)).toEqual(byteArrays(at(histories, which).updates));
        expect(stored.lastSeq).toBe(at(mine, mine.length - 1).seq);
        expect(rebuildState(stored)).toEqual(Y.encodeStateAsUpdate(at(histories, which).doc));
      }
    });

    it('[S7] a closed store rejects load, appendUpdates and compact with StorageError', async () => {
      const docId = testDocId('doc');
      const { doc, updates } = createEditHistory(1);
      const seq = await store.appendUpdates(docId, updates);
      await store.close();
      await expect(store.load(docId)).rejects.toBeInstanceOf(StorageError);
      await expect(store.appendUpdates(docId, updates)).rejects.toBeInstanceOf(StorageError);
      const compaction = store.compact(docId, { snapshot: Y.encodeStateAsUpdate(doc), stateVector: Y.encodeStateVectorFromUpdate(Y.encodeStateAsUpdate(doc)), throughSeq: seq });
      await expect(compaction).rejects.toBeInstanceOf(StorageError);
    });

    it('[S11] link resets are recorded per document and leave the updates alone', async () => {
      const docId = testDocId('doc');
      const other = testDocId('doc-other');
      const { updates } = createEditHistory(3);
      await store.appendUpdates(docId, updates);
      expect(await store.loadLinksResetAt(docId)).toBe(0);
      await store.resetLinks(docId, 1_700_000_000_123);
      expect(await store.loadLinksResetAt(docId)).toBe(1_700_000_000_123);
      expect(await store.loadLinksResetAt(other)).toBe(0);
      const loaded = await store.load(docId);
      expect(loaded.linksResetAt).toBe(1_700_000_000_123);
      expect(byteArrays(loaded.updates)).toEqual(byteArrays(updates));
      expect((await store.load(other)).linksResetAt).toBe(0);
      await store.resetLinks(docId, 1_700_000_000_999);
      expect(await store.loadLinksResetAt(docId)).toBe(1_700_000_000_999);
    });

    it('[S12] a reset never moves the reset time back, and concurrent resets keep the latest', async () => {
      const docId = testDocId('doc');
      expect(await store.resetLinks(docId, 2_000)).toBe(2_000);
      expect(await store.resetLinks(docId, 1_000)).toBe(2_000);
      expect(await store.loadLinksResetAt(docId)).toBe(2_000);
      const times = [5_000, 9_000, 3_000, 7_000, 8_999, 4_000];
      const results = await Promise.all(times.map((at) => store.resetLinks(docId, at)));
      expect(await store.loadLinksResetAt(docId)).toBe(9_000);
      // Each call reports what was stored once it ran: never less than what it asked for.
      results.forEach((stored, index) => expect(stored).toBeGreaterThanOrEqual(times[index]!));
    });

    it('[S11] load returns the reset time, the snapshot and the later updates together', async () => {
      const docId = testDocId('doc');
      const { doc, updates } = createEditHistory(6);
      const compactedSeq = await store.appendUpdates(docId, updates.slice(0, 4));
      const snapshot = Y.encodeStateAsUpdate(docFromUpdates(updates.slice(0, 4)));
      const stateVector = Y.encodeStateVectorFromUpdate(snapshot);
      await store.compact(docId, { snapshot, stateVector, throughSeq: compactedSeq });
      const lastSeq = await store.appendUpdates(docId, updates.slice(4));
      await store.resetLinks(docId, 1_700_000_000_456);
      const loaded = await store.load(docId);
      expect(loaded.linksResetAt).toBe(1_700_000_000_456);
      expect(byteArrays(loaded.snapshot ? [loaded.snapshot] : [])).toEqual(byteArrays([snapshot]));
      expect(byteArrays(loaded.snapshotStateVector ? [loaded.snapshotStateVector] : [])).toEqual(byteArrays([stateVector]));
      expect(byteArrays(loaded.updates)).toEqual(byteArrays(updates.slice(4)));
      expect(loaded.lastSeq).toBe(lastSeq);
      expect(rebuildState(loaded)).toEqual(Y.encodeStateAsUpdate(doc));
    });

    // Only stores whose data outlives `close` are held to S8–S10.
    if (!options.isPersistent) return;

    describe('persistence', () => {
      it('[S8] data survives close and reopen, including appends still in flight at close', async () => {
        const docId = testDocId('doc');
        const { doc, updates } = createEditHistory(8);
        const compactedSeq = await store.appendUpdates(docId, updates.slice(0, 3));
        const snapshot = Y.encodeStateAsUpdate(docFromUpdates(updates.slice(0, 3)));
        await store.compact(docId, { snapshot, stateVector: Y.encodeStateVectorFromUpdate(snapshot), throughSeq: compactedSeq });
        await store.appendUpdates(docId, updates.slice(3, 6));
        const inFlight = store.appendUpdates(docId, updates.slice(6));
        // close must flush the append that is still pending.
        await store.close();
        const lastSeq = await inFlight;
        const reopened = await openStore();
        const after = await reopened.load(docId);
        expect(byteArrays(after.snapshot ? [after.snapshot] : [])).toEqual(byteArrays([snapshot]));
        expect(byteArrays(after.updates)).toEqual(byteArrays(updates.slice(3)));
        expect(after.lastSeq).toBe(lastSeq);
        expect(after.logBytes).toBe(sumBytes(updates.slice(3)));
        expect(rebuildState(after)).toEqual(Y.encodeStateAsUpdate(doc));
      });

      it('[S11] a link reset survives reopen', async () => {
        const docId = testDocId('doc');
        await store.resetLinks(docId, 1_800_000_000_000);
        await store.close();
        const reopened = await openStore();
        expect(await reopened.loadLinksResetAt(docId)).toBe(1_800_000_000_000);
        expect((await reopened.load(docId)).linksResetAt).toBe(1_800_000_000_000);
      });

      it('[S9] sequence numbers keep increasing after reopen', async () => {
        const docId = testDocId('doc');
        const { doc, updates } = createEditHistory(4);
        const seqBeforeClose = await store.appendUpdates(docId, updates.slice(0, 2));
        await store.close();
        const reopened = await openStore();
        const seqAfterReopen = await reopened.appendUpdates(docId, updates.slice(2));
        expect(seqAfterReopen).toBeGreaterThanOrEqual(seqBeforeClose + 2);
        const stored = await reopened.load(docId);
        expect(byteArrays(stored.updates)).toEqual(byteArrays(updates));
        expect(stored.lastSeq).toBe(seqAfterReopen);
        expect(rebuildState(stored)).toEqual(Y.encodeStateAsUpdate(doc));
      });

      it.runIf(options.isExclusive ?? true)('[S10] opening a second store on the same location while one is open rejects with StorageError', async () => {
        await expect(harness.open()).rejects.toBeInstanceOf(StorageError);
        await store.close();
        const reopened = await openStore();
        expect(await reopened.load(testDocId('doc'))).toEqual({ linksResetAt: 0, snapshot: null, snapshotStateVector: null, updates: [], lastSeq: 0, logBytes: 0 });
      });
    });
  });
}

interface EditHistory {
  /** The doc after every edit. */
  readonly doc: Y.Doc;
  /** One Yjs update per edit, in order. */
  readonly updates: Uint8Array[];
}

/** Makes `count` edits (inserts, formatting, map writes, deletions) on a fresh doc and records each update. */
function createEditHistory(count: number, label = 'doc'): EditHistory {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const text = doc.getText('body');
  for (let index = 0; index < count; index++) {
    switch (index % 4) {
      case 0:
        text.insert(text.length, `${label} paragraph ${index}. `);
        break;
      case 1:
        text.insert(Math.floor(text.length / 2), 'ünïcødé ✍️ ', { bold: true });
        break;
      case 2:
        doc.getMap('meta').set(`key-${index}`, { label, index, tags: ['x', index] });
        break;
      default:
        text.delete(1, Math.min(3, text.length - 1));
    }
  }
  return { doc, updates };
}

function docFromUpdates(updates: readonly Uint8Array[]): Y.Doc {
  const doc = new Y.Doc();
  for (const update of updates) Y.applyUpdate(doc, update);
  return doc;
}

/** Rebuilds the doc the way a room does (snapshot, then the logged updates) and encodes its full state. */
function rebuildState(stored: StoredDoc): Uint8Array {
  return Y.encodeStateAsUpdate(docFromUpdates(stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates));
}


function sumBytes(updates: readonly Uint8Array[]): number {
  return updates.reduce((sum, update) => sum + update.byteLength, 0);
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`no item at index ${index}`);
  return item;
}

function historyOf(histories: ReadonlyMap<DocId, EditHistory>, docId: DocId): EditHistory {
  const history = histories.get(docId);
  if (!history) throw new Error(`no history for ${docId}`);
  return history;
}
