/** The relay with stock y-websocket clients: sync, late joiners, awareness, load-before-serve. */
import { join } from 'node:path';
import * as awarenessProtocol from 'y-protocols/awareness';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';

import { openLevelStore } from '../../collab-server/storage/leveldb';
import { encode, encodeAwarenessUpdate } from '../../lib/protocol';
import {
  Teardown,
  connectClient,
  makeTempDir,
  openRawSocket,
  recordingLogger,
  socketUrl,
  startRelay,
  waitForSync,
  waitUntil,
} from '../helpers/relay';
import { appendedText, byteArrays, testDocId } from '../helpers/documents';

const teardown = new Teardown();
afterEach(() => teardown.run());

describe('relay sync', () => {
  it('two stock clients converge on concurrent edits', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const alice = connectClient(teardown, relay, 'doc-1');
    const bob = connectClient(teardown, relay, 'doc-1');
    await Promise.all([waitForSync(alice), waitForSync(bob)]);

    alice.text.insert(0, 'hello ');
    bob.text.insert(0, 'world ');
    bob.doc.getMap('meta').set('title', 'Greeting');
    // Bob's two changes travel as two messages: wait for both.
    await waitUntil(() => alice.text.toString() === bob.text.toString() && alice.text.length === 12 && alice.doc.getMap('meta').has('title'), {
      what: 'convergence',
    });
    expect(alice.doc.getMap('meta').get('title')).toBe('Greeting');
    expect(Y.encodeStateVector(alice.doc)).toEqual(Y.encodeStateVector(bob.doc));
  });

  it('a late joiner receives everything written before it came', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const writer = connectClient(teardown, relay, 'late');
    await waitForSync(writer);
    for (let i = 0; i < 50; i++) writer.text.insert(writer.text.length, `line ${i}\n`);

    const late = connectClient(teardown, relay, 'late');
    await waitForSync(late);
    await waitUntil(() => late.text.toString() === writer.text.toString(), { what: 'late joiner content' });
    expect(late.text.toString()).toContain('line 49');
  });

  it('keeps rooms apart', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const a = connectClient(teardown, relay, 'room-a');
    const b = connectClient(teardown, relay, 'room-b');
    await Promise.all([waitForSync(a), waitForSync(b)]);
    a.text.insert(0, 'only in a');
    const a2 = connectClient(teardown, relay, 'room-a');
    await waitUntil(() => a2.text.toString() === 'only in a');
    expect(b.text.toString()).toBe('');
  });

  it('[S16] two clients asking for a cold document at the same instant share one load and one room', async () => {
    const dataDir = await makeTempDir(teardown);
    const seed = await openLevelStore({ dir: join(dataDir, 'leveldb') });
    const stored = appendedText(['stored ', 'before restart']);
    await seed.appendUpdates(testDocId('cold'), stored.updates);
    await seed.close();

    // Every load of the document is counted and held until both upgrades have asked for it.
    const loads: string[] = [];
    let releaseLoads!: () => void;
    const loadsReleased = new Promise<void>((resolve) => (releaseLoads = resolve));
    const { logger, lines } = recordingLogger();
    const relay = await startRelay(teardown, {
      dataDir,
      logger,
      logRequestLines: true,
      wrapStore: (store) => ({
        ...store,
        async load(docId) {
          loads.push(docId);
          await loadsReleased;
          return store.load(docId);
        },
      }),
    });
    const clients = [connectClient(teardown, relay, 'cold'), connectClient(teardown, relay, 'cold')];
    // The relay logs an upgrade's request line and asks for its room in the same turn.
    const upgradesFor = (docId: string): number =>
      lines.filter((line) => line.message === 'request' && String(line.fields.url).startsWith(`/${docId}?`)).length;
    await waitUntil(() => upgradesFor('cold') === 2, { what: 'both upgrades at the relay' });
    releaseLoads();
    await Promise.all(clients.map((client) => waitForSync(client)));

    expect(loads).toEqual(['cold']);
    for (const client of clients) expect(client.text.toString()).toBe('stored before restart');
    // One room: what one client writes reaches the other through it.
    clients[0]!.text.insert(0, 'shared, ');
    await waitUntil(() => clients[1]!.text.toString() === 'shared, stored before restart', { what: 'the edit at the other client' });
  });

  it('[S14] applies, forwards and stores updates sent at once after the socket opens in the order they were sent', async () => {
    // Yjs would integrate the updates in any order (each waits for the one before), so the order
    // is checked where it shows: the frames a peer receives and the appends the store receives.
    const appended: Uint8Array[] = [];
    const relay = await startRelay(teardown, {
      dataDir: await makeTempDir(teardown),
      wrapStore: (store) => ({
        ...store,
        appendUpdates(docId, updates) {
          appended.push(...updates);
          return store.appendUpdates(docId, updates);
        },
      }),
    });
    const peer = await openRawSocket(teardown, socketUrl(relay, 'queued'));
    const raw = await openRawSocket(teardown, socketUrl(relay, 'queued'));
    const { doc: source, updates } = appendedText(Array.from({ length: 20 }, (_, i) => String(i % 10)));
    // Sent immediately after open, before the room has answered anything.
    for (const update of updates) raw.send(encode({ type: 'update', update }));

    const forwarded = (): number[][] => peer.received.flatMap((message) => (message.type === 'update' ? [[...message.update]] : []));
    await waitUntil(() => forwarded().length === updates.length, { what: 'every update at the peer' });
    expect(forwarded()).toEqual(byteArrays(updates));
    await waitUntil(() => appended.length === updates.length, { what: 'every update appended' });
    expect(byteArrays(appended)).toEqual(byteArrays(updates));
    const reader = connectClient(teardown, relay, 'queued');
    await waitForSync(reader);
    expect(reader.text.toString()).toBe(source.getText('t').toString());
  });

  it('forwards formatted rich text, whose apply runs a second clean-up transaction in Yjs', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const alice = connectClient(teardown, relay, 'formatting');
    const bob = connectClient(teardown, relay, 'formatting');
    await waitForSync(alice);
    await waitForSync(bob);
    const paragraph = new Y.XmlElement('paragraph');
    alice.doc.getXmlFragment('default').insert(0, [paragraph]);
    const text = new Y.XmlText();
    paragraph.insert(0, [text]);
    text.insert(0, 'Hello from Alice. ');
    text.insert(18, 'Bold', { bold: true });
    text.insert(22, ' words', { bold: null });
    const expected = alice.doc.getXmlFragment('default').toString();
    await waitUntil(async () => bob.doc.getXmlFragment('default').toString() === expected, { what: 'formatted text at Bob' });
    expect(expected).toContain('<bold>Bold</bold>');
  });

  it('forwards a step 2 to peers as an update, and an update as it was sent', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const sender = await openRawSocket(teardown, socketUrl(relay, 'forwarding'));
    const peer = await openRawSocket(teardown, socketUrl(relay, 'forwarding'));
    const [stepTwo, update] = appendedText(['step two', ', then an update']).updates as [Uint8Array, Uint8Array];
    sender.send(encode({ type: 'sync-step-2', update: stepTwo }));
    sender.send(encode({ type: 'update', update }));
    await waitUntil(() => peer.received.filter((message) => message.type === 'update').length === 2, { what: 'two updates' });
    expect(peer.received.filter((message) => message.type === 'sync-step-2')).toEqual([]);
    expect(peer.received.flatMap((message) => (message.type === 'update' ? [[...message.update]] : []))).toEqual([[...stepTwo], [...update]]);
  });

  it('forwards and stores an update that arrives before the one it depends on', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startRelay(teardown, { dataDir });
    const [first, second] = appendedText(['first ', 'second']).updates as [Uint8Array, Uint8Array];
    const reader = connectClient(teardown, relay, 'out-of-order');
    await waitForSync(reader);
    const sender = await openRawSocket(teardown, socketUrl(relay, 'out-of-order'));
    // The second update cannot be integrated yet: the relay still has to log and forward it.
    sender.send(encode({ type: 'update', update: second }));
    sender.send(encode({ type: 'update', update: first }));
    await waitUntil(async () => reader.text.toString() === 'first second', { what: 'both updates at the reader' });
    await relay.close();

    const restarted = await startRelay(teardown, { dataDir });
    const late = connectClient(teardown, restarted, 'out-of-order');
    await waitForSync(late);
    expect(late.text.toString()).toBe('first second');
  });
});

describe('relay awareness', () => {
  it('[P7] broadcasts awareness to peers and removes a dropped peer\'s state at once, not at the next heartbeat', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const alice = connectClient(teardown, relay, 'aw');
    const bob = connectClient(teardown, relay, 'aw');
    await Promise.all([waitForSync(alice), waitForSync(bob)]);

    alice.provider.awareness.setLocalStateField('user', { name: 'Alice', color: '#ff0000' });
    await waitUntil(() => bob.provider.awareness.getStates().get(alice.doc.clientID)?.user?.name === 'Alice', {
      what: 'awareness at bob',
    });

    // Drop the socket without the client's own goodbye, so only the relay can announce the removal.
    alice.provider.awareness.setLocalState({ user: { name: 'Alice', color: '#ff0000' } });
    (alice.provider.ws as unknown as { terminate(): void } | null)?.terminate();
    alice.provider.shouldConnect = false;
    // The heartbeat is a minute (startRelay): only the relay's reaction to the close can remove it in time.
    await waitUntil(() => !bob.provider.awareness.getStates().has(alice.doc.clientID), { what: 'awareness removal' });
  });

  it('answers query-awareness with every known state, and a late joiner sees present peers', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const alice = connectClient(teardown, relay, 'aw-late');
    await waitForSync(alice);
    alice.provider.awareness.setLocalStateField('user', { name: 'Alice', color: '#ff0000' });
    const observer = connectClient(teardown, relay, 'aw-late');
    await waitUntil(() => observer.provider.awareness.getStates().get(alice.doc.clientID)?.user?.name === 'Alice');

    const raw = await openRawSocket(teardown, socketUrl(relay, 'aw-late'));
    await waitUntil(() => raw.received.some((message) => message.type === 'awareness'), { what: 'initial awareness' });
    raw.received.length = 0;
    raw.send(encode({ type: 'query-awareness' }));
    await waitUntil(() => raw.received.some((message) => message.type === 'awareness'), { what: 'query reply' });
    const reply = raw.received.find((message) => message.type === 'awareness');
    const probe = new awarenessProtocol.Awareness(new Y.Doc());
    if (reply?.type !== 'awareness') throw new Error('no awareness reply');
    awarenessProtocol.applyAwarenessUpdate(probe, reply.update, 'test');
    expect(probe.getStates().get(alice.doc.clientID)).toMatchObject({ user: { name: 'Alice' } });
    probe.destroy();
  });

  it('drops awareness that tries to set or remove another connection’s client id', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const alice = connectClient(teardown, relay, 'spoof');
    const bob = connectClient(teardown, relay, 'spoof');
    await Promise.all([waitForSync(alice), waitForSync(bob)]);
    alice.provider.awareness.setLocalStateField('user', { name: 'Alice', color: '#ff0000' });
    await waitUntil(() => bob.provider.awareness.getStates().has(alice.doc.clientID));

    const mallory = await openRawSocket(teardown, socketUrl(relay, 'spoof'));
    const aliceClock = alice.provider.awareness.meta.get(alice.doc.clientID)?.clock ?? 0;
    mallory.send(
      encode({
        type: 'awareness',
        update: encodeAwarenessUpdate([
          { clientId: alice.doc.clientID, clock: aliceClock + 10, state: { user: { name: 'Mallory as Alice', color: '#000000' } } },
        ]),
      }),
    );
    mallory.send(
      encode({
        type: 'awareness',
        update: encodeAwarenessUpdate([{ clientId: alice.doc.clientID, clock: aliceClock + 11, state: null }]),
      }),
    );
    // Mallory's own id is accepted: once it reaches bob, the spoofed frames before it were processed.
    mallory.send(
      encode({ type: 'awareness', update: encodeAwarenessUpdate([{ clientId: 4242, clock: 1, state: { user: { name: 'Mallory', color: '#000000' } } }]) }),
    );
    await waitUntil(() => bob.provider.awareness.getStates().get(4242)?.user?.name === 'Mallory', { what: 'mallory' });
    expect(bob.provider.awareness.getStates().get(alice.doc.clientID)).toMatchObject({ user: { name: 'Alice' } });
    expect(await relay.metrics.awarenessDropped.get()).toMatchObject({ values: [{ value: 2 }] });
  });
});
