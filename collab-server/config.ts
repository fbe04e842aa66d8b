/**
 * Relay configuration from environment variables, validated with zod. An
 * invalid value is reported with the name of its variable.
 */
import { z } from 'zod';

import { isValidCidr } from './client-address';
import { SECRET_BYTES } from './secret';
import { RELAY_DEFAULTS, type RelayConfig } from './server';

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

const SECRET_RULE = `must be the base64url encoding of at least ${SECRET_BYTES} random bytes; \`npm run secret\` prints one`;
// 32 random bytes hold about 30 distinct values; a key with few is a pattern, not a secret.
const MIN_DISTINCT_SECRET_BYTES = 16;

const ENV_SCHEMA = z.object({
  COLLAB_HOST: z.string().trim().min(1).default(RELAY_DEFAULTS.host),
  COLLAB_PORT: integer(0, 65_535).default(RELAY_DEFAULTS.port),
  COLLAB_DATA_DIR: z.string().trim().min(1).default('./data'),
  COLLAB_MAX_MESSAGE_BYTES: integer(1_024, 256 * 1024 * 1024).default(RELAY_DEFAULTS.maxMessageBytes),
  COLLAB_HEARTBEAT_MS: integer(100, 600_000).default(RELAY_DEFAULTS.heartbeatIntervalMs),
  COLLAB_ROOM_IDLE_MS: integer(0, 3_600_000).default(RELAY_DEFAULTS.roomIdleMs),
  COLLAB_COMPACT_UPDATES: integer(1, 10_000_000).default(RELAY_DEFAULTS.compactAfterUpdates),
  COLLAB_COMPACT_BYTES: integer(1, 2 ** 40).default(RELAY_DEFAULTS.compactAfterBytes),
  COLLAB_MAX_BUFFERED_BYTES: integer(1_024, 2 ** 40).default(RELAY_DEFAULTS.maxBufferedBytes),
  COLLAB_MAX_DOC_BYTES: integer(1_024, 2 ** 40).default(RELAY_DEFAULTS.maxDocBytes),
  COLLAB_MAX_UNSAVED_BYTES: integer(1_024, 2 ** 40).default(RELAY_DEFAULTS.maxUnsavedBytes),
  COLLAB_WRITE_STALL_MS: integer(10, 3_600_000).default(RELAY_DEFAULTS.writeStallMs),
  COLLAB_LOAD_TIMEOUT_MS: integer(10, 3_600_000).default(RELAY_DEFAULTS.loadTimeoutMs),
  COLLAB_MAX_PENDING_UPGRADES: integer(1, 1_000_000).default(RELAY_DEFAULTS.maxPendingUpgrades),
  COLLAB_SHUTDOWN_TIMEOUT_MS: integer(0, 14_000).default(RELAY_DEFAULTS.shutdownTimeoutMs),
  COLLAB_MAX_AWARENESS_IDS_PER_CONNECTION: integer(1, 1_000).default(RELAY_DEFAULTS.maxAwarenessIdsPerConnection),
  COLLAB_MESSAGE_TIMEOUT_MS: integer(100, 3_600_000).default(RELAY_DEFAULTS.messageTimeoutMs),
  COLLAB_RATE_FRAMES_PER_SECOND: integer(1, 10_000_000).default(RELAY_DEFAULTS.rateFramesPerSecond),
  COLLAB_RATE_FRAME_BURST: integer(1, 100_000_000).default(RELAY_DEFAULTS.rateFrameBurst),
  COLLAB_RATE_BYTES_PER_SECOND: integer(1_024, 2 ** 40).default(RELAY_DEFAULTS.rateBytesPerSecond),
  COLLAB_RATE_BYTE_BURST: integer(1_024, 2 ** 40).default(RELAY_DEFAULTS.rateByteBurst),
  COLLAB_RATE_CLIENT_FACTOR: integer(1, 1_000_000).default(RELAY_DEFAULTS.rateClientFactor),
  COLLAB_RATE_TIME_MS_PER_SECOND: integer(1, 1_000).default(RELAY_DEFAULTS.rateTimeMsPerSecond),
  COLLAB_RATE_TIME_MS_BURST: integer(1, 3_600_000).default(RELAY_DEFAULTS.rateTimeMsBurst),
  COLLAB_SECRET: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]+$/, SECRET_RULE)
    .transform((value) => new Uint8Array(Buffer.from(value, 'base64url')))
    .refine((key) => key.length >= SECRET_BYTES && new Set(key).size >= MIN_DISTINCT_SECRET_BYTES, SECRET_RULE)
    .optional(),
  COLLAB_ALLOWED_ORIGINS: z
    .string()
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ })))
    .default([]),
  COLLAB_MAX_CONNECTIONS_PER_IP: integer(1, 1_000_000).default(RELAY_DEFAULTS.maxConnectionsPerIp),
  COLLAB_MAX_CONNECT_ATTEMPTS_PER_MINUTE: integer(1, 1_000_000).default(RELAY_DEFAULTS.maxConnectAttemptsPerMinute),
  COLLAB_MAX_API_REQUESTS_PER_MINUTE: integer(1, 1_000_000).default(RELAY_DEFAULTS.maxApiRequestsPerMinute),
  COLLAB_TRUSTED_PROXIES: z
    .string()
    .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine(isValidCidr, 'must be IP addresses or CIDR blocks, e.g. 10.0.0.0/8,::1')))
    .default([]),
  COLLAB_LOG_REQUESTS: z.stringbool().default(false),
  COLLAB_REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  COLLAB_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
  COLLAB_METRICS_PORT: integer(0, 65_535).optional(),
  COLLAB_METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  COLLAB_METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const APP_ENV_SCHEMA = ENV_SCHEMA.extend({
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: integer(0, 65_535).default(3000),
});

/** The validated environment of the relay process. */
export type RelayEnv = z.infer<typeof ENV_SCHEMA>;

/** Raised for an invalid environment; the message names every bad variable. */
export class ConfigError extends Error {
  readonly code = 'config';

  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The validated environment of `npm start` (web app and relay on one port). */
export type AppEnv = z.infer<typeof APP_ENV_SCHEMA>;

/** Parses the relay's variables out of `env`; empty strings count as unset. */
export function parseRelayEnv(env: Record<string, string | undefined>): RelayEnv {
  return checkedTogether(parseWith(ENV_SCHEMA, env), env);
}

/** Parses `npm start`'s variables: the relay's plus `HOST` and `PORT`. */
export function parseAppEnv(env: Record<string, string | undefined>): AppEnv {
  return checkedTogether(parseWith(APP_ENV_SCHEMA, env), env);
}

// Rules between variables, which zod's per-field schema cannot state.
function checkedTogether<T extends RelayEnv>(parsed: T, env: Record<string, string | undefined>): T {
  if (parsed.COLLAB_METRICS_PORT !== undefined && !LOOPBACK_HOSTS.has(parsed.COLLAB_METRICS_HOST) && !parsed.COLLAB_METRICS_TOKEN) {
    throw new ConfigError(
      `invalid configuration: COLLAB_METRICS_TOKEN="": required when COLLAB_METRICS_HOST=${JSON.stringify(parsed.COLLAB_METRICS_HOST)} ` +
        'is not a loopback address, or anyone who reaches that port reads the metrics',
    );
  }
  // Cluster mode takes both engines, and one signing key that every relay shares.
  if ((parsed.COLLAB_REDIS_URL === undefined) !== (parsed.COLLAB_DATABASE_URL === undefined)) {
    const missing = parsed.COLLAB_REDIS_URL === undefined ? 'COLLAB_REDIS_URL' : 'COLLAB_DATABASE_URL';
    const present = missing === 'COLLAB_REDIS_URL' ? 'COLLAB_DATABASE_URL' : 'COLLAB_REDIS_URL';
    throw new ConfigError(`invalid configuration: ${missing}="": required when ${present} is set (cluster mode needs Redis and PostgreSQL)`);
  }
  if (parsed.COLLAB_REDIS_URL !== undefined && parsed.COLLAB_SECRET === undefined) {
    throw new ConfigError(
      'invalid configuration: COLLAB_SECRET="": required in cluster mode (COLLAB_REDIS_URL is set), with the same value on every relay, ' +
        'or a link one relay signs fails on another; `npm run secret` prints one',
    );
  }
  if (parsed.COLLAB_RATE_BYTE_BURST < parsed.COLLAB_MAX_MESSAGE_BYTES) {
    throw new ConfigError(
      `invalid configuration: COLLAB_RATE_BYTE_BURST=${JSON.stringify(env.COLLAB_RATE_BYTE_BURST ?? '')}: ` +
        `must be at least COLLAB_MAX_MESSAGE_BYTES (${parsed.COLLAB_MAX_MESSAGE_BYTES}), or a message of the largest size could never pass`,
    );
  }
  return parsed;
}

function parseWith<T extends z.ZodTypeAny>(schema: T, env: Record<string, string | undefined>): z.infer<T> {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    return `${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/** The relay tunables named by the environment (host and port are the caller's). */
export function relayTunablesFromEnv(env: RelayEnv) {
  return {
    maxMessageBytes: env.COLLAB_MAX_MESSAGE_BYTES,
    heartbeatIntervalMs: env.COLLAB_HEARTBEAT_MS,
    roomIdleMs: env.COLLAB_ROOM_IDLE_MS,
    compactAfterUpdates: env.COLLAB_COMPACT_UPDATES,
    compactAfterBytes: env.COLLAB_COMPACT_BYTES,
    maxBufferedBytes: env.COLLAB_MAX_BUFFERED_BYTES,
    maxDocBytes: env.COLLAB_MAX_DOC_BYTES,
    maxUnsavedBytes: env.COLLAB_MAX_UNSAVED_BYTES,
    writeStallMs: env.COLLAB_WRITE_STALL_MS,
    loadTimeoutMs: env.COLLAB_LOAD_TIMEOUT_MS,
    maxPendingUpgrades: env.COLLAB_MAX_PENDING_UPGRADES,
    shutdownTimeoutMs: env.COLLAB_SHUTDOWN_TIMEOUT_MS,
    maxAwarenessIdsPerConnection: env.COLLAB_MAX_AWARENESS_IDS_PER_CONNECTION,
    messageTimeoutMs: env.COLLAB_MESSAGE_TIMEOUT_MS,
    rateFramesPerSecond: env.COLLAB_RATE_FRAMES_PER_SECOND,
    rateFrameBurst: env.COLLAB_RATE_FRAME_BURST,
    rateBytesPerSecond: env.COLLAB_RATE_BYTES_PER_SECOND,
    rateByteBurst: env.COLLAB_RATE_BYTE_BURST,
    rateClientFactor: env.COLLAB_RATE_CLIENT_FACTOR,
    rateTimeMsPerSecond: env.COLLAB_RATE_TIME_MS_PER_SECOND,
    rateTimeMsBurst: env.COLLAB_RATE_TIME_MS_BURST,
    maxConnectionsPerIp: env.COLLAB_MAX_CONNECTIONS_PER_IP,
    maxConnectAttemptsPerMinute: env.COLLAB_MAX_CONNECT_ATTEMPTS_PER_MINUTE,
    maxApiRequestsPerMinute: env.COLLAB_MAX_API_REQUESTS_PER_MINUTE,
    logRequestLines: env.COLLAB_LOG_REQUESTS,
  } satisfies Partial<RelayConfig>;
}
