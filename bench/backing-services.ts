/**
 * Redis and PostgreSQL for the server kinds that need them (the cluster relays,
 * Hocuspocus with its Redis extension), private to the benchmark: the test
 * helpers' servers, on free ports in temp dirs (Redis with `appendonly yes` and
 * `appendfsync always`, PostgreSQL with fsync on).
 *
 * Lifetimes: a fresh Redis per measurement (its AOF starts empty, so no AOF
 * rewrite from earlier measurements runs in a later one), and one PostgreSQL
 * per run (initdb takes seconds), emptied before each measurement. Both outlive
 * the relay restarts inside S4 and S6.
 */
import { emptyClusterServers } from '../tests/helpers/cluster';
import { startPostgres, type PostgresServer } from '../tests/helpers/postgres-server';
import { startRedis, type RedisServer } from '../tests/helpers/redis-server';

/** What one measurement's servers share. */
export interface Backing {
  readonly redis: RedisServer;
  /** Null for kinds that need only Redis. */
  readonly postgres: PostgresServer | null;
}

/** Starts what a measurement needs, and stops it afterwards; `close` stops PostgreSQL at the end of the run. */
export class BackingServices {
  private postgres: Promise<PostgresServer> | null = null;

  /** A fresh Redis, plus the run's PostgreSQL (emptied) when `needsPostgres`. */
  async start(needsPostgres: boolean): Promise<Backing> {
    const redis = await startRedis();
    if (!needsPostgres) return { redis, postgres: null };
    try {
      this.postgres ??= startPostgres();
      const postgres = await this.postgres;
      await emptyClusterServers(redis.url, postgres.url);
      return { redis, postgres };
    } catch (error) {
      await redis.dispose();
      throw error;
    }
  }

  /** Stops what `start` started for one measurement (PostgreSQL stays for the next). */
  async stop(backing: Backing): Promise<void> {
    await backing.redis.dispose();
  }

  async close(): Promise<void> {
    const postgres = this.postgres;
    this.postgres = null;
    if (postgres) await (await postgres).dispose();
  }
}
