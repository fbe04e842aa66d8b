/**
 * `npm run relay`: the relay on its own, configured by environment variables,
 * with structured logs on stdout and a graceful stop on SIGTERM / SIGINT.
 */
import { pino } from 'pino';

import { parseRelayEnv } from './config';
import { createRelay } from './server';
import { exitGracefullyOnSignals } from './shutdown';
import { openRelayDataDir, parseEnvOrExit } from './startup';

async function main(): Promise<void> {
  const env = parseEnvOrExit(parseRelayEnv, 'inkwell relay');
  const logger = pino({ level: env.LOG_LEVEL, base: { service: 'inkwell-relay' } });
  const { dataDir, relayOptions } = await openRelayDataDir(env);
  const relay = await createRelay({ ...relayOptions, logger, host: env.COLLAB_HOST, port: env.COLLAB_PORT });
  // The ready line is printed whatever LOG_LEVEL says: scripts and tests wait for it.
  logger.child({}, { level: 'info' }).info({ dataDir, url: relay.url }, `listening on ${relay.url}`);

  exitGracefullyOnSignals({ logger, close: () => relay.close() });
}

main().catch((error: unknown) => {
  console.error('inkwell relay: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
