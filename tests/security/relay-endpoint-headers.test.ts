/**
 * Attack: a page elsewhere loads the standalone relay's (`npm run relay`) data endpoints as a
 * document, a script or a frame (MIME sniffing, clickjacking, referrer leaks). Each test
 * names the rule of lib/security-headers.ts it checks.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

import { Teardown, makeTempDir, startRelay, type TestRelay } from '../helpers/relay';

const teardown = new Teardown();
afterEach(() => teardown.run());

const API_POLICY = "default-src 'none'; frame-ancestors 'none'";

async function startTestRelay(): Promise<TestRelay> {
  return startRelay(teardown, { dataDir: await makeTempDir(teardown) });
}

function expectApiHeaders(headers: { get(name: string): string | null }, what: string): void {
  expect(headers.get('content-security-policy'), what).toBe(API_POLICY);
  expect(headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(headers.get('referrer-policy'), what).toBe('no-referrer');
  const permissions = headers.get('permissions-policy') ?? '';
  for (const denied of ['camera=()', 'microphone=()', 'geolocation=()', 'payment=()', 'usb=()']) expect(permissions, what).toContain(denied);
}

/** The headers of the refusal the relay answers a token-less upgrade with. */
function refusedUpgradeHeaders(url: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0, headers: response.headers });
      socket.terminate();
    });
    socket.on('open', () => {
      socket.terminate();
      reject(new Error('upgrade was accepted'));
    });
    socket.on('error', () => undefined);
  });
}

describe('standalone relay endpoint headers', () => {
  it('[H1][H2] /healthz, and /metrics and unknown paths (both 404 on the public port), answer with nosniff, no-referrer, the Permissions-Policy and the API CSP', async () => {
    const relay = await startTestRelay();
    for (const [path, status] of [
      ['/healthz', 200],
      ['/metrics', 404],
      ['/no-such-endpoint', 404],
    ] as const) {
      const response = await fetch(`http://127.0.0.1:${relay.port}${path}`);
      expect(response.status, path).toBe(status);
      expectApiHeaders(response.headers, path);
    }
  });

  it('[H1][H2] the links API carries the same headers on success and on every error status', async () => {
    const relay = await startTestRelay();
    const base = `http://127.0.0.1:${relay.port}/api`;
    const json = { 'Content-Type': 'application/json' };
    const requests: [string, RequestInit, number][] = [
      ['/documents', { method: 'POST', headers: json, body: '{}' }, 201],
      ['/documents', { method: 'GET' }, 405],
      ['/documents', { method: 'POST', body: '{}' }, 415],
      ['/links', { method: 'POST', headers: json, body: 'not json' }, 400],
      ['/links', { method: 'POST', headers: json, body: JSON.stringify({ docId: 'doc-1', token: 'forged' }) }, 401],
    ];
    for (const [path, init, status] of requests) {
      const response = await fetch(`${base}${path}`, init);
      expect(response.status, path).toBe(status);
      expect(response.headers.get('content-type'), path).toBe('application/json; charset=utf-8');
      expectApiHeaders(response.headers, `${init.method ?? 'GET'} ${path}`);
    }
  });

  it('[H1][H2] a refused WebSocket upgrade carries the headers too', async () => {
    const relay = await startTestRelay();
    const { status, headers } = await refusedUpgradeHeaders(`${relay.url}/doc-1`);
    expect(status).toBe(401);
    expectApiHeaders({ get: (name) => (headers[name] as string | undefined) ?? null }, 'refused upgrade');
  });
});
