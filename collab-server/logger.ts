/** The one logger shape injected into the relay (pino satisfies it). */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(fields: object): Logger;
}

/** A logger that drops everything, for tests that do not inspect logs. */
export function createSilentLogger(): Logger {
  const silent: Logger = {
    debug() {},
    info() {},
    warn() {},
    error() {},
    child: () => silent,
  };
  return silent;
}
