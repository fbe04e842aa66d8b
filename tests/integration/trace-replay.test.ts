/**
 * Replays a real keystroke trace (automerge-paper, CC BY 4.0, Martin Kleppmann)
 * through the relay process, one update per patch, and checks what is on disk.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import * as Y from 'yjs';

import { openLevelStore } from '../../collab-server/storage/leveldb';
import { parseDocId } from '../../lib/ids';
import { loadEditingTrace } from '../helpers/editing-trace';
import { Teardown, connectClient, makeTempDir, waitForSaved, waitForSync } from '../helpers/relay';
import { UNLIMITED_RATE_ENV, spawnRelay } from '../helpers/relay-process';

const teardown = new Teardown();
afterEach(() => teardown.run());

const PATCHES_PER_TURN = 2_000;

it('stores exactly the endContent of the automerge-paper trace replayed keystroke by keystroke', async () => {
  const trace = loadEditingTrace('automerge-paper.json.gz');
  const dataDir = await makeTempDir(teardown);
  // A replay pushes keystrokes hundreds of times faster than a person types: lift the per-connection budget.
  const relay = await spawnRelay(teardown, { COLLAB_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...UNLIMITED_RATE_ENV });
  const client = connectClient(teardown, relay, 'automerge-paper', { savedAcks: true });
  await waitForSync(client);
  const text = client.text;
  text.insert(0, trace.startContent);

  const startedAt = performance.now();
  for (let i = 0; i < trace.patches.length; i++) {
    const [position, deleteCount, insertText] = trace.patches[i]!;
    // Each patch is its own transaction, so its own update message.
    client.doc.transact(() => {
      if (deleteCount > 0) text.delete(position, deleteCount);
      if (insertText) text.insert(position, insertText);
    });
    if (i % PATCHES_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  expect(text.toString()).toBe(trace.endContent);
  await waitForSaved(client, 120_000);
  const seconds = (performance.now() - startedAt) / 1000;
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${relay.child.pid}/status`, 'utf8'))?.[1] ?? NaN);
  console.info(
    `[trace-replay] ${trace.patches.length} updates saved in ${seconds.toFixed(2)} s ` +
      `(${Math.round(trace.patches.length / seconds)} updates/s); relay RSS ${(rssKiB / 1024).toFixed(1)} MiB`,
  );

  client.provider.destroy();
  relay.child.kill('SIGKILL');
  await relay.exited;
  const store = await openLevelStore({ dir: join(dataDir, 'leveldb') });
  try {
    const stored = await store.load(parseDocId('automerge-paper')!);
    const doc = new Y.Doc();
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
    for (const update of stored.updates) Y.applyUpdate(doc, update);
    expect(doc.getText('t').toString()).toBe(trace.endContent);
  } finally {
    await store.close();
  }
}, 180_000);
