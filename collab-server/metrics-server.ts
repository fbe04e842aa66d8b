/**
 * `/metrics` on a listener of its own, never on the public port: connection and
 * room counts, traffic and refusals tell an outsider how busy the relay is and
 * whether an attack works. Bound to 127.0.0.1 by default (a local agent scrapes
 * it); bound anywhere else it must have a bearer token.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { API_SECURITY_HEADERS } from '../lib/security-headers';
import type { Logger } from './logger';
import type { RelayMetrics } from './metrics';

/** Where and how metrics are served. */
export interface MetricsListenOptions {
  readonly host: string;
  readonly port: number;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  readonly token?: string;
}

/** A running metrics listener. */
export interface MetricsServer {
  /** `http://host:port/metrics` */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts serving `metrics` at `/metrics` on `options.host:options.port` (0 picks a free port). */
export async function startMetricsServer(metrics: RelayMetrics, options: MetricsListenOptions & { logger: Logger }): Promise<MetricsServer> {
  const expected = options.token === undefined ? null : Buffer.from(`Bearer ${options.token}`);
  const server: Server = createServer((request, response) => {
    const reply = (status: number, contentType: string, body: string): void => {
      response.writeHead(status, { ...API_SECURITY_HEADERS, 'Content-Type': contentType, 'Cache-Control': 'no-store' });
      response.end(body);
    };
    if (request.method !== 'GET' || new URL(request.url ?? '/', 'http://metrics.invalid').pathname !== '/metrics') {
      reply(404, 'text/plain; charset=utf-8', 'not found');
      return;
    }
    if (expected && !isSameSecret(request.headers.authorization, expected)) {
      response.setHeader('WWW-Authenticate', 'Bearer');
      reply(401, 'text/plain; charset=utf-8', 'unauthorized');
      return;
    }
    metrics.registry.metrics().then(
      (text) => reply(200, metrics.registry.contentType, text),
      (error: unknown) => {
        options.logger.error({ err: error }, 'metrics collection failed');
        reply(500, 'text/plain; charset=utf-8', 'metrics collection failed');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function isSameSecret(given: string | undefined, expected: Buffer): boolean {
  const candidate = Buffer.from(given ?? '');
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}
