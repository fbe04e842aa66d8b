/** Bad input and misbehaving peers: each is cut off alone, nothing of theirs is kept. */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';

import type { Relay } from '../../collab-server/server';
import { CLOSE_CODES, encode } from '../../lib/protocol';
import {
  Teardown,
  connectClient,
  makeTempDir,
  openRawSocket,
  socketUrl,
  openConnections,
  startRelay,
  upgradeStatus,
  waitForSaved,
  waitForSync,
  waitUntil,
  type TestClient,
} from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

const MAX_MESSAGE_BYTES = 64 * 1024;

async function startRoomWithPeers(docId: string) {
  const dataDir = await makeTempDir(teardown);
  const relay = await startRelay(teardown, { dataDir, maxMessageBytes: MAX_MESSAGE_BYTES });
  const alice = connectClient(teardown, relay, docId, { savedAcks: true });
  const bob = connectClient(teardown, relay, docId);
  await Promise.all([waitForSync(alice), waitForSync(bob)]);
  alice.text.insert(0, 'before');
  await waitForSaved(alice);
  return { relay, dataDir, alice, bob };
}

async function connectionCount(relay: Relay): Promise<number> {
  return openConnections(relay);
}

/** Proves the room still works for the good peers after a bad one was cut off. */
async function expectRoomStillWorks(alice: TestClient, bob: TestClient): Promise<void> {
  bob.text.insert(bob.text.length, ' after');
  await waitUntil(() => alice.text.toString() === 'before after', { what: 'room still live' });
  expect(alice.provider.wsconnected && bob.provider.wsconnected).toBe(true);
}

describe('relay limits and bad input', () => {
  it.each([
    ['a path with a slash', '/a/b'],
    ['a path with a dot segment', '/..'],
    ['an id with a space', '/has%20space'],
    ['an id of 129 characters', `/${'x'.repeat(129)}`],
    ['an empty id', '/'],
  ])('refuses %s at the upgrade with 400', async (_name, path) => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    expect(await upgradeStatus(`${relay.url}${path}?token=${relay.tokenFor('valid')}`)).toBe(400);
  });

  it('accepts an id of 128 characters', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const client = connectClient(teardown, relay, 'A_b-9'.repeat(25).slice(0, 128));
    await waitForSync(client);
  });

  it('closes a malformed frame with 1002 and keeps nothing of it', async () => {
    const { relay, dataDir, alice, bob } = await startRoomWithPeers('malformed');
    const raw = await openRawSocket(teardown, socketUrl(relay, 'malformed'));
    // A real update cut short: the frame is well formed, its Yjs payload is not.
    const source = new Y.Doc();
    source.getText('t').insert(0, 'EVIL');
    const update = Y.encodeStateAsUpdate(source);
    raw.send(encode({ type: 'update', update: update.slice(0, update.length - 3) }));
    const { code } = await raw.closed;
    expect(code).toBe(CLOSE_CODES.protocolError);
    await expectRoomStillWorks(alice, bob);

    // A truncated frame.
    const raw2 = await openRawSocket(teardown, socketUrl(relay, 'malformed'));
    raw2.send(encode({ type: 'update', update }).slice(0, 4));
    expect((await raw2.closed).code).toBe(CLOSE_CODES.protocolError);

    await waitForSaved(alice);
    await relay.close();
    const restarted = await startRelay(teardown, { dataDir });
    const reader = connectClient(teardown, restarted, 'malformed');
    await waitForSync(reader);
    expect(reader.text.toString()).toBe('before after');
  });

  it('closes unknown message types and text frames with 1003', async () => {
    const { relay, alice, bob } = await startRoomWithPeers('unknown');
    const raw = await openRawSocket(teardown, socketUrl(relay, 'unknown'));
    raw.send(new Uint8Array([42, 1, 2]));
    expect((await raw.closed).code).toBe(CLOSE_CODES.unsupportedData);
    const text = await openRawSocket(teardown, socketUrl(relay, 'unknown'));
    text.send('hello');
    expect((await text.closed).code).toBe(CLOSE_CODES.unsupportedData);
    const saved = await openRawSocket(teardown, socketUrl(relay, 'unknown'));
    saved.send(encode({ type: 'saved', stateVector: Y.encodeStateVector(new Y.Doc()), changeFramesSaved: 0 }));
    expect((await saved.closed).code).toBe(CLOSE_CODES.unsupportedData);
    await expectRoomStillWorks(alice, bob);
  });

  it('cuts a socket after two unanswered heartbeat pings, and keeps one that answers them', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), heartbeatIntervalMs: 100 });
    // Counted by pings, not by time: the silent socket sees each ping and answers none.
    const silent = await openRawSocket(teardown, socketUrl(relay, 'hb'), { autoPong: false });
    let unansweredPings = 0;
    silent.socket.on('ping', () => (unansweredPings += 1));
    const healthy = await openRawSocket(teardown, socketUrl(relay, 'hb'));
    let answeredPings = 0;
    healthy.socket.on('ping', () => (answeredPings += 1));

    await silent.closed;
    expect(unansweredPings).toBe(2);
    // The healthy one answers every ping (ws does by default) and outlives many more heartbeats.
    const answeredAtCut = answeredPings;
    await waitUntil(() => answeredPings >= answeredAtCut + 5, { what: 'five more heartbeats' });
    expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
    expect(await connectionCount(relay)).toBe(1);
  });

  it('disconnects a peer that stops reading instead of buffering without bound', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startRelay(teardown, { dataDir, maxBufferedBytes: 64 * 1024 });
    const writer = connectClient(teardown, relay, 'slow', { savedAcks: true });
    await waitForSync(writer);
    const slow = await openRawSocket(teardown, socketUrl(relay, 'slow'));
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    // Enough to fill the kernel's socket buffers on loopback and then the relay's cap.
    const chunk = 'y'.repeat(64 * 1024);
    for (let i = 0; i < 400 && (await connectionCount(relay)) === 2; i++) {
      writer.text.insert(writer.text.length, chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitUntil(async () => (await connectionCount(relay)) === 1, { what: 'slow peer cut', timeoutMs: 10_000 });
    const closes = await relay.metrics.closes.get();
    expect(closes.values.find((value) => value.labels.code === String(CLOSE_CODES.slowConsumer))?.value).toBe(1);
    await waitForSaved(writer, 20_000);
    expect(writer.provider.wsconnected).toBe(true);
  });
});
