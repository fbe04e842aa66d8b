/**
 * LevelDB group commit (SPEC S13, S8) against a real database in a temp dir,
 * checked by what is on disk and when appends resolve, not by how long they
 * take (timings are `bench/`'s). The commit interval runs on fake timers, so it
 * passes only when the test says: a write it holds back cannot happen early,
 * however slow the machine. LevelDB itself uses no timers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { DocStore } from '../../collab-server/storage/doc-store';
import { openLevelStore } from '../../collab-server/storage/leveldb';
import type { DocId } from '../../lib/ids';
import { appendedText, byteArrays, testDocId } from '../helpers/documents';

const INTERVAL_MS = 60_000;

async function loadedBytes(store: DocStore, doc: DocId): Promise<number[][]> {
  return byteArrays((await store.load(doc)).updates);
}

/** Tracks whether `promise` has resolved yet. */
function track<T>(promise: Promise<T>): { readonly promise: Promise<T>; isResolved(): boolean } {
  let isResolved = false;
  void promise.then(() => (isResolved = true));
  return { promise, isResolved: () => isResolved };
}

describe('LevelDB group commit', () => {
  let dir: string;
  let store: DocStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'inkwell-group-commit-'));
    // Only the interval's timer is faked: setImmediate (the next tick) stays real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    store = await openLevelStore({ dir, minCommitIntervalMs: INTERVAL_MS });
  });

  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('[S13] writes a lone append at once, then holds the appends that follow for the interval and writes them in one batch', async () => {
    const doc = testDocId('group-commit');
    const other = testDocId('other-doc');
    const [first, second, third] = appendedText(['0', '1', '2']).updates as [Uint8Array, Uint8Array, Uint8Array];

    const lone = store.appendUpdates(doc, [first]);
    // Written on the next tick, not after a timer: nothing waits for the interval.
    expect(vi.getTimerCount()).toBe(0);
    await lone;
    expect(await loadedBytes(store, doc)).toEqual(byteArrays([first]));

    // Within the interval of the first batch: both wait, for one commit, across documents.
    const held = [track(store.appendUpdates(doc, [second])), track(store.appendUpdates(other, [third]))];
    expect(vi.getTimerCount()).toBe(1);
    // A load is a round trip to LevelDB: had either append been written, it would show.
    expect(await loadedBytes(store, doc)).toEqual(byteArrays([first]));
    expect(await loadedBytes(store, other)).toEqual([]);
    expect(held.map((append) => append.isResolved())).toEqual([false, false]);

    // One interval passes: one batch carries both, so both resolve with no further timer.
    vi.advanceTimersByTime(INTERVAL_MS);
    await Promise.all(held.map((append) => append.promise));
    expect(vi.getTimerCount()).toBe(0);
    expect(await loadedBytes(store, doc)).toEqual(byteArrays([first, second]));
    expect(await loadedBytes(store, other)).toEqual(byteArrays([third]));
  });

  it('[S8] close writes the appends waiting for the interval without waiting it out', async () => {
    const doc = testDocId('closing');
    const [first, second] = appendedText(['0', '1']).updates as [Uint8Array, Uint8Array];
    await store.appendUpdates(doc, [first]);

    const waiting = track(store.appendUpdates(doc, [second]));
    expect(vi.getTimerCount()).toBe(1);
    // The interval's timer never fires in this test: only close can write the append.
    await store.close();
    expect(waiting.isResolved()).toBe(true);

    store = await openLevelStore({ dir, minCommitIntervalMs: INTERVAL_MS });
    expect(await loadedBytes(store, doc)).toEqual(byteArrays([first, second]));
  });
});
