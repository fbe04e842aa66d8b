/**
 * RoomPersister on fake timers, over a memory store behind injected faults.
 * SPEC S-rules of group commit and F1 (retries, health, stalls).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { FaultyStore } from '../tests/helpers/faulty-store';
import { testDocId } from '../tests/helpers/documents';
import { createSilentLogger } from './logger';
import { createRelayMetrics } from './metrics';
import { RoomPersister } from './room-persister';
import { createMemoryStore } from './storage/memory';

const DOC = testDocId('persisted');

function setup(options: { writeStallMs?: number; compactAfterUpdates?: number; snapshotLoads?: boolean } = {}) {
  const store = new FaultyStore(createMemoryStore());
  const saved: number[] = [];
  const health: (string | null)[] = [];
  let snapshotsRead = 0;
  const persister = new RoomPersister({
    docId: DOC,
    store,
    logger: createSilentLogger(),
    metrics: createRelayMetrics(() => ({ count: 0, approxBytes: 0 })),
    compactAfterUpdates: options.compactAfterUpdates ?? 1_000,
    compactAfterBytes: 1 << 30,
    initialLog: { count: 0, bytes: 0, lastSeq: 0 },
    readStateVector: () => Uint8Array.of(0),
    readSnapshot: () => {
      snapshotsRead += 1;
      // As Room's readSnapshot does when the document's own encoding would not load.
      if (options.snapshotLoads === false) throw new Error("the document's snapshot would not load");
      return { snapshot: Uint8Array.of(0, 0), stateVector: Uint8Array.of(0) };
    },
    onCompacted: () => undefined,
    onBatchSaved: (batchId) => saved.push(batchId),
    onWriteHealth: (failure) => health.push(failure),
    writeStallMs: options.writeStallMs,
  });
  return { store, persister, saved, health, snapshotsRead: () => snapshotsRead };
}

async function storedUpdates(store: FaultyStore): Promise<number[][]> {
  return (await store.load(DOC)).updates.map((update) => [...update]);
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RoomPersister', () => {
  it('writes the updates of one tick as one batch, and reports it saved', async () => {
    const { store, persister, saved } = setup();
    expect(persister.enqueue(Uint8Array.of(1))).toBe(1);
    expect(persister.enqueue(Uint8Array.of(2))).toBe(1);
    expect(persister.unsavedBytes).toBe(2);
    await vi.runAllTimersAsync();
    expect(saved).toEqual([1]);
    expect(store.appendsWritten).toBe(1);
    expect(persister.unsavedBytes).toBe(0);
    expect(persister.isSettled()).toBe(true);
  });

  it('[F1] keeps a failed batch ahead of later updates, retries with backoff, and acknowledges across the failure once a write succeeds', async () => {
    const { store, persister, saved, health } = setup();
    store.injectWriteFault({ kind: 'fail', message: 'ENOSPC' });
    persister.enqueue(Uint8Array.of(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(store.appendsFailed).toBe(1);
    expect(health).toEqual([expect.stringContaining('ENOSPC')]);
    expect(persister.writeFailure).toContain('ENOSPC');
    // Queued while the first batch waits for its retry: the retried batch carries both, in order.
    const promised = persister.enqueue(Uint8Array.of(2));
    expect(persister.latestUnsavedBatchId()).toBe(promised);
    // The first retry comes after 100 ms, not before.
    await vi.advanceTimersByTimeAsync(99);
    expect(store.appendsFailed).toBe(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(store.appendsFailed).toBe(2);
    expect(saved).toEqual([]);
    store.heal();
    await vi.runAllTimersAsync();
    // Each attempt is a batch of its own; an ack owed for batch N is paid by any saved batch from N on.
    expect(saved).toHaveLength(1);
    expect(saved[0]).toBeGreaterThanOrEqual(promised);
    expect(health).toEqual([expect.stringContaining('ENOSPC'), null]);
    expect(await storedUpdates(store)).toEqual([[1], [2]]);
    expect(persister.unsavedBytes).toBe(0);
    expect(persister.latestUnsavedBatchId()).toBeNull();
  });

  it('[F1] caps the backoff, so a long outage is retried every few seconds', async () => {
    const { store, persister } = setup();
    store.injectWriteFault({ kind: 'fail', message: 'EIO' });
    persister.enqueue(Uint8Array.of(1));
    await vi.advanceTimersByTimeAsync(60_000);
    // 100, 200, … 3200 ms, then every 5 s: 7 attempts in the first 6.3 s, then about 10 more.
    expect(store.appendsFailed).toBeGreaterThan(15);
    expect(store.appendsFailed).toBeLessThan(25);
  });

  it('[F1] reports a write that hangs past the stall time, and recovers when it completes', async () => {
    const { store, persister, saved, health } = setup({ writeStallMs: 1_000 });
    store.injectWriteFault({ kind: 'hang' });
    persister.enqueue(Uint8Array.of(1));
    await vi.advanceTimersByTimeAsync(999);
    expect(health).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(health).toEqual([expect.stringContaining('has not finished')]);
    store.heal();
    await vi.runAllTimersAsync();
    expect(saved).toEqual([1]);
    expect(health).toEqual([expect.stringContaining('has not finished'), null]);
  });

  it('settle tries a failed batch at once instead of after its backoff', async () => {
    const { store, persister, saved } = setup();
    store.injectWriteFault({ kind: 'fail', message: 'EIO' });
    persister.enqueue(Uint8Array.of(1));
    await vi.advanceTimersByTimeAsync(0);
    for (let attempt = 0; attempt < 5; attempt += 1) await vi.advanceTimersByTimeAsync(5_000);
    store.heal();
    const settled = persister.settle();
    await vi.advanceTimersByTimeAsync(0);
    await settled;
    expect(saved).toHaveLength(1);
    expect(persister.latestUnsavedBatchId()).toBeNull();
  });

  it('[S17] keeps the log when the snapshot would not load, and tries again only once the log has grown by another threshold', async () => {
    const { store, persister, snapshotsRead } = setup({ compactAfterUpdates: 2, snapshotLoads: false });
    for (const byte of [1, 2, 3]) {
      persister.enqueue(Uint8Array.of(byte));
      await vi.runAllTimersAsync();
    }
    expect(snapshotsRead()).toBe(1);
    expect(await storedUpdates(store)).toEqual([[1], [2], [3]]);
    persister.enqueue(Uint8Array.of(4));
    await vi.runAllTimersAsync();
    expect(snapshotsRead()).toBe(2);
  });
});
