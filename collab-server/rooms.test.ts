/**
 * RoomRegistry on fake timers over a memory store behind injected faults:
 * single-flight loads, unloads racing acquires, shutdown racing loads (SPEC F4–F6).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';

import { encode } from '../lib/protocol';
import { testDocId } from '../tests/helpers/documents';
import { FaultyStore } from '../tests/helpers/faulty-store';
import { createSilentLogger } from './logger';
import { createRelayMetrics } from './metrics';
import type { RoomPeer } from './room';
import { RoomRegistry } from './rooms';
import { createMemoryStore } from './storage/memory';
import { toConnectionId } from '../lib/ids';

const DOC = testDocId('registered');
const IDLE_MS = 1_000;

function setup() {
  const store = new FaultyStore(createMemoryStore());
  const registry: RoomRegistry = new RoomRegistry({
    store,
    logger: createSilentLogger(),
    metrics: createRelayMetrics(() => ({ count: 0, approxBytes: 0 })),
    roomIdleMs: IDLE_MS,
    roomLimits: { compactAfterUpdates: 1_000, compactAfterBytes: 1 << 30, maxDocBytes: 1 << 30, maxUnsavedBytes: 1 << 30, writeStallMs: 60_000, maxAwarenessIdsPerConnection: 4 },
  });
  return { store, registry };
}

function peer(name: string): RoomPeer {
  return { id: toConnectionId(name), role: 'editor', wantsSavedAcks: false, issuedAt: 0, send: () => undefined, close: () => undefined };
}

function anUpdate(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RoomRegistry', () => {
  it('loads a document once for peers arriving together', async () => {
    const { store, registry } = setup();
    store.injectLoadFault({ kind: 'hang' });
    const first = registry.acquire(DOC);
    const second = registry.acquire(DOC);
    store.heal();
    expect(await first).toBe(await second);
  });

  it('unloads a room left empty for the idle period, once written', async () => {
    const { registry } = setup();
    const room = await registry.acquire(DOC);
    registry.release(room);
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect(registry.stats().count).toBe(0);
    expect(await registry.acquire(DOC)).not.toBe(room);
  });

  it('[F4] an acquire racing an unload that waits for storage takes the same room back, and the unload leaves it be', async () => {
    const { store, registry } = setup();
    const room = await registry.acquire(DOC);
    const alice = peer('alice');
    room.join(alice);
    store.injectWriteFault({ kind: 'hang' });
    room.receive(alice, { type: 'update', update: anUpdate('unsaved') }, encode({ type: 'update', update: anUpdate('unsaved') }));
    room.leave(alice);
    registry.release(room);
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    // Unloading: out of the loaded set, waiting for the hung write.
    expect(registry.stats().count).toBe(0);
    expect(registry.unsavedDocIds()).toEqual([DOC]);
    expect(await registry.acquire(DOC)).toBe(room);
    store.heal();
    await vi.advanceTimersByTimeAsync(0);
    expect(registry.stats().count).toBe(1);
    expect(await registry.acquire(DOC)).toBe(room);
    expect(registry.unsavedDocIds()).toEqual([]);
  });

  it('[F6] shutdown racing a hung load and a hung write ends at its deadline and names the unwritten documents', async () => {
    const { store, registry } = setup();
    const room = await registry.acquire(DOC);
    const alice = peer('alice');
    room.join(alice);
    store.injectWriteFault({ kind: 'hang' });
    store.injectLoadFault({ kind: 'hang' });
    room.receive(alice, { type: 'update', update: anUpdate('unsaved') }, encode({ type: 'update', update: anUpdate('unsaved') }));
    void registry.acquire(testDocId('still-loading'));
    const closed = registry.closeAll(500);
    await vi.advanceTimersByTimeAsync(500);
    expect(await closed).toEqual([DOC]);
    expect(registry.stats().count).toBe(0);
  });

  it('[F3] reports degraded while a room cannot write, with the reason, and healthy once it can', async () => {
    const { store, registry } = setup();
    const room = await registry.acquire(DOC);
    const alice = peer('alice');
    room.join(alice);
    store.injectWriteFault({ kind: 'fail', message: 'EROFS: read-only file system' });
    room.receive(alice, { type: 'update', update: anUpdate('x') }, encode({ type: 'update', update: anUpdate('x') }));
    await vi.advanceTimersByTimeAsync(0);
    expect(registry.health()).toEqual({ state: 'degraded', reason: expect.stringContaining('EROFS') });
    store.heal();
    await vi.runAllTimersAsync();
    expect(registry.health()).toEqual({ state: 'ok' });
  });
});
