/**
 * `npm run relay`: the relay on its own, configured by environment variables,
 * with structured logs on stdout and a graceful stop on SIGTERM / SIGINT.
 */
import { pino } from 'pino';

import { parseRelayEnv } from './config';
import { createRelay } from './server';
import { exitGracefullyOnSignals } from './shutdown';
import { openRelayStorage, parseEnvOrExit, startMetricsIfConfigured } from './startup';

async function main(): Promise<void> {
  const env = parseEnvOrExit(parseRelayEnv, 'inkwell relay');
  const logger = pino({ level: env.LOG_LEVEL, base: { service: 'inkwell-relay' } });
  const { storage, relayOptions } = await openRelayStorage(env, logger);
  const relay = await createRelay({ ...relayOptions, logger, host: env.COLLAB_HOST, port: env.COLLAB_PORT });
  const metricsServer = await startMetricsIfConfigured(env, relay.metrics, logger);
  // The ready lines are printed whatever LOG_LEVEL says: scripts and tests wait for them.
  const readyLog = logger.child({}, { level: 'info' });
  if (metricsServer) readyLog.info({ url: metricsServer.url }, `metrics on ${metricsServer.url}`);
  readyLog.info({ storage, url: relay.url }, `listening on ${relay.url} (${storage})`);

  exitGracefullyOnSignals({
    logger,
    close: async () => {
      await relay.close();
      await metricsServer?.close();
    },
  });
}

main().catch((error: unknown) => {
  console.error('inkwell relay: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
