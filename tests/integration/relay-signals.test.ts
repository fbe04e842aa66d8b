/**
 * `npm run relay` and `npm start` stop gracefully when only npm is signalled, as `docker stop`
 * (SIGTERM to the container's first process) and a supervisor do. npm forwards the signal to the
 * shell running the script; the scripts `exec` the server so that the shell is the server, since
 * `sh` would die of the signal without passing it on and leave the server running.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';

import { openLevelStore } from '../../collab-server/storage/leveldb';
import { parseDocId } from '../../lib/ids';
import { CLOSE_CODES } from '../../lib/protocol';
import { descendantPids, isAlive, startNpmScript } from '../helpers/npm-script';
import { Teardown, connectClient, makeTempDir, openRawSocket, socketUrl, tokenIssuer, waitForSync, waitUntil } from '../helpers/relay';
import { TEST_SECRET } from '../helpers/relay-process';

const teardown = new Teardown();
afterEach(() => teardown.run());

const NEXT_BUILD_ID = fileURLToPath(new URL('../../.next/BUILD_ID', import.meta.url));

const SCRIPTS = {
  // The relay prints `listening on ws://127.0.0.1:<port>`; its documents are at `<url>/<docId>`.
  relay: { readyPattern: /listening on (ws:\/\/127\.0\.0\.1:(\d+))/, relayPath: '' },
  // The app prints `ready on http://127.0.0.1:<port>` and serves the relay under /collab.
  start: { readyPattern: /ready on http:\/\/(127\.0\.0\.1:(\d+))/, relayPath: '/collab' },
} as const;

describe('signals sent to npm alone', () => {
  it.each([
    { script: 'relay', signal: 'SIGTERM' },
    { script: 'relay', signal: 'SIGINT' },
    { script: 'start', signal: 'SIGTERM' },
    { script: 'start', signal: 'SIGINT' },
  ] as const)('[O3] npm run $script on $signal: the server flushes to disk, closes sockets with 1001, exits, and npm exits 0', async ({ script, signal }) => {
    // `npm start` serves the Next build; without one it would run a minutes-long `next build` first.
    if (script === 'start' && !existsSync(NEXT_BUILD_ID)) {
      throw new Error('npm start needs the Next build: run `next build --webpack` first (npm test does)');
    }
    const dataDir = await makeTempDir(teardown);
    const { readyPattern, relayPath } = SCRIPTS[script];
    const running = await startNpmScript(teardown, {
      script,
      readyPattern,
      env: {
        COLLAB_DATA_DIR: dataDir,
        COLLAB_SECRET: TEST_SECRET,
        COLLAB_HOST: '127.0.0.1',
        COLLAB_PORT: '0',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        NEXT_TELEMETRY_DISABLED: '1',
      },
    });
    const port = Number(running.ready[2]);
    const relay = {
      url: `ws://127.0.0.1:${port}${relayPath}`,
      tokenFor: tokenIssuer(new Uint8Array(Buffer.from(TEST_SECRET, 'base64url'))),
    };
    const serverPids = descendantPids(running.npm.pid ?? 0);
    expect(serverPids.length).toBeGreaterThan(0);

    const watcher = await openRawSocket(teardown, socketUrl(relay, 'signalled'));
    const writer = connectClient(teardown, relay, 'signalled');
    await waitForSync(writer);
    writer.text.insert(0, `written before ${signal}`);
    // Once the watcher has the change the relay holds it; nothing waits for it to be saved.
    await waitUntil(() => watcher.received.some((message) => message.type === 'update'), { what: 'the change at the watcher' });

    running.npm.kill(signal);

    // npm exits once its child has: with a shell left between them, npm dies of the signal at once.
    expect(await running.exited).toEqual({ code: 0, signal: null });
    expect(serverPids.filter(isAlive)).toEqual([]);
    expect(await watcher.closed).toMatchObject({ code: CLOSE_CODES.goingAway });
    expect(await isPortFree(port)).toBe(true);
    expect(running.stdout.some((line) => line.includes('relay stopped'))).toBe(true);

    writer.provider.destroy();
    expect(await storedText(dataDir, 'signalled')).toBe(`written before ${signal}`);
  });
});

/** True when nothing listens on 127.0.0.1:`port`: we can listen there ourselves. */
function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The text of `docId` as LevelDB in `dataDir` holds it, read without a relay. */
async function storedText(dataDir: string, docId: string): Promise<string> {
  const id = parseDocId(docId);
  if (!id) throw new Error(`not a doc id: ${docId}`);
  const store = await openLevelStore({ dir: join(dataDir, 'leveldb') });
  try {
    const stored = await store.load(id);
    const doc = new Y.Doc();
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
    for (const update of stored.updates) Y.applyUpdate(doc, update);
    return doc.getText('t').toString();
  } finally {
    await store.close();
  }
}
