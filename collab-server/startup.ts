/** Start-up steps shared by the entry points (`npm run relay`, `npm start`). */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

import { ConfigError, relayTunablesFromEnv, type RelayEnv } from './config';
import type { Logger } from './logger';
import type { RelayMetrics } from './metrics';
import { startMetricsServer, type MetricsServer } from './metrics-server';
import { loadOrCreateSecret } from './secret';
import type { CreateRelayOptions } from './server';
import { openLevelStore } from './storage/leveldb';
import { openCluster } from './cluster/cluster';

const PRIVATE_DIR_MODE = 0o700;

/** Parses the environment, or prints the error (naming the variable) and exits 1. */
export function parseEnvOrExit<T>(parse: (env: NodeJS.ProcessEnv) => T, label: string): T {
  try {
    return parse(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${label}: ${error.message}`);
    process.exit(1);
  }
}

/** The relay's storage, opened, with the options that go with it. */
export interface OpenedStorage {
  /** Where documents live, for the ready line: `LevelDB in <dir>`, or `cluster mode, process <id>`. */
  readonly storage: string;
  readonly relayOptions: CreateRelayOptions;
}

/**
 * Opens the relay's storage: LevelDB in the data dir (with the signing secret),
 * or, in cluster mode, Redis and PostgreSQL. Gathers the relay options the environment sets.
 */
export async function openRelayStorage(env: RelayEnv, logger: Logger): Promise<OpenedStorage> {
  if (env.COLLAB_REDIS_URL !== undefined && env.COLLAB_DATABASE_URL !== undefined && env.COLLAB_SECRET !== undefined) {
    const cluster = await openCluster({
      redisUrl: env.COLLAB_REDIS_URL,
      databaseUrl: env.COLLAB_DATABASE_URL,
      logger,
      compactAfterUpdates: env.COLLAB_COMPACT_UPDATES,
      compactAfterBytes: env.COLLAB_COMPACT_BYTES,
    });
    return { storage: `cluster mode, process ${cluster.processId}`, relayOptions: { ...commonOptions(env), store: cluster.store, feed: cluster.feed, secret: env.COLLAB_SECRET } };
  }
  const dataDir = resolve(env.COLLAB_DATA_DIR);
  // Owner-only: the data dir holds every document and, unless COLLAB_SECRET is set, the signing secret.
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const secret = await loadOrCreateSecret({ dataDir, fromEnv: env.COLLAB_SECRET });
  const levelDir = `${dataDir}/leveldb`;
  mkdirSync(levelDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const store = await openLevelStore({ dir: levelDir });
  return { storage: `LevelDB in ${dataDir}`, relayOptions: { ...commonOptions(env), store, secret } };
}

function commonOptions(env: RelayEnv) {
  return {
    allowedOrigins: env.COLLAB_ALLOWED_ORIGINS,
    trustedProxies: env.COLLAB_TRUSTED_PROXIES,
    ...relayTunablesFromEnv(env),
  };
}

/** Starts the metrics listener when COLLAB_METRICS_PORT is set; returns it, or null. */
export async function startMetricsIfConfigured(env: RelayEnv, metrics: RelayMetrics, logger: Logger): Promise<MetricsServer | null> {
  if (env.COLLAB_METRICS_PORT === undefined) return null;
  const server = await startMetricsServer(metrics, {
    host: env.COLLAB_METRICS_HOST,
    port: env.COLLAB_METRICS_PORT,
    token: env.COLLAB_METRICS_TOKEN,
    logger,
  });
  return server;
}
