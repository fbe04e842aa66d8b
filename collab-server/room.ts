/**
 * One document in memory: owns its `Y.Doc` (and, through `RoomAwareness`, its
 * presence), applies what peers send, fans changes out to the other peers, and
 * hands updates to storage (`RoomStorage`), acknowledging them as they reach
 * disk (`SavedAckLedger`). It knows neither sockets nor which store it writes to.
 */
import * as Y from 'yjs';

import type { ConnectionId, DocId } from '../lib/ids';
import { ROLES, type Role } from '../lib/roles';
import {
  CLOSE_CODES,
  PROTOCOL_ERROR_REASONS,
  ProtocolError,
  assertNever,
  assertValidStateVector,
  assertValidUpdate,
  isEmptyUpdate,
  encode,
  DENIAL_CODES,
  type CloseCode,
  type Message,
} from '../lib/protocol';
import type { Logger } from './logger';
import type { RelayMetrics } from './metrics';
import { RoomAwareness } from './room-awareness';
import { RoomStorage, type RoomStorageLimits } from './room-storage';
import { SavedAckLedger } from './saved-ack-ledger';
import type { DocStore, StoredDoc } from './storage/doc-store';

const EMPTY_STATE_VECTOR = Uint8Array.of(0);
/** Sync replies a room keeps at most. */
const MAX_CACHED_SYNC_REPLIES = 4;
/** Bytes of updates waiting in Yjs for missing dependencies that a room tolerates. */
const MAX_PENDING_BYTES = 16 * 1024;
/** Updates a room applies while some wait for missing dependencies, before it drops those: each one retries them all. */
const MAX_UPDATES_WHILE_PENDING = 20;
/** Largest diff (not the whole document) a room keeps for reuse. */
const MAX_CACHED_DIFF_BYTES = 1024 * 1024;
const EMPTY_UPDATE = Uint8Array.of(0, 0);

/** What a room needs of a connection. */
export interface RoomPeer {
  readonly id: ConnectionId;
  /** What the peer's link allows; viewers cannot change the document. */
  readonly role: Role;
  /** Whether the client asked for `saved` acknowledgements. */
  readonly wantsSavedAcks: boolean;
  /** When the link that opened the session was issued (ms): a reset at or after it ends the session. */
  readonly issuedAt: number;
  send(frame: Uint8Array): void;
  /** Ends the session with `code` and `reason` (the client may reconnect). */
  close(code: CloseCode, reason: string): void;
}

/** Options of `Room`. */
export interface RoomOptions {
  readonly docId: DocId;
  readonly store: DocStore;
  readonly stored: StoredDoc;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly limits: RoomLimits;
  /** Writes of this room started failing (`reason`), or succeed again (`null`). */
  readonly onWriteHealth?: (failure: string | null) => void;
  /** The in-memory document may be damaged: the room has closed its peers and must be reloaded from storage. */
  readonly onCorrupted?: () => void;
  /** Cluster mode: where the room sends its own peers' presence changes, for the other relays. */
  readonly publishPresence?: (update: Uint8Array, ownedIds: readonly number[]) => void;
}

/** Transaction origin of changes that other relay processes logged (cluster mode). */
const REMOTE_ORIGIN = Symbol('other relay');

/** Tunables every room of a relay shares. */
export interface RoomLimits extends RoomStorageLimits {
  /** Awareness client ids one connection may own. */
  readonly maxAwarenessIdsPerConnection: number;
}

/** A loaded document and the peers editing it. */
export class Room {
  readonly docId: DocId;
  // The document (and the awareness) are created when first needed: an idle
  // session on an empty document, the common case, then holds neither.
  private doc: Y.Doc | null = null;
  private readonly awareness: RoomAwareness;
  /**
   * The document's full state, encoded, and its state vector: first as loaded
   * from storage, later as last encoded; valid until the document next changes.
   * Sync replies are cut from these bytes, so opening a document, and every
   * read-only session, skips decoding or encoding it.
   */
  private encodedState: Uint8Array | null;
  private encodedStateVector: Uint8Array | null = null;
  /** Sync step 2 frames by the state vector they answer (its bytes as a string); dropped when the document changes. */
  private syncReplies: Map<string, Uint8Array> | null = null;
  /** Updates applied in a row that left some update waiting for a missing dependency. */
  private updatesWhilePending = 0;
  /**
   * Whether `doc` holds the stored state. A document is only integrated when an
   * update (or compaction) needs it.
   */
  private isIntegrated: boolean;
  /** Set when a transaction since the last reset changed the document. */
  private didLastTransactionChange = false;
  /** The document's state vector after its last transaction, which Yjs computes anyway. */
  private docStateVector: Map<number, number> | null = null;
  private readonly peers = new Set<RoomPeer>();
  private readonly acks = new SavedAckLedger<RoomPeer>();
  private readonly storage: RoomStorage;
  private readonly logger: Logger;
  private readonly metrics: RelayMetrics;
  private linksResetAtMs: number;
  /** Set when an update broke off halfway through integration: nothing more is taken or acknowledged. */
  private isCorrupted = false;

  constructor(private readonly options: RoomOptions) {
    this.docId = options.docId;
    this.logger = options.logger;
    this.metrics = options.metrics;
    const { stored } = options;
    const storedUpdates = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
    // A snapshot alone is served as it is. A log (left by a crash: every unload and
    // stop compacts) is integrated one update at a time, in the order the room once
    // applied it, rather than merged: for crafted updates (overlapping structs of one
    // client, found by the chaos fuzz) Yjs's merge keeps less than applying them in
    // order did, and clients were told that state was saved.
    this.encodedState = storedUpdates.length === 1 ? storedUpdates[0]! : null;
    this.isIntegrated = this.encodedState === null;
    if (storedUpdates.length > 1) {
      const doc = this.docInstance();
      Y.transact(doc, () => {
        for (const update of storedUpdates) Y.applyUpdate(doc, update);
      });
    }
    if (stored.snapshot && stored.updates.length === 0) this.encodedStateVector = stored.snapshotStateVector;
    this.linksResetAtMs = stored.linksResetAt;
    this.awareness = new RoomAwareness({
      docId: this.docId,
      maxIdsPerConnection: options.limits.maxAwarenessIdsPerConnection,
      logger: this.logger,
      metrics: this.metrics,
      doc: () => this.docInstance(),
      broadcast: (frame, except) => this.broadcast(frame, except),
      onLocalChange: options.publishPresence,
    });
    // Last: a log left to fold is compacted at once, from the state set up above.
    this.storage = new RoomStorage({
      docId: this.docId,
      store: options.store,
      stored,
      logger: this.logger,
      metrics: this.metrics,
      limits: options.limits,
      readStateVector: () => this.stateVector(),
      readSnapshot: () => {
        const doc = this.integratedDoc();
        const snapshot = Y.encodeStateAsUpdate(doc);
        assertLoads(snapshot);
        return { snapshot, stateVector: Y.encodeStateVector(doc) };
      },
      measureDocument: () => Y.encodeStateAsUpdate(this.integratedDoc()).byteLength,
      onBatchSaved: (batchId, stateVector) => this.sendSavedAcks(batchId, stateVector),
      onWriteHealth: (failure) => {
        if (failure !== null) this.tellNotSaved(failure);
        options.onWriteHealth?.(failure);
      },
    });
  }

  /** Number of connected peers. */
  get peerCount(): number {
    return this.peers.size;
  }

  /** Approximate bytes of document state held in memory: what is stored of it. */
  get approxMemoryBytes(): number {
    return this.storage.documentBytes;
  }

  /** Whether some change is not on disk yet. */
  get hasUnsavedChanges(): boolean {
    return this.storage.unsavedBytes > 0;
  }

  /** Why this room's writes are failing, or null while they succeed. */
  get writeFailure(): string | null {
    return this.storage.writeFailure;
  }

  /** When the document's share links were last reset (ms), 0 if never: links issued until then are void. */
  get linksResetAt(): number {
    return this.linksResetAtMs;
  }

  /**
   * Records a reset of the share links that storage already holds, and ends
   * every session opened with a link it voids (SPEC P10b).
   */
  noteLinksReset(at: number): void {
    this.linksResetAtMs = Math.max(this.linksResetAtMs, at);
    for (const peer of this.peers) {
      if (peer.issuedAt <= this.linksResetAtMs) peer.close(CLOSE_CODES.linkReset, 'link-reset');
    }
  }

  /** True when the room has no peers and nothing left to write. */
  isIdle(): boolean {
    return this.peers.size === 0 && this.storage.isSettled();
  }

  /** Adds a peer; it hears nothing until `greet`. */
  join(peer: RoomPeer): void {
    this.peers.add(peer);
    this.acks.join(peer);
  }

  /** Starts a joined peer's sync: our state vector, then everyone's awareness. */
  greet(peer: RoomPeer): void {
    peer.send(encode({ type: 'sync-step-1', stateVector: this.stateVector() }));
    const presence = this.awareness.greeting();
    if (presence) peer.send(presence);
  }

  /**
   * Handles one decoded message from a peer; `frame` is its bytes, forwarded as
   * they are when the message goes out unchanged. Throws `ProtocolError` on
   * invalid content.
   */
  receive(peer: RoomPeer, message: Message, frame: Uint8Array): void {
    if (!this.peers.has(peer) || this.isCorrupted) return;
    switch (message.type) {
      case 'sync-step-1':
        assertValidStateVector(message.stateVector);
        peer.send(this.syncReplyFor(message.stateVector));
        this.requestSavedAck(peer);
        return;
      case 'sync-step-2':
      case 'update':
        if (!ROLES[peer.role].canEdit) this.refuseChange(peer, message.update);
        // Peers get a step 2 as an update; an update as its own bytes.
        else this.applyUpdate(peer, message.update, message.type === 'update' ? frame : null);
        return;
      case 'awareness':
        this.awareness.receive(peer, message.update, frame);
        return;
      case 'query-awareness':
        peer.send(this.awareness.everyState());
        return;
      case 'permission-denied':
      case 'saved':
      case 'not-saved':
        throw new ProtocolError(PROTOCOL_ERROR_REASONS.unknownMessage, `clients may not send ${message.type}`);
      default:
        assertNever(message);
    }
  }

  /**
   * Removes a peer and, at once, every awareness state it owned; then forgets
   * those ids' clocks too, so whoever returns with them is heard again.
   */
  leave(peer: RoomPeer): void {
    if (!this.peers.delete(peer)) return;
    this.acks.leave(peer);
    this.awareness.leave(peer);
  }

  /**
   * Cluster mode: applies an update another relay process logged (it is stored
   * already) and forwards it to every peer here.
   */
  applyRemoteUpdate(update: Uint8Array): void {
    this.integrateRemote(update, { countsAsStored: true });
  }

  /**
   * Cluster mode: this relay missed log entries (trimmed before it read them);
   * `stored` is the document as storage holds it now. What the room lacks of it
   * is applied and forwarded; nothing is lost by applying the rest again.
   */
  catchUp(stored: StoredDoc): void {
    for (const update of stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates) {
      this.integrateRemote(update, { countsAsStored: false });
    }
    this.noteLinksReset(stored.linksResetAt);
  }

  /** Cluster mode: presence another relay's peers published. */
  applyRemotePresence(update: Uint8Array, origin: string): void {
    this.awareness.applyRemote(update, origin);
  }

  /** Cluster mode: relay `origin` is gone (`keep` null), or its peers now own only `keep`. */
  dropRemotePresence(origin: string, keep: ReadonlySet<number> | null): void {
    this.awareness.dropRemote(origin, keep);
  }

  /** Cluster mode: the presence of this relay's peers, for a relay that just opened the document. */
  localPresence(): Uint8Array | null {
    return this.awareness.localStates();
  }

  /** Resolves once everything queued so far is on disk. */
  settle(): Promise<void> {
    return this.storage.settle();
  }

  /** Like `settle`, then folds the update log into the snapshot (before an unload). */
  settleAndCompact(): Promise<void> {
    return this.storage.settleAndCompact();
  }

  /** Frees the document. Call only when idle. */
  destroy(): void {
    this.storage.dispose();
    this.awareness.destroy();
    this.doc?.destroy();
  }

  private integrateRemote(update: Uint8Array, options: { countsAsStored: boolean }): void {
    if (this.isCorrupted) return;
    const doc = this.integratedDoc();
    this.didLastTransactionChange = false;
    try {
      Y.applyUpdate(doc, update, REMOTE_ORIGIN);
    } catch (error) {
      this.corrupt(null, error);
      return;
    }
    if (options.countsAsStored) this.storage.noteStoredElsewhere(update.byteLength);
    if (!this.didLastTransactionChange && doc.store.pendingStructs === null && doc.store.pendingDs === null) return;
    this.encodedState = null;
    this.syncReplies = null;
    this.encodedStateVector = null;
    this.broadcast(encode({ type: 'update', update }), null);
  }

  private applyUpdate(peer: RoomPeer, update: Uint8Array, updateFrame: Uint8Array | null): void {
    assertValidUpdate(update);
    // Stock clients answer our sync step 1 with an empty update: no reason to integrate the document for it.
    if (!isCanonicalEmptyUpdate(update)) {
      const refusal = this.storage.refusalFor(update.byteLength);
      if (refusal === 'document-too-large') {
        this.refuseOversizeChange(peer, update);
        return;
      }
      if (refusal === 'too-much-unsaved') {
        this.refuseWhileStorageLags(peer, update);
        return;
      }
      const doc = this.integratedDoc();
      const pendingBefore = pendingBytes(doc);
      this.didLastTransactionChange = false;
      try {
        Y.applyUpdate(doc, update, peer);
      } catch (error) {
        this.corrupt(peer, error);
        throw new ProtocolError(PROTOCOL_ERROR_REASONS.malformed, 'the update could not be integrated', { cause: error });
      }
      // The frame's own bytes are logged and forwarded: no re-encoding. An update that
      // changed nothing is dropped, unless part of it waits in Yjs for a missing
      // dependency: then it must be kept, or that part would never reach disk or peers.
      const isPending = doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
      if (isPending || this.didLastTransactionChange) {
        this.encodedState = null;
        this.syncReplies = null;
        this.encodedStateVector = null;
        this.storage.store(update);
        this.broadcast(updateFrame ?? encode({ type: 'update', update }), peer);
      }
      this.boundPending(doc, pendingBefore);
    }
    this.acks.noteChangeFrame(peer);
    this.requestSavedAck(peer);
  }

  // An update can decode cleanly and still make Yjs throw halfway through integrating
  // it (crafted structs, found by the chaos fuzz), leaving part of it in the document.
  // That part is neither stored nor forwarded, so storage and every client are still
  // right and only this copy is wrong: the room stops, ends every other session with
  // 1012 (clients reconnect), and is reloaded from storage. Acknowledging anything from
  // the damaged copy would claim on disk what never reached it.
  // Cluster mode: an update another relay logged can break off too (`peer` null); the room reloads alike.
  private corrupt(peer: RoomPeer | null, error: unknown): void {
    this.isCorrupted = true;
    this.metrics.changesRefused.inc();
    this.logger.warn({ docId: this.docId, connectionId: peer?.id ?? null, err: error }, 'an update broke off while being integrated; reloading the document from storage');
    // The sender is closed for what it sent (the error thrown to its connection).
    for (const each of this.peers) if (each !== peer) each.close(CLOSE_CODES.serviceRestart, 'document reloading');
    this.options.onCorrupted?.();
  }

  // Yjs keeps the parts of updates whose dependencies have not arrived and retries them
  // on every later update, so a connection sending updates that depend on nothing it
  // ever sends makes each edit of everyone cost more. A client's own updates only ever
  // wait briefly (one that arrived over another tab's socket first): past a bound, the
  // connection that grew the backlog is cut off, and the backlog dropped.
  private boundPending(doc: Y.Doc, pendingBefore: number): void {
    const pendingAfter = pendingBytes(doc);
    this.updatesWhilePending = pendingAfter === 0 ? 0 : this.updatesWhilePending + 1;
    if (pendingAfter <= MAX_PENDING_BYTES && this.updatesWhilePending <= MAX_UPDATES_WHILE_PENDING) return;
    doc.store.pendingStructs = null;
    doc.store.pendingDs = null;
    this.updatesWhilePending = 0;
    // The connection whose update grew the backlog is the one sending orphans.
    if (pendingAfter > pendingBefore) {
      throw new ProtocolError(PROTOCOL_ERROR_REASONS.policyViolation, `updates whose dependencies never arrived (${pendingAfter} bytes waiting)`);
    }
  }

  // Refused whole and never counted as a change frame: nothing of it is applied,
  // stored or acknowledged, and the client's changes stay unsaved, which is the truth.
  private refuseOversizeChange(peer: RoomPeer, update: Uint8Array): void {
    const { maxDocBytes } = this.options.limits;
    this.metrics.changesRefused.inc();
    this.logger.warn(
      { docId: this.docId, connectionId: peer.id, storedBytes: this.storage.documentBytes, updateBytes: update.byteLength, maxDocBytes },
      'refused a change past the document size limit',
    );
    peer.send(
      encode({
        type: 'permission-denied',
        reason: `${DENIAL_CODES.documentTooLarge}: This document has reached its size limit (${maxDocBytes} bytes); this change was not saved`,
      }),
    );
  }

  // Storage cannot keep up (failing or stalled) and the room holds all it may
  // unsaved: the change is refused whole, as above, and the session ended with
  // 1013, so the client keeps its changes and offers them again when it reconnects.
  // What was acknowledged before stays safe; what is held unsaved stays in memory.
  private refuseWhileStorageLags(peer: RoomPeer, update: Uint8Array): void {
    this.metrics.changesRefused.inc();
    this.logger.warn(
      { docId: this.docId, connectionId: peer.id, unsavedBytes: this.storage.unsavedBytes, updateBytes: update.byteLength, writeFailure: this.storage.writeFailure },
      'refused a change: too much unsaved while storage lags',
    );
    peer.send(
      encode({
        type: 'permission-denied',
        reason: `${DENIAL_CODES.storageUnavailable}: The server cannot save changes right now; yours are kept in this browser and sent again when it can`,
      }),
    );
    peer.close(CLOSE_CODES.tryAgainLater, 'storage unavailable; try again later');
  }

  // A viewer's stock client answers our sync step 1 with a step 2 that is usually
  // empty; only content is refused, and the client is told so.
  private refuseChange(peer: RoomPeer, update: Uint8Array): void {
    assertValidUpdate(update);
    if (isEmptyUpdate(update)) return;
    this.metrics.changesRefused.inc();
    this.logger.info({ docId: this.docId, connectionId: peer.id }, 'refused a change from a viewer');
    peer.send(encode({ type: 'permission-denied', reason: `${DENIAL_CODES.readOnly}: this link can view the document but not change it` }));
  }

  private requestSavedAck(peer: RoomPeer): void {
    if (!peer.wantsSavedAcks) return;
    const due = this.acks.request(peer, this.storage.latestUnsavedBatchId());
    if (due) {
      peer.send(encode({ type: 'saved', stateVector: this.stateVector(), changeFramesSaved: due.changeFramesSaved }));
      return;
    }
    // Storage is failing now: say so at once rather than leave "Saving…" up.
    const failure = this.storage.writeFailure;
    if (failure !== null) this.tellNotSaved(failure);
  }

  private sendSavedAcks(batchId: number, stateVector: Uint8Array): void {
    if (this.isCorrupted) return;
    for (const { peer, changeFramesSaved } of this.acks.settle(batchId)) {
      peer.send(encode({ type: 'saved', stateVector, changeFramesSaved }));
    }
  }

  // Peers waiting for a `saved` hear that their changes are not on disk, once per stretch.
  private tellNotSaved(failure: string): void {
    const untold = this.acks.takeUntoldUnsaved();
    if (untold.length === 0) return;
    const frame = encode({ type: 'not-saved', reason: failure });
    for (const peer of untold) peer.send(frame);
  }

  private docInstance(): Y.Doc {
    if (!this.doc) {
      this.doc = new Y.Doc();
      this.doc.on('afterTransaction', this.onAfterTransaction);
    }
    return this.doc;
  }

  /** The document with its stored state integrated. */
  private integratedDoc(): Y.Doc {
    const doc = this.docInstance();
    if (!this.isIntegrated) {
      this.isIntegrated = true;
      if (this.encodedState) Y.applyUpdate(doc, this.encodedState);
    }
    return doc;
  }

  private stateVector(): Uint8Array {
    if (this.encodedStateVector) return this.encodedStateVector;
    if (this.encodedState && !this.isIntegrated) return (this.encodedStateVector = Y.encodeStateVectorFromUpdate(this.encodedState));
    const current = this.docStateVector ?? this.doc;
    return (this.encodedStateVector = current ? Y.encodeStateVector(current) : EMPTY_STATE_VECTOR);
  }

  /**
   * The sync step 2 frame for a peer at `stateVector`. Cached until the document
   * changes: after a restart every returning client asks with one of a few state
   * vectors, and a whole large document is then encoded once and, framed once,
   * queued to every socket that asked for it as the same bytes.
   */
  private syncReplyFor(stateVector: Uint8Array): Uint8Array {
    const key = Buffer.from(stateVector.buffer, stateVector.byteOffset, stateVector.byteLength).toString('latin1');
    const cached = this.syncReplies?.get(key);
    if (cached) return cached;
    const reply = encode({ type: 'sync-step-2', update: this.diffSince(stateVector) });
    // The whole document is always worth keeping; other diffs only while small.
    if (isEmptyStateVector(stateVector) || reply.byteLength <= MAX_CACHED_DIFF_BYTES) {
      this.syncReplies ??= new Map();
      if (this.syncReplies.size >= MAX_CACHED_SYNC_REPLIES) this.syncReplies.delete(this.syncReplies.keys().next().value!);
      this.syncReplies.set(key, reply);
    }
    return reply;
  }

  /** What a peer at `stateVector` lacks. */
  private diffSince(stateVector: Uint8Array): Uint8Array {
    if (isEmptyStateVector(stateVector)) return (this.encodedState ??= this.doc ? Y.encodeStateAsUpdate(this.doc) : EMPTY_UPDATE);
    if (this.encodedState && !this.isIntegrated) return Y.diffUpdate(this.encodedState, stateVector);
    return this.doc ? Y.encodeStateAsUpdate(this.doc, stateVector) : EMPTY_UPDATE;
  }

  // Yjs's own test for whether a transaction produced an update, read off the
  // transaction it already built, so no update has to be encoded to find out.
  // Or-ed: applying formatted text runs a second, clean-up transaction afterwards.
  // The state vector it computed is kept for the next `saved`, which would
  // otherwise walk the document's clients again.
  private readonly onAfterTransaction = (transaction: Y.Transaction): void => {
    this.docStateVector = transaction.afterState;
    if (transaction.deleteSet.clients.size > 0 || hasNewStructs(transaction.beforeState, transaction.afterState)) {
      this.didLastTransactionChange = true;
    }
  };

  // Every peer gets the same frame object: the transport frames it once for all of them.
  private broadcast(frame: Uint8Array, except: unknown): void {
    for (const peer of this.peers) {
      if (peer !== except) peer.send(frame);
    }
  }
}

// A snapshot replaces the log it folds, so it must load. Crafted updates (chaos fuzz)
// can leave a document that applies them in order but whose own encoding no longer
// loads; storing that would brick the document. Its log, which loads, stays instead.
function assertLoads(snapshot: Uint8Array): void {
  const check = new Y.Doc();
  try {
    Y.applyUpdate(check, snapshot);
  } catch (error) {
    throw new Error(`the document's snapshot would not load (${error instanceof Error ? error.message : String(error)}); keeping its log`, { cause: error });
  } finally {
    check.destroy();
  }
}

function pendingBytes(doc: Y.Doc): number {
  return (doc.store.pendingStructs?.update.byteLength ?? 0) + (doc.store.pendingDs?.byteLength ?? 0);
}

function hasNewStructs(before: Map<number, number>, after: Map<number, number>): boolean {
  for (const [client, clock] of after) if (before.get(client) !== clock) return true;
  return false;
}

// `[0, 0]`: no struct clients, no deletions (what Yjs encodes for an empty diff).
function isCanonicalEmptyUpdate(update: Uint8Array): boolean {
  return update.length === 2 && update[0] === 0 && update[1] === 0;
}

function isEmptyStateVector(stateVector: Uint8Array): boolean {
  return stateVector.length === 1 && stateVector[0] === 0;
}
