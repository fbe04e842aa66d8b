/**
 * Attack: fill a document (and the disk under it) without end; and the other
 * side of size: a document larger than a client's send buffer cap must still
 * reach a client that joins it. Rules (SPEC P13, P14): an update that would take
 * the stored document past COLLAB_MAX_DOC_BYTES is refused with
 * `document-too-large`, and nothing of it is applied, stored, forwarded or
 * acknowledged; a sync reply may exceed COLLAB_MAX_BUFFERED_BYTES while it drains.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import * as Y from 'yjs';

import { openLevelStore } from '../../collab-server/storage/leveldb';
import { CLOSE_CODES, encode } from '../../lib/protocol';
import { appendedText, testDocId } from '../helpers/documents';
import { setReading } from '../helpers/raw-frames';
import { Teardown, connectClient, makeTempDir, openRawSocket, socketUrl, startRelay, waitForSaved, waitForSync, waitUntil } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

describe('[P13] document size limit', () => {
  it('refuses an update past the limit with a reason, and keeps nothing of it', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startRelay(teardown, { dataDir, maxDocBytes: 64 * 1024 });
    const writer = connectClient(teardown, relay, 'full', { savedAcks: true });
    const reader = connectClient(teardown, relay, 'full');
    await Promise.all([waitForSync(writer), waitForSync(reader)]);
    writer.text.insert(0, 'a'.repeat(40 * 1024));
    await waitForSaved(writer);

    const filler = await openRawSocket(teardown, socketUrl(relay, 'full'));
    const { doc: big } = appendedText(['b'.repeat(40 * 1024)]);
    filler.send(encode({ type: 'update', update: Y.encodeStateAsUpdate(big) }));
    await waitUntil(() => filler.received.some((message) => message.type === 'permission-denied'), { what: 'the refusal' });
    const denial = filler.received.find((message) => message.type === 'permission-denied');
    expect(denial).toMatchObject({ reason: expect.stringMatching(/^document-too-large: This document has reached its size limit/) });
    // The connection stays open: small edits by others still fit, and still flow.
    writer.text.insert(0, 'ok ');
    await waitUntil(() => reader.text.toString().startsWith('ok '), { what: 'later edits flow' });
    expect(reader.text.toString()).not.toContain('b');
    await waitForSaved(writer);

    await relay.close();
    const store = await openLevelStore({ dir: join(dataDir, 'leveldb') });
    const stored = await store.load(testDocId('full'));
    await store.close();
    const reloaded = new Y.Doc();
    for (const update of [stored.snapshot, ...stored.updates]) if (update) Y.applyUpdate(reloaded, update);
    expect(reloaded.getText('t').toString()).toBe(`ok ${'a'.repeat(40 * 1024)}`);
  });
});

describe('[P14] large documents reach the clients that join them', () => {
  it('sends a 20 MB document to a new client in full, though it is over the send buffer cap', async () => {
    const dataDir = await makeTempDir(teardown);
    // Written straight to the store, as if by many sessions over time.
    const seed = await openLevelStore({ dir: join(dataDir, 'leveldb') });
    const chunk = 'abcdefghij'.repeat(200_000);
    const { doc: source, updates } = appendedText([chunk, chunk, chunk, chunk, chunk, chunk, chunk, chunk, chunk, chunk]);
    await seed.appendUpdates(testDocId('huge'), updates);
    await seed.close();
    const expectedLength = source.getText('t').length;
    expect(Y.encodeStateAsUpdate(source).byteLength).toBeGreaterThan(20_000_000);

    // A cap far below the document, so that even what loopback's kernel buffers absorb leaves the reply over it.
    const relay = await startRelay(teardown, { dataDir, maxBufferedBytes: 2 * 1024 * 1024 });
    const editor = connectClient(teardown, relay, 'huge');
    await waitForSync(editor);
    // The newcomer reads nothing from the moment it connects while its sync reply is queued, and meanwhile someone edits.
    const newcomer = connectClient(teardown, relay, 'huge');
    const socket = newcomer.provider.ws as unknown as WebSocket;
    let disconnects = 0;
    newcomer.provider.on('connection-close', () => (disconnects += 1));
    socket.addEventListener('open', () => setReading(socket, false));
    // Two whole-document replies so far: the editor's, then the newcomer's, queued unread.
    await waitUntil(() => relay.metrics.traffic.bytesOut > 40_000_000, { what: 'the sync reply is queued', timeoutMs: 15_000 });
    editor.text.insert(0, 'edited while the newcomer syncs ');
    setReading(socket, true);
    await waitUntil(() => newcomer.text.length === expectedLength + 32, { what: 'the whole document and the edit', timeoutMs: 30_000 });
    // On the socket it started with: a client that was cut off and came back would also get there.
    expect(disconnects).toBe(0);
    expect(newcomer.provider.ws).toBe(socket);
    const closes = await relay.metrics.closes.get();
    expect(closes.values.filter((value) => value.labels.code === String(CLOSE_CODES.slowConsumer))).toEqual([]);
  }, 60_000);
});
