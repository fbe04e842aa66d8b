/**
 * The registry of loaded rooms: get-or-load with single flight (two peers that
 * arrive at once on a cold document share one load), and unload of rooms that
 * stayed empty for a grace period, once everything they hold is on disk.
 */
import type { DocId } from '../lib/ids';
import type { Logger } from './logger';
import type { RelayMetrics } from './metrics';
import { Room, type RoomLimits } from './room';
import type { DocStore } from './storage/doc-store';

/** Options of `RoomRegistry`. */
export interface RoomRegistryOptions {
  readonly store: DocStore;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly roomIdleMs: number;
  readonly roomLimits: RoomLimits;
}

type RoomSlot =
  // `linksResetAt`: a reset of the links noted during the load, which may have read the older time.
  | { readonly state: 'loading'; readonly ready: Promise<Room>; linksResetAt: number }
  | { readonly state: 'loaded'; readonly room: Room; idleTimer: NodeJS.Timeout | null }
  | { readonly state: 'unloading'; readonly done: Promise<void> };

/** Loads, shares and unloads rooms. */
export class RoomRegistry {
  private readonly slots = new Map<DocId, RoomSlot>();

  constructor(private readonly options: RoomRegistryOptions) {}

  /** Returns the loaded room for `docId`, loading it if needed. */
  async acquire(docId: DocId): Promise<Room> {
    for (;;) {
      const slot = this.slots.get(docId);
      if (!slot) return this.load(docId);
      switch (slot.state) {
        case 'loading':
          return slot.ready;
        case 'loaded':
          if (slot.idleTimer) clearTimeout(slot.idleTimer);
          slot.idleTimer = null;
          return slot.room;
        case 'unloading':
          // Let the unload finish, then load afresh: the stored state is complete by then.
          await slot.done;
          continue;
        default:
          return assertNeverSlot(slot);
      }
    }
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
    if (slot?.state === 'loaded') slot.room.noteLinksReset(at);
    else if (slot?.state === 'loading') slot.linksResetAt = Math.max(slot.linksResetAt, at);
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

  /** Waits until every loaded room has written everything, then frees them all. */
  async closeAll(): Promise<void> {
    const pending = [...this.slots.values()].map(async (slot) => {
      if (slot.state === 'loading') await slot.ready.catch(() => undefined);
      if (slot.state === 'unloading') await slot.done;
    });
    await Promise.all(pending);
    const rooms = [...this.slots.values()].flatMap((slot) => (slot.state === 'loaded' ? [slot] : []));
    await Promise.all(
      rooms.map(async (slot) => {
        if (slot.idleTimer) clearTimeout(slot.idleTimer);
        await slot.room.settleAndCompact();
        slot.room.destroy();
      }),
    );
    this.slots.clear();
  }

  private load(docId: DocId): Promise<Room> {
    const { store, logger, metrics, roomLimits: limits } = this.options;
    const ready = (async () => {
      const startedAt = performance.now();
      const stored = await store.load(docId);
      const room = new Room({ docId, store, stored, logger, metrics, limits });
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

  private async unload(room: Room): Promise<void> {
    const slot = this.slots.get(room.docId);
    if (slot?.state !== 'loaded' || slot.room !== room || room.peerCount > 0) return;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    this.slots.set(room.docId, { state: 'unloading', done });
    try {
      await room.settleAndCompact();
      room.destroy();
      this.options.logger.debug({ docId: room.docId }, 'room unloaded');
    } finally {
      this.slots.delete(room.docId);
      finish();
    }
  }
}

function assertNeverSlot(slot: never): never {
  throw new Error(`unexpected room slot ${JSON.stringify(slot)}`);
}
