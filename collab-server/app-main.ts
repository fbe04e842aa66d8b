/**
 * `npm start`: the web app and the relay on ONE port. Next.js serves pages;
 * the relay takes WebSocket upgrades under /collab/<docId> plus /healthz
 * (metrics have a listener of their own), so one reverse proxy (and one TLS
 * certificate) fronts both.
 * Builds the app first when no build exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { pino } from 'pino';

import { BASE_SECURITY_HEADERS } from '../lib/security-headers';
import { parseAppEnv } from './config';
import { createRelayEndpoint } from './server';
import { exitGracefullyOnSignals } from './shutdown';
import { openRelayStorage, parseEnvOrExit, startMetricsIfConfigured } from './startup';

const REPO_ROOT = findPackageRoot(fileURLToPath(new URL('.', import.meta.url)));
const RELAY_PATH_PREFIX = '/collab';

// This file runs from collab-server/ (tsx) or from its compiled copy in dist/server/.
function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

function buildIfMissing(): void {
  if (existsSync(resolve(REPO_ROOT, '.next', 'BUILD_ID'))) return;
  console.log('inkwell: no production build found; running `next build` (takes a minute or two)…');
  const result = spawnSync(process.execPath, [resolve(REPO_ROOT, 'node_modules/next/dist/bin/next'), 'build', '--webpack'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (result.status !== 0) {
    console.error('inkwell: `next build` failed');
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const env = parseEnvOrExit(parseAppEnv, 'inkwell');
  process.env.NEXT_TELEMETRY_DISABLED = '1';
  buildIfMissing();

  const logger = pino({ level: env.LOG_LEVEL, base: { service: 'inkwell' } });
  const { storage, relayOptions } = await openRelayStorage(env, logger);
  const relay = createRelayEndpoint({ ...relayOptions, logger, pathPrefix: RELAY_PATH_PREFIX });

  const app = next({ dev: false, dir: REPO_ROOT, hostname: env.HOST, port: env.PORT });
  await app.prepare();
  const handlePage = app.getRequestHandler();

  const server = createServer((request, response) => {
    // Set before anyone answers, so static files and Next's own errors carry them too; the relay
    // adds its API policy and proxy.ts the page CSP on top.
    for (const [name, value] of Object.entries(BASE_SECURITY_HEADERS)) response.setHeader(name, value);
    if (relay.handleRequest(request, response)) return;
    handlePage(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'page request failed');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  server.on('upgrade', (request, socket, head) => {
    if (request.url?.startsWith(`${RELAY_PATH_PREFIX}/`)) relay.handleUpgrade(request, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(env.PORT, env.HOST, () => resolveListen());
  });
  const metricsServer = await startMetricsIfConfigured(env, relay.metrics, logger);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const readyLog = logger.child({}, { level: 'info' });
  if (metricsServer) readyLog.info({ url: metricsServer.url }, `metrics on ${metricsServer.url}`);
  readyLog.info({ storage, url }, `Inkwell ready on ${url} (relay at ${url.replace('http', 'ws')}${RELAY_PATH_PREFIX}; ${storage})`);

  exitGracefullyOnSignals({
    logger,
    close: async () => {
      server.close();
      await relay.close();
      await metricsServer?.close();
    },
  });
}

main().catch((error: unknown) => {
  console.error('inkwell: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
