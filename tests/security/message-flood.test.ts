/**
 * Attack: one connection floods the relay — frames in a tight loop, sync step 1
 * over and over on a large document (each answer is the whole document),
 * query-awareness over and over. Rules (SPEC P15): each connection has a budget
 * of frames and bytes per second with bursts, sync step 1 and query-awareness
 * have small budgets of their own; over budget, the connection is closed with
 * 1008 and a reason. The room's other peers, and other rooms, go on.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';

import { openLevelStore } from '../../collab-server/storage/leveldb';
import { CLOSE_CODES, encode } from '../../lib/protocol';
import { appendedText, testDocId } from '../helpers/documents';
import { Teardown, connectPeerPair, makeTempDir, openRawSocket, socketUrl, startRelay } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

describe('[P15] per-connection budgets', () => {
  it('lets a burst of a thousand frames through, then closes a connection that keeps flooding', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const sameRoom = await connectPeerPair(teardown, relay, 'flooded');
    const otherRoom = await connectPeerPair(teardown, relay, 'elsewhere');
    const flooder = await openRawSocket(teardown, socketUrl(relay, 'flooded'));
    const { updates } = appendedText(Array.from({ length: 5_000 }, (_, i) => `${i % 10}`));
    let sent = 0;
    for (const update of updates) {
      if (flooder.socket.readyState !== flooder.socket.OPEN) break;
      flooder.send(encode({ type: 'update', update }));
      sent += 1;
      // Let the relay read as the flood goes, so the close can come back.
      if (sent % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const closed = await flooder.closed;
    expect(closed).toEqual({ code: CLOSE_CODES.policyViolation, reason: 'over budget: more than 200 messages a second' });
    expect(sent).toBeGreaterThanOrEqual(1_000);
    await sameRoom.expectLive(' after the flood');
    await otherRoom.expectLive(' unaffected');
  });

  it('answers sync step 1 three times, then closes a connection that keeps asking', async () => {
    const dataDir = await makeTempDir(teardown);
    const seed = await openLevelStore({ dir: join(dataDir, 'leveldb') });
    await seed.appendUpdates(testDocId('large'), appendedText(['x'.repeat(2_000_000)]).updates);
    await seed.close();
    const relay = await startRelay(teardown, { dataDir });
    const room = await connectPeerPair(teardown, relay, 'large');
    const asker = await openRawSocket(teardown, socketUrl(relay, 'large'));
    const emptyStateVector = Y.encodeStateVector(new Y.Doc());
    for (let i = 0; i < 50 && asker.socket.readyState === asker.socket.OPEN; i++) {
      asker.send(encode({ type: 'sync-step-1', stateVector: emptyStateVector }));
    }
    const closed = await asker.closed;
    expect(closed).toEqual({ code: CLOSE_CODES.policyViolation, reason: 'over budget: too many sync-step-1 requests' });
    expect(asker.received.filter((message) => message.type === 'sync-step-2').length).toBeLessThanOrEqual(3);
    await room.expectLive(' still');
  });

  it('closes a connection that floods query-awareness', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const room = await connectPeerPair(teardown, relay, 'queried');
    const asker = await openRawSocket(teardown, socketUrl(relay, 'queried', 'viewer'));
    for (let i = 0; i < 50 && asker.socket.readyState === asker.socket.OPEN; i++) asker.send(encode({ type: 'query-awareness' }));
    expect(await asker.closed).toEqual({ code: CLOSE_CODES.policyViolation, reason: 'over budget: too many query-awareness requests' });
    await room.expectLive(' still');
  });

  it('closes a connection whose updates depend on updates it never sends, and drops what waits', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const room = await connectPeerPair(teardown, relay, 'orphans');
    const sender = await openRawSocket(teardown, socketUrl(relay, 'orphans'));
    // Each update builds on the one before; the first is never sent, so none of the rest can integrate.
    const { updates } = appendedText(Array.from({ length: 400 }, () => 'z'.repeat(500)));
    for (const update of updates.slice(1)) {
      if (sender.socket.readyState !== sender.socket.OPEN) break;
      sender.send(encode({ type: 'update', update }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const closed = await sender.closed;
    expect(closed.code).toBe(CLOSE_CODES.policyViolation);
    expect(closed.reason).toMatch(/^updates whose dependencies never arrived/);
    await room.expectLive(' still');
  });

  it('closes a connection that sends more bytes a second than its budget', async () => {
    const relay = await startRelay(teardown, {
      dataDir: await makeTempDir(teardown),
      maxMessageBytes: 64 * 1024,
      rateByteBurst: 256 * 1024,
      rateBytesPerSecond: 64 * 1024,
    });
    const room = await connectPeerPair(teardown, relay, 'bytes');
    const flooder = await openRawSocket(teardown, socketUrl(relay, 'bytes'));
    const { updates } = appendedText(Array.from({ length: 40 }, () => 'y'.repeat(30_000)));
    for (const update of updates) {
      if (flooder.socket.readyState !== flooder.socket.OPEN) break;
      flooder.send(encode({ type: 'update', update }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await flooder.closed).toEqual({ code: CLOSE_CODES.policyViolation, reason: 'over budget: more than 65536 bytes a second' });
    await room.expectLive(' still');
  });
});
