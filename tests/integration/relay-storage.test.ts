/** Durability inside one process: restart, compaction, idle unload (SPEC ## Storage, S5 and S13 on). */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';

import { openLevelStore } from '../../collab-server/storage/leveldb';
import {
  Teardown,
  connectClient,
  makeTempDir,
  loadedRooms,
  openConnections,
  startRelay,
  waitForSaved,
  waitForSync,
  waitUntil,
} from '../helpers/relay';
import { testDocId } from '../helpers/documents';

const teardown = new Teardown();
afterEach(() => teardown.run());

/** Reads a document straight from the LevelDB files (the relay must be closed). */
async function readStored(dataDir: string, id: string) {
  const store = await openLevelStore({ dir: join(dataDir, 'leveldb') });
  try {
    const stored = await store.load(testDocId(id));
    const doc = new Y.Doc();
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
    for (const update of stored.updates) Y.applyUpdate(doc, update);
    return { stored, doc };
  } finally {
    await store.close();
  }
}

describe('relay storage', () => {
  it('[S19] a graceful stop writes what the relay holds, acknowledged or not, and a restart serves it', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startRelay(teardown, { dataDir });
    const writer = connectClient(teardown, relay, 'restart');
    await waitForSync(writer);
    writer.text.insert(0, 'survives a restart');
    writer.doc.getXmlFragment('x').insert(0, [new Y.XmlElement('paragraph')]);
    // No saved acknowledgement awaited: once the relay has the edit, a graceful stop must flush it.
    const observer = connectClient(teardown, relay, 'restart');
    await waitUntil(() => observer.doc.getXmlFragment('x').length === 1, { what: 'edit at the relay' });
    await relay.close();

    const restarted = await startRelay(teardown, { dataDir });
    const reader = connectClient(teardown, restarted, 'restart');
    await waitForSync(reader);
    expect(reader.text.toString()).toBe('survives a restart');
    expect(reader.doc.getXmlFragment('x').length).toBe(1);
  });

  it('[S17] closing folds the log into one snapshot and the stored state stays byte-identical', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startRelay(teardown, { dataDir, compactAfterUpdates: 1_000_000, compactAfterBytes: 2 ** 40 });
    const writer = connectClient(teardown, relay, 'compact', { savedAcks: true });
    await waitForSync(writer);
    let loggedBytes = 0;
    writer.doc.on('update', (update: Uint8Array) => (loggedBytes += update.byteLength));
    for (let i = 0; i < 300; i++) {
      writer.text.insert(writer.text.length, `w${i} `);
      if (i % 3 === 0) writer.text.delete(0, 1);
    }
    await waitForSaved(writer);
    expect((await relay.metrics.compactions.get()).values[0]?.value ?? 0).toBe(0);
    await relay.close();
    expect((await relay.metrics.compactions.get()).values[0]?.value).toBe(1);
    const after = await readStored(dataDir, 'compact');

    expect(after.stored.snapshot).not.toBeNull();
    expect(after.stored.updates.length).toBe(0);
    expect(after.stored.snapshot!.byteLength).toBeLessThan(loggedBytes);
    expect(Y.encodeStateAsUpdate(after.doc)).toEqual(Y.encodeStateAsUpdate(writer.doc));
    expect(after.doc.getText('t').toString()).toBe(writer.text.toString());
  });

  it('[S5] a reloaded document answers from its stored bytes and merges a returning client\'s offline edits', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startRelay(teardown, { dataDir });
    const writer = connectClient(teardown, relay, 'lazy', { savedAcks: true });
    await waitForSync(writer);
    writer.text.insert(0, 'stored text');
    await waitForSaved(writer);
    const offline = new Y.Doc();
    Y.applyUpdate(offline, Y.encodeStateAsUpdate(writer.doc));
    offline.getText('t').insert(0, 'offline ');
    writer.text.insert(writer.text.length, ' and more');
    await waitForSaved(writer);
    await relay.close();

    const restarted = await startRelay(teardown, { dataDir });
    const reader = connectClient(teardown, restarted, 'lazy');
    await waitForSync(reader);
    expect(reader.text.toString()).toBe('stored text and more');
    // It connects already holding state, so its sync step 1 asks for a diff, not everything.
    const returning = connectClient(teardown, restarted, 'lazy', { savedAcks: true });
    Y.applyUpdate(returning.doc, Y.encodeStateAsUpdate(offline));
    await waitForSync(returning);
    await waitForSaved(returning);
    await waitUntil(async () => reader.text.toString() === 'offline stored text and more', { what: 'the offline edit reaching the reader' });
    expect(returning.text.toString()).toBe('offline stored text and more');
    const late = connectClient(teardown, restarted, 'lazy');
    await waitForSync(late);
    expect(late.text.toString()).toBe('offline stored text and more');
  });

  it('[S17] a long log left behind (a crash) is folded into a snapshot when the document loads', async () => {
    const dataDir = await makeTempDir(teardown);
    const source = new Y.Doc();
    const updates: Uint8Array[] = [];
    source.on('update', (update: Uint8Array) => updates.push(update));
    for (let i = 0; i < 300; i++) source.getText('t').insert(0, `${i % 10}`);
    const store = await openLevelStore({ dir: join(dataDir, 'leveldb') });
    await store.appendUpdates(testDocId('crashed'), updates);
    await store.close();

    const relay = await startRelay(teardown, { dataDir, compactAfterUpdates: 100 });
    const reader = connectClient(teardown, relay, 'crashed');
    await waitForSync(reader);
    expect(reader.text.toString()).toBe(source.getText('t').toString());
    await waitUntil(async () => (await relay.metrics.compactions.get()).values[0]?.value === 1, { what: 'compaction at load' });
    await relay.close();
    const after = await readStored(dataDir, 'crashed');
    expect(after.stored.updates.length).toBe(0);
    expect(Y.encodeStateAsUpdate(after.doc)).toEqual(Y.encodeStateAsUpdate(source));
  });

  it('[S17] compacts in the background while edits keep coming, losing nothing', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startRelay(teardown, { dataDir, compactAfterUpdates: 40 });
    const writer = connectClient(teardown, relay, 'live-compact', { savedAcks: true });
    await waitForSync(writer);
    // Ten rounds past the threshold, each saved before the next: each round's log is
    // folded while the next round's edits arrive.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 40; i++) writer.text.insert(writer.text.length, String(i % 10));
      await waitForSaved(writer);
    }
    expect((await relay.metrics.compactions.get()).values[0]?.value).toBeGreaterThan(1);
    await relay.close();
    const after = await readStored(dataDir, 'live-compact');
    expect(after.doc.getText('t').toString()).toBe(writer.text.toString());
    expect(after.stored.updates.length).toBeLessThan(80);
  });

  it('[S18] unloads a room that stayed empty, and reloads it on the next visit', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startRelay(teardown, { dataDir, roomIdleMs: 50 });
    const writer = connectClient(teardown, relay, 'idle', { savedAcks: true });
    await waitForSync(writer);
    writer.text.insert(0, 'kept while unloaded');
    await waitForSaved(writer);
    expect(await loadedRooms(relay)).toBe(1);
    writer.provider.destroy();
    await waitUntil(async () => (await loadedRooms(relay)) === 0, { what: 'unload' });

    const metricsText = await relay.metrics.registry.metrics();
    expect(metricsText).toMatch(/^inkwell_relay_rooms 0$/m);
    expect(metricsText).toMatch(/^inkwell_relay_room_memory_bytes 0$/m);

    const reader = connectClient(teardown, relay, 'idle');
    await waitForSync(reader);
    expect(reader.text.toString()).toBe('kept while unloaded');
    const loadedMetrics = await relay.metrics.registry.metrics();
    expect(loadedMetrics).toMatch(/^inkwell_relay_rooms 1$/m);
    expect(loadedMetrics).toMatch(/^inkwell_relay_room_memory_bytes [1-9]\d*$/m);
  });

  it('[S18] keeps a room loaded while someone is connected, past the idle time that unloads an empty one', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), roomIdleMs: 20 });
    const stayer = connectClient(teardown, relay, 'busy');
    const leaver = connectClient(teardown, relay, 'busy');
    const lastOfItsRoom = connectClient(teardown, relay, 'emptied');
    await Promise.all([stayer, leaver, lastOfItsRoom].map((client) => waitForSync(client)));
    leaver.provider.destroy();
    await waitUntil(async () => (await openConnections(relay)) === 2, { what: 'the leaver gone' });
    // A clock without sleeping: 'emptied' empties after 'busy' lost its peer, with the same idle
    // time, so once 'emptied' is unloaded, an idle period started for 'busy' would have run out too.
    lastOfItsRoom.provider.destroy();
    await waitUntil(async () => (await loadedRooms(relay)) < 2, { what: 'the emptied room unloaded' });
    expect(await loadedRooms(relay)).toBe(1);
    // And it is still the stayer's room: a newcomer hears the stayer's next edit.
    const newcomer = connectClient(teardown, relay, 'busy');
    await waitForSync(newcomer);
    stayer.text.insert(0, 'still here');
    await waitUntil(() => newcomer.text.toString() === 'still here', { what: "the stayer's edit at the newcomer" });
  });
});
