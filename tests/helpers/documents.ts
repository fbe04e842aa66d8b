/** Small documents and ids for tests: real Yjs updates, no relay involved. */
import * as Y from 'yjs';

import { parseDocId, type DocId } from '../../lib/ids';

/** A doc id for a name the test chose; throws if the name is not a valid id. */
export function testDocId(name: string): DocId {
  const docId = parseDocId(name);
  if (!docId) throw new Error(`invalid doc id in test: ${name}`);
  return docId;
}

/** A fresh document whose text `t` gets each of `pieces` appended, one update per piece. */
export function appendedText(pieces: readonly string[]): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const text = doc.getText('t');
  for (const piece of pieces) text.insert(text.length, piece);
  return { doc, updates };
}

/** Plain byte arrays, so comparisons ignore whether a store hands back Buffers or views. */
export function byteArrays(updates: readonly Uint8Array[]): number[][] {
  return updates.map((update) => [...update]);
}

/**
 * An update that decodes as a valid Yjs update but makes Yjs throw halfway through
 * integrating it, even into an empty document (found by the chaos fuzz, `npm run chaos`).
 */
export const UPDATE_THAT_BREAKS_OFF = Uint8Array.from(Buffer.from('0101c14494c10800080161017900', 'hex'));
