/**
 * Storage that fails, hangs or lags under a live relay (a real LevelDB behind
 * `FaultyStore`). Rules (SPEC F1–F6): the relay keeps serving from memory, never
 * acknowledges what is not on disk, tells waiting clients and /healthz why,
 * bounds what it holds unsaved, recovers by itself, and neither unloading,
 * loading nor shutdown can hang on storage.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';

import type { CreateRelayOptions } from '../../collab-server/server';
import { DENIAL_CODES, encode } from '../../lib/protocol';
import { FaultyStore } from '../helpers/faulty-store';
import {
  Teardown,
  connectClient,
  isAllSaved,
  loadedRooms,
  makeTempDir,
  openRawSocket,
  recordingLogger,
  socketUrl,
  startRelay,
  upgradeStatus,
  waitForSaved,
  waitForSync,
  waitUntil,
  watchNotSaved,
  type TestRelay,
} from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

/** A relay over a real LevelDB in `dataDir`, behind switchable faults. */
async function startFaultyRelay(
  dataDir: string,
  options: Omit<Partial<CreateRelayOptions>, 'store'> = {},
): Promise<TestRelay & { readonly store: FaultyStore }> {
  let store: FaultyStore | null = null;
  const relay = await startRelay(teardown, { ...options, dataDir, wrapStore: (inner) => (store = new FaultyStore(inner)) });
  const faulty = store as FaultyStore | null;
  if (!faulty) throw new Error('startRelay did not wrap the store');
  // Healed before the relay closes at teardown (last in, first out), so nothing waits on a fault no test will lift.
  teardown.add(() => faulty.heal());
  return Object.assign(relay, { store: faulty });
}

async function health(relay: { port: number }): Promise<{ status: string; reason?: string }> {
  const response = await fetch(`http://127.0.0.1:${relay.port}/healthz`);
  expect(response.status).toBe(200);
  return (await response.json()) as { status: string; reason?: string };
}

async function degradedGauge(relay: TestRelay): Promise<number> {
  return (await relay.metrics.storageDegraded.get()).values[0]?.value ?? 0;
}

/** What a fresh client, on a fresh relay over the same data dir, reads of `docId`. */
async function textAfterRestart(dataDir: string, secret: Uint8Array, docId: string): Promise<string> {
  const relay = await startFaultyRelay(dataDir, { secret });
  const reader = connectClient(teardown, relay, docId);
  await waitForSync(reader);
  return reader.text.toString();
}

describe('[F1] writes that fail', () => {
  it('leave the document served and broadcast from memory, unacknowledged, with not-saved and a degraded /healthz; all recovers by itself', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startFaultyRelay(dataDir);
    const alice = connectClient(teardown, relay, 'failing-writes', { savedAcks: true });
    const bob = connectClient(teardown, relay, 'failing-writes');
    const notSaved = watchNotSaved(alice);
    await Promise.all([waitForSync(alice), waitForSync(bob)]);
    alice.text.insert(0, 'acknowledged;');
    await waitForSaved(alice);

    relay.store.injectWriteFault({ kind: 'fail', message: 'ENOSPC: no space left on device' });
    alice.text.insert(alice.text.length, 'held in memory;');
    await waitUntil(() => bob.text.toString() === 'acknowledged;held in memory;', { what: 'the broadcast while writes fail' });
    await waitUntil(() => notSaved.reasons.length > 0, { what: 'a not-saved message' });
    expect(notSaved.reasons[0]).toContain('ENOSPC');
    expect(isAllSaved(alice)).toBe(false);
    expect(relay.store.appendsFailed).toBeGreaterThan(0);
    const degraded = await health(relay);
    expect(degraded.status).toBe('degraded');
    expect(degraded.reason).toContain('ENOSPC');
    expect(await degradedGauge(relay)).toBe(1);
    // A newcomer still gets everything, from memory.
    const carol = connectClient(teardown, relay, 'failing-writes');
    await waitForSync(carol);
    expect(carol.text.toString()).toBe('acknowledged;held in memory;');

    relay.store.heal();
    await waitForSaved(alice, 15_000);
    expect(await health(relay)).toEqual({ status: 'ok' });
    expect(await degradedGauge(relay)).toBe(0);
    await relay.close();
    expect(await textAfterRestart(dataDir, relay.secret, 'failing-writes')).toBe('acknowledged;held in memory;');
  });

  it('a write that hangs counts as failing once it passes the stall time, and completes when storage returns', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startFaultyRelay(dataDir, { writeStallMs: 50 });
    const alice = connectClient(teardown, relay, 'stalled-writes', { savedAcks: true });
    const notSaved = watchNotSaved(alice);
    await waitForSync(alice);
    relay.store.injectWriteFault({ kind: 'hang' });
    alice.text.insert(0, 'stalled;');
    await waitUntil(() => notSaved.reasons.length > 0, { what: 'a not-saved message for a stalled write' });
    expect((await health(relay)).reason).toContain('has not finished');
    relay.store.heal();
    await waitForSaved(alice);
    expect(await health(relay)).toEqual({ status: 'ok' });
  });
});

describe('[F2] unsaved changes are bounded', () => {
  it('past COLLAB_MAX_UNSAVED_BYTES a change is refused with storage-unavailable and the socket closed with 1013; nothing acknowledged is lost', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startFaultyRelay(dataDir, { maxUnsavedBytes: 4_096 });
    const alice = connectClient(teardown, relay, 'bounded', { savedAcks: true });
    await waitForSync(alice);
    alice.text.insert(0, 'acknowledged;');
    await waitForSaved(alice);
    relay.store.injectWriteFault({ kind: 'fail', message: 'EIO: i/o error' });

    // A raw writer, so the close code and the refusal are visible.
    const writer = await openRawSocket(teardown, socketUrl(relay, 'bounded'));
    const doc = new Y.Doc();
    // From what is there, so its chunks follow the acknowledged text.
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(alice.doc));
    const updates: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => updates.push(update));
    const text = doc.getText('t');
    for (let chunk = 0; chunk < 12; chunk += 1) text.insert(text.length, `${String(chunk).padStart(2, '0')}${'x'.repeat(998)};`);
    for (const update of updates) writer.send(encode({ type: 'update', update }));
    const closed = await writer.closed;
    expect(closed.code).toBe(1013);
    const denial = writer.received.find((message) => message.type === 'permission-denied');
    expect(denial?.type === 'permission-denied' && denial.reason.startsWith(`${DENIAL_CODES.storageUnavailable}:`)).toBe(true);

    // Only what fitted under the bound was taken, in order; the rest was refused whole.
    const bob = connectClient(teardown, relay, 'bounded');
    await waitForSync(bob);
    const held = bob.text.toString();
    expect(held.startsWith('acknowledged;')).toBe(true);
    const heldChunks = held.slice('acknowledged;'.length).split(';').filter(Boolean);
    expect(heldChunks.length).toBeGreaterThan(0);
    expect(heldChunks.length).toBeLessThan(12);
    expect(heldChunks.map((chunk) => chunk.slice(0, 2))).toEqual(heldChunks.map((_, index) => String(index).padStart(2, '0')));

    relay.store.heal();
    alice.text.insert(alice.text.length, 'after;');
    await waitForSaved(alice, 15_000);
    await relay.close();
    const reloaded = await textAfterRestart(dataDir, relay.secret, 'bounded');
    expect(reloaded.startsWith('acknowledged;')).toBe(true);
    expect(reloaded).toContain('after;');
    expect(reloaded.length).toBe(held.length + 'after;'.length);
  });
});

describe('[F4] unloading never hangs on storage', () => {
  it('a client arriving while its room unloads with writes hung takes the room back, with everything in it', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startFaultyRelay(dataDir, { roomIdleMs: 10 });
    const alice = connectClient(teardown, relay, 'unloading', { savedAcks: true });
    await waitForSync(alice);
    relay.store.injectWriteFault({ kind: 'hang' });
    alice.text.insert(0, 'unsaved;');
    await waitUntil(() => relay.store.appendsWaiting > 0, { what: 'a write to hang' });
    alice.provider.destroy();
    // The room left the loaded set: its unload is waiting for the hung write.
    await waitUntil(async () => (await loadedRooms(relay)) === 0, { what: 'the unload to start' });

    const bob = connectClient(teardown, relay, 'unloading', { savedAcks: true });
    await waitForSync(bob);
    expect(bob.text.toString()).toBe('unsaved;');
    expect(await loadedRooms(relay)).toBe(1);
    relay.store.heal();
    bob.text.insert(bob.text.length, 'saved;');
    await waitForSaved(bob);
    await relay.close();
    expect(await textAfterRestart(dataDir, relay.secret, 'unloading')).toBe('unsaved;saved;');
  });
});

describe('[F5] loads that hang', () => {
  it('answer the upgrade with 503 after COLLAB_LOAD_TIMEOUT_MS, and the document opens once storage is back', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startFaultyRelay(dataDir, { loadTimeoutMs: 100 });
    relay.store.injectLoadFault({ kind: 'hang' });
    expect(await upgradeStatus(socketUrl(relay, 'slow-load'))).toBe(503);
    relay.store.heal();
    const alice = connectClient(teardown, relay, 'slow-load');
    await waitForSync(alice);
  });

  it('cap the upgrades waiting for documents: past COLLAB_MAX_PENDING_UPGRADES the next is refused with 503 at once', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startFaultyRelay(dataDir, { maxPendingUpgrades: 2, loadTimeoutMs: 60_000 });
    relay.store.injectLoadFault({ kind: 'hang' });
    const waiting = [connectClient(teardown, relay, 'pending-a'), connectClient(teardown, relay, 'pending-b')];
    await waitUntil(() => relay.store.loadsWaiting === 2, { what: 'two loads waiting' });
    expect(await upgradeStatus(socketUrl(relay, 'pending-c'))).toBe(503);
    relay.store.heal();
    await Promise.all(waiting.map((client) => waitForSync(client)));
  });

  it('a load that fails answers 503 and reports degraded until a load succeeds', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await startFaultyRelay(dataDir);
    relay.store.injectLoadFault({ kind: 'fail', message: 'EIO: i/o error' });
    expect(await upgradeStatus(socketUrl(relay, 'failed-load'))).toBe(503);
    expect((await health(relay)).status).toBe('degraded');
    relay.store.heal();
    await waitForSync(connectClient(teardown, relay, 'failed-load'));
    expect(await health(relay)).toEqual({ status: 'ok' });
  });
});

describe('[F6] shutdown with storage down', () => {
  it('finishes within COLLAB_SHUTDOWN_TIMEOUT_MS, closes sockets with 1001, and logs the documents it could not write', async () => {
    const dataDir = await makeTempDir(teardown);
    const { logger, lines } = recordingLogger();
    const relay = await startFaultyRelay(dataDir, { shutdownTimeoutMs: 100, logger });
    const writer = await openRawSocket(teardown, socketUrl(relay, 'unwritable'));
    relay.store.injectWriteFault({ kind: 'hang' });
    const doc = new Y.Doc();
    doc.on('update', (update: Uint8Array) => writer.send(encode({ type: 'update', update })));
    doc.getText('t').insert(0, 'never written');
    await waitUntil(() => relay.store.appendsWaiting > 0, { what: 'a write to hang' });

    // The store stays hung: close must not wait for it.
    await relay.close();
    expect((await writer.closed).code).toBe(1001);
    const report = lines.find((line) => line.message === 'shutting down with changes not written to storage');
    expect(report?.fields.docIds).toEqual(['unwritable']);
  });
});
