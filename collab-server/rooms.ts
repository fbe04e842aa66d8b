/**
 * The registry of loaded rooms: get-or-load with single flight (two peers that
 * arrive at once on a cold document share one load), and unload of rooms that
 * stayed empty for a grace period, once everything they hold is on disk. A
 * room whose writes fail stays loaded (and reusable) until they succeed; the
 * registry reports which rooms cannot write, for /healthz.
 */
import type { DocId } from '../lib/ids';
import type { Logger } from './logger';
import type { RelayMetrics } from './metrics';
import { Room, type RoomLimits } from './room';
import type { RoomFeed, RoomFeedLink } from './room-feed';
import type { DocStore } from './storage/doc-store';

/** Options of `RoomRegistry`. */
export interface RoomRegistryOptions {
  readonly store: DocStore;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly roomIdleMs: number;
  readonly roomLimits: RoomLimits;
  readonly events?: RoomRegistryEvents;
  /** Cluster mode: changes made on other relay processes. */
  readonly feed?: RoomFeed;
}

type RoomSlot =
  // `linksResetAt`: a reset of the links noted during the load, which may have read the older time.
  | { readonly state: 'loading'; readonly ready: Promise<Room>; linksResetAt: number }
  | { readonly state: 'loaded'; readonly room: Room; idleTimer: NodeJS.Timeout | null }
  // Writing what it holds before it is freed; a peer arriving meanwhile takes it back.
  | { readonly state: 'unloading'; readonly room: Room }
  // Damaged in memory: writing what it queued, then freed; a peer arriving meanwhile waits and loads afresh.
  | { readonly state: 'evicting'; readonly done: Promise<void> };

/** Why storage is failing, by what failed, or nothing while it works. */
export type StorageHealth = { readonly state: 'ok' } | { readonly state: 'degraded'; readonly reason: string };

/** What the registry reports to its owner. */
export interface RoomRegistryEvents {
  /** Storage health changed. */
  readonly onHealthChange?: (health: StorageHealth) => void;
}

/** Loads, shares and unloads rooms. */
export class RoomRegistry {
  private readonly slots = new Map<DocId, RoomSlot>();
  /** What is failing: `load`, or a document whose writes fail, with the reason. */
  private readonly failures = new Map<string, string>();
  private readonly feedLinks = new Map<Room, RoomFeedLink>();

  constructor(private readonly options: RoomRegistryOptions) {}

  /** Returns the loaded room for `docId`, loading it if needed. */
  acquire(docId: DocId): Promise<Room> {
    const slot = this.slots.get(docId);
    if (!slot) return this.load(docId);
    switch (slot.state) {
      case 'loading':
        return slot.ready;
      case 'loaded':
        if (slot.idleTimer) clearTimeout(slot.idleTimer);
        slot.idleTimer = null;
        return Promise.resolve(slot.room);
      case 'unloading':
        // Still in memory, and complete: take it back instead of waiting for storage.
        this.slots.set(docId, { state: 'loaded', room: slot.room, idleTimer: null });
        return Promise.resolve(slot.room);
      case 'evicting':
        return slot.done.then(() => this.acquire(docId));
      default:
        return assertNeverSlot(slot);
    }
  }

  /** Whether storage works, and if not, one reason (the first that failed). */
  health(): StorageHealth {
    const [first] = this.failures;
    if (!first) {
      const feedFailure = this.options.feed?.health() ?? null;
      return feedFailure === null ? { state: 'ok' } : { state: 'degraded', reason: feedFailure };
    }
    const [what, reason] = first;
    return { state: 'degraded', reason: this.failures.size === 1 ? `${what}: ${reason}` : `${what}: ${reason} (and ${this.failures.size - 1} more)` };
  }

  /** Documents whose changes are not all on disk (loaded rooms with unsaved changes). */
  unsavedDocIds(): DocId[] {
    return [...this.slots.entries()].flatMap(([docId, slot]) => ('room' in slot && slot.room.hasUnsavedChanges ? [docId] : []));
  }

  /** Call when a peer left `room`: starts the unload grace period if it is now empty. */
  release(room: Room): void {
    const slot = this.slots.get(room.docId);
    if (slot?.state !== 'loaded' || slot.room !== room || room.peerCount > 0 || slot.idleTimer) return;
    slot.idleTimer = setTimeout(() => {
      slot.idleTimer = null;
      void this.unload(room);
    }, this.options.roomIdleMs);
  }

  /**
   * Records a reset of the document's links, once storage holds it, in the room
   * if it is loaded or loading: sessions are checked against the room's time.
   */
  noteLinksReset(docId: DocId, at: number): void {
    const slot = this.slots.get(docId);
    if (slot?.state === 'loading') slot.linksResetAt = Math.max(slot.linksResetAt, at);
    else if (slot && 'room' in slot) slot.room.noteLinksReset(at);
  }

  /** Number of loaded rooms and their approximate memory, for metrics. */
  stats(): { count: number; approxBytes: number } {
    let count = 0;
    let approxBytes = 0;
    for (const slot of this.slots.values()) {
      if (slot.state !== 'loaded') continue;
      count += 1;
      approxBytes += slot.room.approxMemoryBytes;
    }
    return { count, approxBytes };
  }

  /**
   * Writes what every room holds, for at most `timeoutMs`, then frees them all.
   * Resolves with the documents whose changes could not all be written in time
   * (storage failing or hung): the caller reports them.
   */
  async closeAll(timeoutMs: number): Promise<DocId[]> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed-out'>((resolve) => (timer = setTimeout(() => resolve('timed-out'), timeoutMs)));
    const waits = [...this.slots.values()].flatMap((slot): Promise<unknown>[] =>
      slot.state === 'loading' ? [slot.ready.catch(() => undefined)] : slot.state === 'evicting' ? [slot.done] : [],
    );
    await Promise.race([Promise.all(waits), timedOut]);
    const rooms = [...this.slots.values()].flatMap((slot) => ('room' in slot ? [slot.room] : []));
    for (const slot of this.slots.values()) if (slot.state === 'loaded' && slot.idleTimer) clearTimeout(slot.idleTimer);
    // Compaction is skipped once writes have failed: settling is what matters.
    await Promise.race([Promise.all(rooms.map((room) => room.settleAndCompact().catch(() => undefined))), timedOut]);
    clearTimeout(timer);
    const unwritten = this.unsavedDocIds();
    for (const room of rooms) this.destroy(room);
    this.slots.clear();
    return unwritten;
  }

  private load(docId: DocId): Promise<Room> {
    const { store, logger, metrics, roomLimits: limits } = this.options;
    const ready = (async () => {
      const startedAt = performance.now();
      let stored;
      let feedLink: RoomFeedLink | undefined;
      try {
        // Subscribed before the load, so no presence change falls between the two.
        feedLink = await this.options.feed?.open(docId);
        stored = await store.load(docId);
      } catch (error) {
        feedLink?.close();
        this.noteFailure('load', `cannot load documents: ${error instanceof Error ? error.message : String(error)}`);
        throw error;
      }
      this.noteFailure('load', null);
      const room = new Room({
        docId,
        store,
        stored,
        logger,
        metrics,
        limits,
        onWriteHealth: (failure) => this.noteFailure(`document ${docId}`, failure),
        onCorrupted: () => void this.evict(room),
        publishPresence: feedLink ? (update, ownedIds) => feedLink.publishPresence(update, ownedIds) : undefined,
      });
      if (feedLink) {
        this.feedLinks.set(room, feedLink);
        feedLink.start(room, stored.lastSeq, () => store.load(docId));
      }
      const slot = this.slots.get(docId);
      if (slot?.state === 'loading') room.noteLinksReset(slot.linksResetAt);
      logger.debug(
        { docId, updates: stored.updates.length, durationMs: Math.round(performance.now() - startedAt) },
        'room loaded',
      );
      return room;
    })();
    this.slots.set(docId, { state: 'loading', ready, linksResetAt: 0 });
    ready.then(
      (room) => this.slots.set(docId, { state: 'loaded', room, idleTimer: null }),
      () => this.slots.delete(docId),
    );
    return ready;
  }

  // Never blocks anyone: while it writes, the room stays in its slot and a peer
  // that arrives takes it back (and a later idle period tries again). With
  // storage down it waits as long as the room's retries take.
  private async unload(room: Room): Promise<void> {
    const slot = this.slots.get(room.docId);
    if (slot?.state !== 'loaded' || slot.room !== room || room.peerCount > 0) return;
    const unloading: RoomSlot = { state: 'unloading', room };
    this.slots.set(room.docId, unloading);
    await room.settleAndCompact().catch(() => undefined);
    // Taken back meanwhile (or the relay closed): the room lives on, or is freed by `closeAll`.
    if (this.slots.get(room.docId) !== unloading) return;
    if (!room.isIdle()) {
      // Written while a change arrived? Then not idle; hand it back to the idle timer.
      this.slots.set(room.docId, { state: 'loaded', room, idleTimer: null });
      this.release(room);
      return;
    }
    this.slots.delete(room.docId);
    this.destroy(room);
    this.noteFailure(`document ${room.docId}`, null);
    this.options.logger.debug({ docId: room.docId }, 'room unloaded');
  }

  // Writes what the damaged room queued (only whole, valid updates), then frees it, so
  // the next peer loads the document from storage.
  private async evict(room: Room): Promise<void> {
    const slot = this.slots.get(room.docId);
    if (!slot || !('room' in slot) || slot.room !== room) return;
    if (slot.state === 'loaded' && slot.idleTimer) clearTimeout(slot.idleTimer);
    let finish!: () => void;
    const evicting: RoomSlot = { state: 'evicting', done: new Promise<void>((resolve) => (finish = resolve)) };
    this.slots.set(room.docId, evicting);
    try {
      await room.settle().catch(() => undefined);
      this.destroy(room);
      this.options.logger.info({ docId: room.docId }, 'room reloads from storage');
    } finally {
      if (this.slots.get(room.docId) === evicting) this.slots.delete(room.docId);
      finish();
    }
  }

  private destroy(room: Room): void {
    this.feedLinks.get(room)?.close();
    this.feedLinks.delete(room);
    room.destroy();
  }

  private noteFailure(what: string, failure: string | null): void {
    const before = this.failures.size;
    const previous = this.failures.get(what);
    if (failure === null) this.failures.delete(what);
    else this.failures.set(what, failure);
    if (before !== this.failures.size || (failure !== null && previous !== failure)) this.options.events?.onHealthChange?.(this.health());
  }
}

function assertNeverSlot(slot: never): never {
  throw new Error(`unexpected room slot ${JSON.stringify(slot)}`);
}
