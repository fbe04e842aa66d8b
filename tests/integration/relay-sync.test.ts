/** The relay with stock y-websocket clients: sync, late joiners, awareness, load-before-serve. */
import * as awarenessProtocol from 'y-protocols/awareness';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';

import { encode, encodeAwarenessUpdate } from '../../lib/protocol';
import {
  Teardown,
  connectClient,
  makeTempDir,
  openRawSocket,
  socketUrl,
  startRelay,
  waitForSaved,
  waitForSync,
  waitUntil,
} from '../helpers/relay';
import { appendedText } from '../helpers/documents';

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

  it('two clients connecting at the same instant to a cold document both get the stored content', async () => {
    const dataDir = await makeTempDir(teardown);
    const first = await startRelay(teardown, { dataDir });
    const writer = connectClient(teardown, first, 'cold', { savedAcks: true });
    await waitForSync(writer);
    writer.text.insert(0, 'stored before restart');
    await waitForSaved(writer);
    writer.provider.destroy();
    await first.close();

    const second = await startRelay(teardown, { dataDir });
    const clients = [connectClient(teardown, second, 'cold'), connectClient(teardown, second, 'cold')];
    await Promise.all(clients.map(waitForSync));
    for (const client of clients) expect(client.text.toString()).toBe('stored before restart');
    // The document was loaded once: its content is not doubled by two loads.
    await waitUntil(() => clients[0]!.text.toString() === clients[1]!.text.toString());
    expect(clients[0]!.text.toString()).toBe('stored before restart');
  });

  it('applies updates sent at once after the socket opens, in order', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const raw = await openRawSocket(teardown, socketUrl(relay, 'queued'));
    const { doc: source, updates } = appendedText(Array.from({ length: 20 }, (_, i) => String(i % 10)));
    // Sent immediately after open, before the room has answered anything.
    for (const update of updates) raw.send(encode({ type: 'update', update }));

    const reader = connectClient(teardown, relay, 'queued');
    await waitUntil(() => reader.text.toString() === source.getText('t').toString(), { what: 'queued updates' });
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
  it('broadcasts awareness to peers and removes a closed peer within a second', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown) });
    const alice = connectClient(teardown, relay, 'aw');
    const bob = connectClient(teardown, relay, 'aw');
    await Promise.all([waitForSync(alice), waitForSync(bob)]);

    alice.provider.awareness.setLocalStateField('user', { name: 'Alice', color: '#ff0000' });
    await waitUntil(() => bob.provider.awareness.getStates().get(alice.doc.clientID)?.user?.name === 'Alice', {
      what: 'awareness at bob',
    });

    const closedAt = Date.now();
    // Drop the socket without the client's own goodbye, so only the relay can announce the removal.
    alice.provider.awareness.setLocalState({ user: { name: 'Alice', color: '#ff0000' } });
    (alice.provider.ws as unknown as { terminate(): void } | null)?.terminate();
    alice.provider.shouldConnect = false;
    await waitUntil(() => !bob.provider.awareness.getStates().has(alice.doc.clientID), {
      what: 'awareness removal',
      timeoutMs: 1_000,
    });
    expect(Date.now() - closedAt).toBeLessThan(1_000);
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
