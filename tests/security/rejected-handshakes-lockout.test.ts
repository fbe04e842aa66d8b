/**
 * Attack: lock an address out by leaking its socket count. Handshakes that ws
 * itself rejects (bad version, missing key) once left their slot counted until
 * restart; concurrent upgrades to a document still loading all passed the cap.
 * Rule (SPEC P1b): a slot is taken when the socket opens, with one synchronous
 * check-and-count, and given back when the socket closes, however it closes.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { createRelay } from '../../collab-server/server';
import { createMemoryStore } from '../../collab-server/storage/memory';
import type { DocStore } from '../../collab-server/storage/doc-store';
import { Teardown, makeTempDir, openRawSocket, socketUrl, startRelay, tokenIssuer, upgradeStatus, waitUntil } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

/** Sends an upgrade request that ws refuses (an unsupported WebSocket version) and resolves with the status line. */
function badHandshake(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 99\r\n\r\n`,
      );
    });
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('[P1b] per-client socket slots', () => {
  it('gives back the slot of every handshake ws rejects, so they cannot lock the address out', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), maxConnectionsPerIp: 5 });
    const path = new URL(socketUrl(relay, 'lockout')).pathname + new URL(socketUrl(relay, 'lockout')).search;
    for (let i = 0; i < 20; i++) expect(await badHandshake(relay.port, path)).toMatch(/^HTTP\/1\.1 400/);
    for (let i = 0; i < 5; i++) await openRawSocket(teardown, socketUrl(relay, 'lockout'));
    expect(await upgradeStatus(socketUrl(relay, 'lockout'))).toBe(429);
  });

  it('gives a slot back when its socket closes', async () => {
    const relay = await startRelay(teardown, { dataDir: await makeTempDir(teardown), maxConnectionsPerIp: 1 });
    const first = await openRawSocket(teardown, socketUrl(relay, 'reuse'));
    expect(await upgradeStatus(socketUrl(relay, 'reuse'))).toBe(429);
    first.socket.close();
    await first.closed;
    // The server side sees the close a moment after the client: retry until the slot is back.
    await expect.poll(() => upgradeStatus(socketUrl(relay, 'reuse')).catch(() => 101)).toBe(101);
  });

  it('counts upgrades still waiting for their document, so a burst cannot pass the cap together', async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const memory = createMemoryStore();
    const slowStore: DocStore = { ...memory, load: async (docId) => (await gate, memory.load(docId)) };
    const secret = new Uint8Array(randomBytes(32));
    const relay = await createRelay({ store: slowStore, secret, host: '127.0.0.1', port: 0, maxConnectionsPerIp: 3 });
    teardown.add(() => relay.close());
    const issuer = { url: relay.url, tokenFor: tokenIssuer(secret) };
    const settled: string[] = [];
    const attempts = Array.from({ length: 10 }, () =>
      openRawSocket(teardown, socketUrl(issuer, 'cold')).then(
        () => 'open',
        (error: Error) => error.message,
      ).then((outcome) => (settled.push(outcome), outcome)),
    );
    // The seven past the cap are refused while the document is still loading.
    await waitUntil(() => settled.length === 7, { what: 'refusals before the document loads' });
    expect(settled).toEqual(Array(7).fill('HTTP 429'));
    openGate();
    const outcomes = await Promise.all(attempts);
    expect(outcomes.filter((outcome) => outcome === 'open')).toHaveLength(3);
    expect(outcomes.filter((outcome) => outcome === 'HTTP 429')).toHaveLength(7);
  });
});
