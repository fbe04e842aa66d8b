/**
 * `npm run relay`: the relay on its own, configured by environment variables,
 * with structured logs on stdout and a graceful stop on SIGTERM / SIGINT.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';

import { ConfigError, parseRelayEnv, relayTunablesFromEnv, type RelayEnv } from './config';
import { createRelay } from './server';
import { loadOrCreateSecret } from './secret';
import { exitGracefullyOnSignals } from './shutdown';
import { openLevelStore } from './storage/leveldb';

async function main(): Promise<void> {
  let env: RelayEnv;
  try {
    env = parseRelayEnv(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`inkwell relay: ${error.message}`);
    process.exit(1);
  }
  const logger = pino({ level: env.LOG_LEVEL, base: { service: 'inkwell-relay' } });
  const dataDir = resolve(env.COLLAB_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const secret = await loadOrCreateSecret({ dataDir, fromEnv: env.COLLAB_SECRET });
  const store = await openLevelStore({ dir: `${dataDir}/leveldb` });
  const relay = await createRelay({
    store,
    secret,
    allowedOrigins: env.COLLAB_ALLOWED_ORIGINS,
    logger,
    host: env.COLLAB_HOST,
    port: env.COLLAB_PORT,
    ...relayTunablesFromEnv(env),
  });
  // The ready line is printed whatever LOG_LEVEL says: scripts and tests wait for it.
  logger.child({}, { level: 'info' }).info({ dataDir, url: relay.url }, `listening on ${relay.url}`);

  exitGracefullyOnSignals({ logger, close: () => relay.close() });
}

main().catch((error: unknown) => {
  console.error('inkwell relay: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
