/** `npm run relay` as a process: configuration, readiness, HTTP endpoints, signals, crash safety. */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { Teardown, connectClient, makeTempDir, tokenIssuer, upgradeStatus, waitForSaved, waitForSync, waitUntil } from '../helpers/relay';
import { TEST_SECRET, metricsUrlOf, runRelayExpectingFailure, spawnRelay } from '../helpers/relay-process';

const teardown = new Teardown();
afterEach(() => teardown.run());

describe('relay process', () => {
  it.each([
    ['COLLAB_PORT', 'abc'],
    ['COLLAB_PORT', '70000'],
    ['COLLAB_MAX_MESSAGE_BYTES', '-5'],
    ['COLLAB_HEARTBEAT_MS', '1.5'],
    ['LOG_LEVEL', 'loud'],
    ['COLLAB_SECRET', 'too-short'],
    ['COLLAB_ALLOWED_ORIGINS', 'not a url'],
    ['COLLAB_MAX_CONNECTIONS_PER_IP', '0'],
  ])('refuses to start when %s=%s and names the variable', async (name, value) => {
    const { code, stderr } = await runRelayExpectingFailure({ [name]: value, COLLAB_DATA_DIR: await makeTempDir(teardown) });
    expect(code).toBe(1);
    expect(stderr).toContain(name);
  });

  it('prints its addresses, logs JSON lines, serves /healthz, and /metrics on its own port', async () => {
    const relay = await spawnRelay(teardown, { COLLAB_DATA_DIR: await makeTempDir(teardown), COLLAB_METRICS_PORT: '0' });
    const metricsUrl = metricsUrlOf(relay);
    expect(relay.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const client = connectClient(teardown, relay, 'ops');
    await waitForSync(client);
    client.text.insert(0, 'x');

    const health = await fetch(`http://127.0.0.1:${relay.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    await waitUntil(async () => {
      const text = await (await fetch(metricsUrl)).text();
      return /inkwell_relay_messages_in_total\{type="update"\} [1-9]/.test(text);
    });
    const metrics = await (await fetch(metricsUrl)).text();
    for (const name of [
      'inkwell_relay_connections 1',
      'inkwell_relay_rooms 1',
      'inkwell_relay_bytes_in_total',
      'inkwell_relay_bytes_out_total',
      'inkwell_relay_messages_out_total',
      'inkwell_relay_persist_seconds_bucket',
      'inkwell_relay_compactions_total',
    ]) {
      expect(metrics).toContain(name);
    }
    for (const line of relay.stdout) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('never writes a token or the secret to its logs, even at debug level', async () => {
    const relay = await spawnRelay(teardown, { COLLAB_DATA_DIR: await makeTempDir(teardown), LOG_LEVEL: 'debug' });
    const token = relay.tokenFor('quiet');
    const client = connectClient(teardown, relay, 'quiet', { params: { token } });
    await waitForSync(client);
    client.text.insert(0, 'x');
    expect(await upgradeStatus(`${relay.url}/quiet?token=${token}x`)).toBe(401);
    await waitUntil(() => relay.stdout.some((line) => line.includes('connection opened')));
    const logs = relay.stdout.join('\n');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(token.split('.')[2]);
    expect(logs).not.toContain(TEST_SECRET);
  });

  it('without COLLAB_SECRET generates one in the data dir (mode 0600) and keeps links working across restarts', async () => {
    const dataDir = await makeTempDir(teardown);
    const first = await spawnRelay(teardown, { COLLAB_DATA_DIR: dataDir, COLLAB_SECRET: '' });
    const secretPath = join(dataDir, 'secret');
    expect((await stat(secretPath)).mode & 0o777).toBe(0o600);
    const key = new Uint8Array(Buffer.from((await readFile(secretPath, 'utf8')).trim(), 'base64url'));
    const token = tokenIssuer(key)('kept');
    const before = connectClient(teardown, first, 'kept', { params: { token } });
    await waitForSync(before);
    first.child.kill('SIGTERM');
    await first.exited;

    const second = await spawnRelay(teardown, { COLLAB_DATA_DIR: dataDir, COLLAB_SECRET: '' });
    const after = connectClient(teardown, second, 'kept', { params: { token } });
    await waitForSync(after);
    expect(await readFile(secretPath, 'utf8')).toBe(`${Buffer.from(key).toString('base64url')}\n`);
  });

  it('[O3][S19] on SIGTERM flushes to disk, closes sockets with 1001 and exits 0', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await spawnRelay(teardown, { COLLAB_DATA_DIR: dataDir });
    const writer = connectClient(teardown, relay, 'term');
    const observer = connectClient(teardown, relay, 'term');
    await Promise.all([waitForSync(writer), waitForSync(observer)]);
    const closeCode = new Promise<number>((resolve) => {
      writer.provider.on('connection-close', (event) => resolve(event?.code ?? -1));
    });
    writer.text.insert(0, 'flushed on SIGTERM');
    await waitUntil(() => observer.text.toString() === 'flushed on SIGTERM');
    relay.child.kill('SIGTERM');
    expect(await relay.exited).toEqual({ code: 0, signal: null });
    expect(await closeCode).toBe(1001);
    writer.provider.destroy();
    observer.provider.destroy();

    const restarted = await spawnRelay(teardown, { COLLAB_DATA_DIR: dataDir });
    const reader = connectClient(teardown, restarted, 'term');
    await waitForSync(reader);
    expect(reader.text.toString()).toBe('flushed on SIGTERM');
  });

  it('[S15] keeps everything acknowledged as saved through kill -9', async () => {
    const dataDir = await makeTempDir(teardown);
    const relay = await spawnRelay(teardown, { COLLAB_DATA_DIR: dataDir });
    const writer = connectClient(teardown, relay, 'crash', { savedAcks: true });
    await waitForSync(writer);
    for (let i = 0; i < 100; i++) writer.text.insert(writer.text.length, `${i},`);
    await waitForSaved(writer);
    const expected = writer.text.toString();
    writer.provider.destroy();
    relay.child.kill('SIGKILL');
    expect((await relay.exited).signal).toBe('SIGKILL');

    const restarted = await spawnRelay(teardown, { COLLAB_DATA_DIR: dataDir });
    const reader = connectClient(teardown, restarted, 'crash');
    await waitForSync(reader);
    expect(reader.text.toString()).toBe(expected);
  });
});
