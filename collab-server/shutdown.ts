/** Graceful stop on SIGTERM / SIGINT for the relay's entry points. */
import type { Logger } from './logger';

const SHUTDOWN_TIMEOUT_MS = 15_000;

/**
 * On the first SIGTERM or SIGINT, runs `close` (flush to disk, close sockets)
 * and exits 0; exits 1 if it fails or takes longer than 15 s.
 */
export function exitGracefullyOnSignals(options: { logger: Logger; close: () => Promise<void> }): void {
  const { logger, close } = options;
  let isStopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (isStopping) return;
    isStopping = true;
    logger.info({ signal }, 'stopping: flushing documents to disk');
    setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
