/**
 * A real LevelDB on a disk that fills up and then has room again (a small
 * tmpfs, mounted for the test; root only). Rules (SPEC F1, F7): writes that
 * fail are refused to their callers and acknowledged to nobody; once the disk
 * has room, later writes succeed and survive a restart. LevelDB itself drops
 * writes made after a failed one at its next open unless the database is
 * reopened in between, which is what the store does.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { openLevelStore } from '../../collab-server/storage/leveldb';
import { testDocId } from '../helpers/documents';
import { MESSAGE_TAGS, readNotSavedPayload } from '../../lib/protocol';
import { Teardown, connectClient, isAllSaved, makeTempDir, startRelay, waitForSaved, waitForSync, waitUntil } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

const DISK_BYTES = 8 * 1024 * 1024;
const canMount = process.platform === 'linux' && process.getuid?.() === 0;

/** Mounts a tmpfs of `DISK_BYTES` on a fresh temp dir; unmounted at teardown. */
async function mountSmallDisk(): Promise<string> {
  const dir = await makeTempDir(teardown);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_BYTES},mode=0700`, 'tmpfs', dir]);
  teardown.add(() => {
    execFileSync('umount', ['-l', dir]);
  });
  return dir;
}

/** Fills the disk under `dir` to the last byte; returns a function that frees it again. */
async function fillDisk(dir: string): Promise<() => Promise<void>> {
  const filler = join(dir, 'filler');
  // writeFile writes what fits, then fails with ENOSPC, leaving the disk full.
  await writeFile(filler, Buffer.alloc(DISK_BYTES)).then(
    () => {
      throw new Error('the disk did not fill');
    },
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOSPC') throw error;
    },
  );
  return () => rm(filler);
}

function bytes(label: string, size: number): Uint8Array {
  const value = new Uint8Array(size).fill(7);
  value.set(new TextEncoder().encode(label));
  return value;
}

describe.runIf(canMount)('LevelDB on a disk that fills up', () => {
  it('[F7] refuses writes while the disk is full, and keeps every write that succeeded after it had room again, across a reopen', async () => {
    const disk = await mountSmallDisk();
    const dir = join(disk, 'leveldb');
    const docId = testDocId('full-disk');
    const store = await openLevelStore({ dir });
    await store.appendUpdates(docId, [bytes('before', 100)]);
    const freeDisk = await fillDisk(disk);
    await expect(store.appendUpdates(docId, [bytes('while full', 200_000)])).rejects.toThrow(/No space left on device/);
    await freeDisk();
    await store.appendUpdates(docId, [bytes('after 1', 1_000)]);
    await store.appendUpdates(docId, [bytes('after 2', 1_000)]);
    await store.close();

    const reopened = await openLevelStore({ dir });
    const loaded = await reopened.load(docId);
    await reopened.close();
    const labels = loaded.updates.map((update) => new TextDecoder().decode(update.subarray(0, 7)));
    expect(labels).toEqual(['before\u0007', 'after 1', 'after 2']);
  });

  it('[F1] a relay on a full disk keeps serving, says not-saved and degraded, and saves everything once the disk has room', async () => {
    const disk = await mountSmallDisk();
    const dataDir = join(disk, 'data');
    await mkdir(dataDir);
    const relay = await startRelay(teardown, { dataDir });
    const alice = connectClient(teardown, relay, 'full', { savedAcks: true });
    const bob = connectClient(teardown, relay, 'full');
    let notSavedCount = 0;
    alice.provider.messageHandlers[MESSAGE_TAGS.notSaved] = (_encoder, decoder) => {
      readNotSavedPayload(decoder);
      notSavedCount += 1;
    };
    await Promise.all([waitForSync(alice), waitForSync(bob)]);
    alice.text.insert(0, 'before;');
    await waitForSaved(alice);

    const freeDisk = await fillDisk(disk);
    const large = 'x'.repeat(64 * 1024);
    alice.text.insert(alice.text.length, large);
    await waitUntil(() => bob.text.length === 'before;'.length + large.length, { what: 'the broadcast while the disk is full' });
    await waitUntil(() => notSavedCount > 0, { what: 'not-saved' });
    const degraded = (await (await fetch(`http://127.0.0.1:${relay.port}/healthz`)).json()) as { status: string; reason: string };
    expect(degraded.status).toBe('degraded');
    expect(degraded.reason).toContain('No space left on device');
    expect(isAllSaved(alice)).toBe(false);

    await freeDisk();
    await waitForSaved(alice, 15_000);
    alice.text.insert(alice.text.length, ';after');
    await waitForSaved(alice);
    await relay.close();

    const restarted = await startRelay(teardown, { dataDir, secret: relay.secret });
    const reader = connectClient(teardown, restarted, 'full');
    await waitForSync(reader);
    expect(reader.text.toString()).toBe(`before;${large};after`);
  });
});
