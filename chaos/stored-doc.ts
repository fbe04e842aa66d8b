/**
 * Reads documents straight from a stopped relay's LevelDB, through the relay's
 * own store: what is on disk, before any client can send anything again. This is
 * what makes the kill loop able to catch a relay that acknowledges before it
 * writes: once writers reconnect they would resend what was lost, and the loss
 * would heal before any client could see it.
 */
import { join } from 'node:path';
import * as Y from 'yjs';

import { openLevelStore } from '../collab-server/storage/leveldb';
import { parseDocId } from '../lib/ids';

/** One stored document, as a fresh load would build it. */
export interface StoredText {
  readonly text: string;
  /**
   * What is on disk, client id → clock, read from the stored updates themselves:
   * parts that wait for a dependency count too (they are stored), unlike in the
   * state vector of a document they were applied to.
   */
  readonly stateVector: ReadonlyMap<number, number>;
  /** True when some stored update waits for a dependency that was never stored. */
  readonly hasMissingDependencies: boolean;
  /** Why the stored state, applied in order as the relay loads it, could not be applied to a fresh document; null when it could. */
  readonly loadError: string | null;
}

/** Loads `docIds` from the LevelDB of the relay data dir `dataDir`; the relay must not be running. */
export async function readStoredTexts(dataDir: string, docIds: readonly string[]): Promise<Map<string, StoredText>> {
  const store = await openLevelStore({ dir: join(dataDir, 'leveldb') });
  try {
    const texts = new Map<string, StoredText>();
    for (const id of docIds) {
      const docId = parseDocId(id);
      if (!docId) throw new Error(`not a doc id: ${id}`);
      const stored = await store.load(docId);
      const doc = new Y.Doc();
      let stateVector = new Map<number, number>();
      let loadError: string | null = null;
      // Applied in order, as the relay loads a room (room.ts). One that cannot be applied is a
      // finding about the document, not a reason to stop reading.
      try {
        const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : [...stored.updates];
        Y.transact(doc, () => {
          for (const part of parts) Y.applyUpdate(doc, part);
        });
        // On disk is what the document holds plus any part still waiting for a dependency.
        stateVector = Y.decodeStateVector(Y.encodeStateVector(doc));
        for (const part of parts) {
          for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVectorFromUpdate(part))) {
            stateVector.set(client, Math.max(stateVector.get(client) ?? 0, clock));
          }
        }
      } catch (error) {
        loadError = error instanceof Error ? error.message : String(error);
      }
      texts.set(id, {
        text: doc.getText('t').toString(),
        stateVector,
        hasMissingDependencies: doc.store.pendingStructs !== null || doc.store.pendingDs !== null,
        loadError,
      });
      doc.destroy();
    }
    return texts;
  } finally {
    await store.close();
  }
}
