/**
 * Cluster mode assembled: the connections to Redis and PostgreSQL, the shared
 * store (with its compactor), and the feed that keeps this relay's rooms in
 * step with the other relay processes. `openCluster` checks that Redis keeps
 * acknowledged appends and migrates the schema before the relay takes a
 * connection; closing the store closes all of it.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import pg from 'pg';

import type { DocId } from '../../lib/ids';
import type { Logger } from '../logger';
import type { Room } from '../room';
import type { RoomFeed, RoomFeedLink } from '../room-feed';
import type { DocStore, StoredDoc } from '../storage/doc-store';
import { Compactor, type CompactionStep } from './compactor';
import { LogTail } from './log-tail';
import { migrate } from './postgres-schema';
import { PresenceBus } from './presence-bus';
import { connectRedis, duplicateRedis, durabilityProblem, redactUrl } from './redis-connection';
import { RedisPgStore } from './redis-pg-store';

/** How often a relay renews its heartbeat; a dead relay's cursors go within about three of these. */
export const DEFAULT_PRESENCE_HEARTBEAT_MS = 1_000;

/** Options of `openCluster`. */
export interface ClusterOptions {
  readonly redisUrl: string;
  readonly databaseUrl: string;
  readonly logger: Logger;
  readonly compactAfterUpdates: number;
  readonly compactAfterBytes: number;
  readonly presenceHeartbeatMs?: number;
  /** This process's id in the cluster; a fresh one by default. */
  readonly processId?: string;
  /** Reports each completed step of a compaction (logs; tests of crashes between steps). */
  readonly onCompactionStep?: (docId: DocId, step: CompactionStep) => Promise<void> | void;
}

/** A relay process's part of the cluster. */
export interface Cluster {
  readonly processId: string;
  /** The shared store; closing it closes the cluster's connections too. */
  readonly store: ClusterDocStore;
  readonly feed: RoomFeed;
}

/** Raised when cluster mode cannot start; the message names the variable or setting at fault. */
export class ClusterStartError extends Error {
  readonly code = 'cluster-start';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterStartError';
  }
}

/** Connects to Redis and PostgreSQL, checks Redis's durability settings, migrates the schema. */
export async function openCluster(options: ClusterOptions): Promise<Cluster> {
  const { logger } = options;
  const processId = options.processId ?? randomUUID();
  let commands: Redis;
  try {
    commands = await connectRedis(options.redisUrl, { name: `inkwell-${processId}`, logger });
  } catch (error) {
    throw new ClusterStartError(`COLLAB_REDIS_URL: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const problem = await durabilityProblem(commands);
  if (problem) {
    commands.disconnect();
    throw new ClusterStartError(`COLLAB_REDIS_URL: ${problem} (server ${redactUrl(options.redisUrl)})`);
  }
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: 8,
    connectionTimeoutMillis: 5_000,
    // A hung server must not hold a compaction's lease or a load forever.
    query_timeout: 30_000,
  });
  // Idle clients report a server that went away here; without a listener the process would exit.
  pool.on('error', (error) => logger.warn({ err: error }, 'PostgreSQL connection lost'));
  try {
    const applied = await migrate(pool);
    if (applied.length > 0) logger.info({ versions: applied }, 'migrated the PostgreSQL schema');
  } catch (error) {
    commands.disconnect();
    await pool.end().catch(() => undefined);
    throw new ClusterStartError(`COLLAB_DATABASE_URL: cannot prepare the schema at ${redactUrl(options.databaseUrl)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const blocking = await duplicateRedis(commands, { name: `inkwell-${processId}-log`, logger, isBlocking: true });
  const subscriber = await duplicateRedis(commands, { name: `inkwell-${processId}-presence`, logger });

  const base = new RedisPgStore({ redis: commands, pool, processId, logger });
  const compactor = new Compactor({
    store: base,
    redis: commands,
    processId,
    logger,
    compactAfterUpdates: options.compactAfterUpdates,
    compactAfterBytes: options.compactAfterBytes,
    onStep: options.onCompactionStep,
  });
  const tail = new LogTail({ blocking, commands, processId, logger });
  const presence = new PresenceBus({ subscriber, commands, processId, logger, heartbeatMs: options.presenceHeartbeatMs ?? DEFAULT_PRESENCE_HEARTBEAT_MS });
  const store = new ClusterDocStore({
    base,
    compactor,
    closeConnections: async () => {
      await tail.close();
      await presence.close();
      for (const redis of [blocking, subscriber, commands]) redis.disconnect();
      await pool.end().catch(() => undefined);
    },
  });
  const feed: RoomFeed = {
    open: (docId) => openFeedLink({ docId, tail, presence }),
    health: () => base.durabilityFailure ?? tail.health ?? compactor.health,
  };
  logger.info({ processId, redis: redactUrl(options.redisUrl), database: redactUrl(options.databaseUrl) }, 'cluster mode: Redis and PostgreSQL ready');
  return { processId, store, feed };
}

/** The store rooms use in cluster mode: `RedisPgStore`, with compaction started by what it sees. */
export class ClusterDocStore implements DocStore {
  readonly sharedLog: { noteIdle(docId: DocId): void };

  constructor(private readonly parts: { base: RedisPgStore; compactor: Compactor; closeConnections: () => Promise<void> }) {
    this.sharedLog = { noteIdle: (docId) => parts.compactor.noteIdle(docId) };
  }

  /** Compacts now, under the lease (tests, the compaction command). */
  get compactor(): Compactor {
    return this.parts.compactor;
  }

  async load(docId: DocId): Promise<StoredDoc> {
    const stored = await this.parts.base.load(docId);
    this.parts.compactor.noteLoaded(docId, stored);
    return stored;
  }

  async appendUpdates(docId: DocId, updates: readonly Uint8Array[]): Promise<number> {
    const lastSeq = await this.parts.base.appendUpdates(docId, updates);
    this.parts.compactor.considerAfterAppend(docId, lastSeq, updates.reduce((sum, update) => sum + update.byteLength, 0));
    return lastSeq;
  }

  compact(docId: DocId, options: { snapshot: Uint8Array; stateVector: Uint8Array; throughSeq: number }): Promise<void> {
    return this.parts.base.compact(docId, options);
  }

  loadLinksResetAt(docId: DocId): Promise<number> {
    return this.parts.base.loadLinksResetAt(docId);
  }

  resetLinks(docId: DocId, at: number): Promise<number> {
    return this.parts.base.resetLinks(docId, at);
  }

  async close(): Promise<void> {
    // Compactions first, while the store still serves them: rooms unloading at shutdown have just started theirs.
    await this.parts.compactor.close();
    await this.parts.base.close();
    await this.parts.closeConnections();
  }
}

// Presence flows from subscription on; content from `start`, at the position the load read.
async function openFeedLink(options: { docId: DocId; tail: LogTail; presence: PresenceBus }): Promise<RoomFeedLink> {
  const { docId, tail, presence } = options;
  let target: Room | null = null;
  let unfollow: (() => void) | null = null;
  const leave = await presence.join(docId, {
    // Before the room exists these are dropped: it asks for every state once it starts.
    onRemoteStates: (update, origin) => target?.applyRemotePresence(update, origin),
    onStatesRequested: () => {
      const states = target?.localPresence();
      if (states) presence.publish(docId, states);
    },
    onOwnerChanged: (origin, keep) => target?.dropRemotePresence(origin, keep),
  });
  return {
    start(room, fromSeq, reload) {
      target = room;
      unfollow = tail.follow(docId, fromSeq, {
        onEntries: (entries) => {
          for (const entry of entries) {
            if (entry.kind === 'u') room.applyRemoteUpdate(entry.payload);
            else room.noteLinksReset(Number(entry.payload.toString()));
          }
        },
        onGap: async () => {
          const stored = await reload();
          room.catchUp(stored);
          return stored.lastSeq;
        },
      });
      presence.requestStates(docId);
    },
    publishPresence: (update, ownedIds) => presence.publish(docId, update, ownedIds),
    close() {
      target = null;
      unfollow?.();
      leave();
    },
  };
}
