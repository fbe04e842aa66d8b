/**
 * S6 durable ingest: one client pushes the `automerge-paper` trace (CC BY 4.0,
 * Martin Kleppmann), one update per patch, as fast as the relay acknowledges
 * them on disk (a bounded window of unacknowledged frames). Then the relay is
 * restarted and a fresh client times the cold load and checks the text.
 *
 *   npm run bench:ingest -- [--window 2000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket } from 'ws';
import * as Y from 'yjs';

import { loadEditingTrace } from '../tests/helpers/editing-trace';
import { startServer } from './servers';

const { values } = parseArgs({ options: { window: { type: 'string', default: '2000' } } });
const WINDOW = Number(values.window);

function syncFrame(subType: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  encoding.writeVarUint(encoder, subType);
  encoding.writeVarUint8Array(encoder, payload);
  return encoding.toUint8Array(encoder);
}

function open(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function main(): Promise<void> {
  const trace = loadEditingTrace('automerge-paper.json.gz');
  const dataDir = await mkdtemp(join(tmpdir(), 'inkwell-ingest-'));
  try {
    let server = await startServer('inkwell', dataDir);
    const socket = await open(server.roomUrl('ingest'));
    let saved = 0;
    let onSaved: (() => void) | null = null;
    socket.on('message', (data: Buffer) => {
      if (data[0] !== 100) return;
      const decoder = decoding.createDecoder(data.subarray(1));
      decoding.readVarUint8Array(decoder);
      saved = decoding.readVarUint(decoder);
      onSaved?.();
    });
    const doc = new Y.Doc();
    const text = doc.getText('t');
    let sent = 0;
    doc.on('update', (update: Uint8Array) => {
      socket.send(syncFrame(2, update));
      sent += 1;
    });
    const waitForSaved = (count: number): Promise<void> =>
      saved >= count ? Promise.resolve() : new Promise((resolve) => (onSaved = () => saved >= count && resolve()));

    const startedAt = performance.now();
    for (const [position, deleteCount, insertText] of trace.patches) {
      doc.transact(() => {
        if (deleteCount > 0) text.delete(position, deleteCount);
        if (insertText) text.insert(position, insertText);
      });
      if (sent - saved >= WINDOW) await waitForSaved(sent - WINDOW / 2);
    }
    await waitForSaved(sent);
    const ingestSeconds = (performance.now() - startedAt) / 1000;
    socket.close();
    await server.stop();

    server = await startServer('inkwell', dataDir);
    const loadStartedAt = performance.now();
    const reader = await open(server.roomUrl('ingest'));
    const loaded = new Y.Doc();
    await new Promise<void>((resolve) => {
      reader.on('message', (data: Buffer) => {
        if (data[0] !== 0) return;
        const decoder = decoding.createDecoder(data.subarray(1));
        const subType = decoding.readVarUint(decoder);
        if (subType === 0) {
          reader.send(syncFrame(1, Y.encodeStateAsUpdate(loaded, decoding.readVarUint8Array(decoder))));
          reader.send(syncFrame(0, Y.encodeStateVector(loaded)));
        } else {
          Y.applyUpdate(loaded, decoding.readVarUint8Array(decoder));
          if (loaded.getText('t').length === trace.endContent.length) resolve();
        }
      });
    });
    const coldLoadMs = performance.now() - loadStartedAt;
    reader.close();
    await server.stop();
    const isExact = loaded.getText('t').toString() === trace.endContent;
    console.log(
      JSON.stringify(
        {
          scenario: 'S6 durable ingest (automerge-paper)',
          updates: sent,
          ingestSeconds: Math.round(ingestSeconds * 100) / 100,
          updatesPerSecondOnDisk: Math.round(sent / ingestSeconds),
          coldLoadMs: Math.round(coldLoadMs * 10) / 10,
          isExact,
        },
        null,
        2,
      ),
    );
    if (!isExact) process.exitCode = 1;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
