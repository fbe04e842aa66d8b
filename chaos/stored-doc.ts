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
        // Read from the bytes before applying them: a part still waiting for a dependency is
        // stored all the same, and a document that fails to apply still has its bytes on disk
        // (that failure is reported as `loadError`, not as missing changes).
        stateVector = storedClocks(parts);
        Y.transact(doc, () => {
          for (const part of parts) Y.applyUpdate(doc, part);
        });
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

/**
 * Per client, how far from clock 0 the stored structs reach without a gap: the
 * state vector of what is on disk, whether or not it integrates.
 */
function storedClocks(parts: readonly Uint8Array[]): Map<number, number> {
  const ranges = new Map<number, [number, number][]>();
  for (const part of parts) {
    for (const struct of Y.decodeUpdate(part).structs) {
      if (struct instanceof Y.Skip) continue;
      const list = ranges.get(struct.id.client) ?? [];
      list.push([struct.id.clock, struct.id.clock + struct.length]);
      ranges.set(struct.id.client, list);
    }
  }
  const clocks = new Map<number, number>();
  for (const [client, list] of ranges) {
    let reach = 0;
    for (const [start, end] of list.sort((a, b) => a[0] - b[0])) {
      if (start > reach) break;
      reach = Math.max(reach, end);
    }
    if (reach > 0) clocks.set(client, reach);
  }
  return clocks;
}
