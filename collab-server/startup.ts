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

/** Opens the data dir (LevelDB and the signing secret) and gathers the relay options the environment sets. */
export async function openRelayDataDir(env: RelayEnv): Promise<{ dataDir: string; relayOptions: CreateRelayOptions }> {
  const dataDir = resolve(env.COLLAB_DATA_DIR);
  // Owner-only: the data dir holds every document and, unless COLLAB_SECRET is set, the signing secret.
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const secret = await loadOrCreateSecret({ dataDir, fromEnv: env.COLLAB_SECRET });
  const levelDir = `${dataDir}/leveldb`;
  mkdirSync(levelDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const store = await openLevelStore({ dir: levelDir });
  return {
    dataDir,
    relayOptions: {
      store,
      secret,
      allowedOrigins: env.COLLAB_ALLOWED_ORIGINS,
      trustedProxies: env.COLLAB_TRUSTED_PROXIES,
      ...relayTunablesFromEnv(env),
    },
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
