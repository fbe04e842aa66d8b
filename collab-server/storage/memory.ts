/** An in-memory `DocStore` for unit tests and contract tests. Same semantics as LevelDB, no disk. */
import type { DocId } from '../../lib/ids';
import { EMPTY_STORED_DOC, StorageError, type DocStore, type StoredDoc } from './doc-store';

interface MemoryDoc {
  snapshot: { update: Uint8Array; stateVector: Uint8Array } | null;
  log: { seq: number; update: Uint8Array }[];
  lastSeq: number;
}

/** Creates an empty in-memory store. */
export function createMemoryStore(): DocStore {
  const docs = new Map<DocId, MemoryDoc>();
  const linksResetAt = new Map<DocId, number>();
  let isClosed = false;

  const assertOpen = (): void => {
    if (isClosed) throw new StorageError('store is closed');
  };

  return {
    async load(docId) {
      assertOpen();
      const doc = docs.get(docId);
      const resetAt = linksResetAt.get(docId) ?? 0;
      if (!doc) return { ...EMPTY_STORED_DOC, linksResetAt: resetAt };
      const updates = doc.log.map((entry) => entry.update);
      return {
        linksResetAt: resetAt,
        snapshot: doc.snapshot?.update ?? null,
        snapshotStateVector: doc.snapshot?.stateVector ?? null,
        updates,
        lastSeq: doc.lastSeq,
        logBytes: updates.reduce((sum, update) => sum + update.byteLength, 0),
      } satisfies StoredDoc;
    },
    async appendUpdates(docId, updates) {
      assertOpen();
      let doc = docs.get(docId);
      if (!doc) {
        doc = { snapshot: null, log: [], lastSeq: 0 };
        docs.set(docId, doc);
      }
      for (const update of updates) {
        doc.lastSeq += 1;
        doc.log.push({ seq: doc.lastSeq, update: update.slice() });
      }
      return doc.lastSeq;
    },
    async compact(docId, { snapshot, stateVector, throughSeq }) {
      assertOpen();
      let doc = docs.get(docId);
      if (!doc) {
        doc = { snapshot: null, log: [], lastSeq: throughSeq };
        docs.set(docId, doc);
      }
      doc.snapshot = { update: snapshot.slice(), stateVector: stateVector.slice() };
      doc.log = doc.log.filter((entry) => entry.seq > throughSeq);
    },
    async loadLinksResetAt(docId) {
      assertOpen();
      return linksResetAt.get(docId) ?? 0;
    },
    async resetLinks(docId, at) {
      assertOpen();
      const stored = Math.max(linksResetAt.get(docId) ?? 0, at);
      linksResetAt.set(docId, stored);
      return stored;
    },
    async close() {
      isClosed = true;
    },
  };
}
