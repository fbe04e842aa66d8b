/**
 * How a room hears of changes made to its document on other relay processes
 * (cluster mode): the registry opens a feed before it loads a document, so no
 * presence change falls between the two, and starts it at the position the
 * load read up to, so every later change of content arrives, in log order.
 */
import type { DocId } from '../lib/ids';
import type { Room } from './room';
import type { StoredDoc } from './storage/doc-store';

/** Opens feeds; one per relay process. */
export interface RoomFeed {
  /** Subscribes to `docId`'s presence; resolves once subscribed. */
  open(docId: DocId): Promise<RoomFeedLink>;
  /** Why the feed cannot follow other relays now (storage unreachable), or null. */
  health(): string | null;
}

/** One document's feed. */
export interface RoomFeedLink {
  /**
   * Delivers changes after `fromSeq` to `room`; `reload` reads the document
   * from storage when the feed missed entries.
   */
  start(room: Room, fromSeq: number, reload: () => Promise<StoredDoc>): void;
  /** Sends this relay's peers' presence change to the other relays. */
  publishPresence(update: Uint8Array, ownedIds: readonly number[]): void;
  /** Stops the feed (the room is going away). */
  close(): void;
}
