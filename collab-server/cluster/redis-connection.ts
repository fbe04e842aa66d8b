/**
 * Redis connections of cluster mode, and the check that Redis makes every
 * acknowledged append durable: `appendonly yes` with `appendfsync always`, so
 * a reply to an append comes only after its AOF write was fsynced (Redis
 * commits all appends of one event-loop turn with one fsync).
 */
import { Redis, type RedisOptions } from 'ioredis';

import type { Logger } from '../logger';

/** Options every cluster connection shares. */
const CONNECTION_OPTIONS = {
  // Appends fail at once while Redis is unreachable instead of queueing unboundedly:
  // the room keeps them, says "not saved", and retries with backoff.
  enableOfflineQueue: false,
  // Commands issued in one event-loop turn go out as one write (one AOF fsync for all).
  enableAutoPipelining: true,
  maxRetriesPerRequest: 2,
  connectTimeout: 5_000,
  retryStrategy: (attempt: number) => Math.min(100 * attempt, 2_000),
  lazyConnect: true,
} satisfies RedisOptions;

/** Opens a connection to `url` and waits until it is ready; rejects when Redis cannot be reached. */
export async function connectRedis(url: string, options: { name: string; logger: Logger }): Promise<Redis> {
  const redis = new Redis(url, { ...CONNECTION_OPTIONS, connectionName: options.name });
  // ioredis rejects `connect()` with a bare "Connection is closed."; the socket's own error says why (ECONNREFUSED, ENOTFOUND…).
  let socketError: Error | null = null;
  // Without a listener ioredis logs every failed reconnect to stderr; health is reported elsewhere.
  redis.on('error', (error: Error) => {
    socketError = error;
    options.logger.debug({ err: error, connection: options.name }, 'redis connection error');
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const reason = socketError ?? error;
    throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${reason instanceof Error ? reason.message : String(reason)}`, { cause: reason });
  }
  return redis;
}

/**
 * A second connection to the same server (blocking reads and subscriptions need
 * their own). A blocking read must go out in the turn it is issued, unpipelined,
 * so a wake-up sent after it cannot overtake it.
 */
export async function duplicateRedis(redis: Redis, options: { name: string; logger: Logger; isBlocking?: boolean }): Promise<Redis> {
  const copy = redis.duplicate({ connectionName: options.name, lazyConnect: true, enableAutoPipelining: !options.isBlocking });
  copy.on('error', (error: Error) => options.logger.debug({ err: error, connection: options.name }, 'redis connection error'));
  await copy.connect();
  return copy;
}

/**
 * Why Redis would lose acknowledged appends, naming the setting, or null when
 * it is configured to keep them.
 */
export async function durabilityProblem(redis: Redis): Promise<string | null> {
  let settings: Record<string, string>;
  try {
    const replies = await Promise.all(['appendonly', 'appendfsync', 'maxmemory', 'maxmemory-policy'].map((name) => redis.config('GET', name) as Promise<string[]>));
    settings = Object.fromEntries(replies.flatMap((reply) => [...pairs(reply)]));
  } catch (error) {
    return `cannot read the Redis settings appendonly, appendfsync and maxmemory-policy (CONFIG GET: ${error instanceof Error ? error.message : String(error)})`;
  }
  if (settings.appendonly !== 'yes') {
    return `Redis runs with appendonly ${settings.appendonly ?? '(unknown)'}; cluster mode needs appendonly yes and appendfsync always, so that an acknowledged update is on disk`;
  }
  if (settings.appendfsync !== 'always') {
    return `Redis runs with appendfsync ${settings.appendfsync ?? '(unknown)'}; cluster mode needs appendfsync always, so that an acknowledged update is on disk`;
  }
  // A memory limit with eviction would let Redis drop logged updates that were acknowledged.
  if (settings.maxmemory !== '0' && settings['maxmemory-policy'] !== 'noeviction') {
    return `Redis runs with maxmemory ${settings.maxmemory ?? '(unknown)'} and maxmemory-policy ${settings['maxmemory-policy'] ?? '(unknown)'}; cluster mode needs maxmemory-policy noeviction (or no maxmemory), or Redis may evict acknowledged updates`;
  }
  return null;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function* pairs(flat: readonly string[]): Generator<[string, string]> {
  for (let index = 0; index + 1 < flat.length; index += 2) yield [flat[index]!, flat[index + 1]!];
}
