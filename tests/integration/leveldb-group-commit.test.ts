/**
 * LevelDB group commit, timed against a real database in a temp dir: a lone
 * append after a quiet spell is synced at once; appends that follow within the
 * commit interval wait for it and go to disk together; closing writes what
 * waits without waiting out the interval. The interval is long (600 ms) so the
 * bounds hold on a slow disk.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { DocStore } from '../../collab-server/storage/doc-store';
import { openLevelStore } from '../../collab-server/storage/leveldb';
import type { DocId } from '../../lib/ids';
import { appendedText, byteArrays, testDocId } from '../helpers/documents';

const INTERVAL_MS = 600;

async function loadedBytes(store: DocStore, doc: DocId): Promise<number[][]> {
  return byteArrays((await store.load(doc)).updates);
}

/** Resolves with how long `promise` took, in ms from `since`. */
async function settledAfter(promise: Promise<unknown>, since: number): Promise<number> {
  await promise;
  return performance.now() - since;
}

describe('LevelDB group commit', () => {
  let dir: string;
  let store: DocStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'inkwell-group-commit-'));
    store = await openLevelStore({ dir, minCommitIntervalMs: INTERVAL_MS });
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('syncs a lone append at once, then holds the next appends until the interval has passed', async () => {
    const doc = testDocId('group-commit');
    const [first, second, third] = appendedText(['0', '1', '2']).updates;

    const firstStarted = performance.now();
    expect(await settledAfter(store.appendUpdates(doc, [first!]), firstStarted)).toBeLessThan(INTERVAL_MS / 2);

    const laterStarted = performance.now();
    const [secondMs, thirdMs] = await Promise.all([
      settledAfter(store.appendUpdates(doc, [second!]), laterStarted),
      settledAfter(store.appendUpdates(testDocId('other-doc'), [third!]), laterStarted),
    ]);
    // Both waited for the interval that began with the first commit, and shared one batch.
    const sinceFirstCommit = laterStarted - firstStarted;
    expect(secondMs + sinceFirstCommit).toBeGreaterThanOrEqual(INTERVAL_MS - 5);
    expect(Math.abs(secondMs - thirdMs)).toBeLessThan(INTERVAL_MS / 4);

    expect(await loadedBytes(store, doc)).toEqual(byteArrays([first!, second!]));
  });

  it('writes waiting appends at close without waiting out the interval', async () => {
    const doc = testDocId('closing');
    const [first, second] = appendedText(['0', '1']).updates;
    await store.appendUpdates(doc, [first!]);

    const appended = store.appendUpdates(doc, [second!]);
    const closeStarted = performance.now();
    await store.close();
    expect(performance.now() - closeStarted).toBeLessThan(INTERVAL_MS / 2);
    await appended;

    store = await openLevelStore({ dir, minCommitIntervalMs: INTERVAL_MS });
    expect(await loadedBytes(store, doc)).toEqual(byteArrays([first!, second!]));
  });
});
