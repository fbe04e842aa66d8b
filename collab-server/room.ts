/**
 * One document in memory: owns its `Y.Doc` and `Awareness`, applies what peers
 * send, fans changes out to the other peers, and hands updates to persistence.
 * It knows neither sockets nor which store it writes to.
 */
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';

import type { ConnectionId, DocId } from '../lib/ids';
import { ROLES, type Role } from '../lib/tokens';
import {
  PROTOCOL_ERROR_REASONS,
  ProtocolError,
  assertNever,
  assertValidStateVector,
  assertValidUpdate,
  decodeAwarenessUpdate,
  isEmptyUpdate,
  encode,
  encodeAwarenessUpdate,
  type AwarenessEntry,
  type Message,
} from '../lib/protocol';
import type { Logger } from './logger';
import type { RelayMetrics } from './metrics';
import { RoomPersister } from './room-persister';
import type { DocStore, StoredDoc } from './storage/doc-store';

const EMPTY_STATE_VECTOR = Uint8Array.of(0);
const EMPTY_UPDATE = Uint8Array.of(0, 0);

/** What a room needs of a connection. */
export interface RoomPeer {
  readonly id: ConnectionId;
  /** What the peer's link allows; viewers cannot change the document. */
  readonly role: Role;
  /** Whether the client asked for `saved` acknowledgements. */
  readonly wantsSavedAcks: boolean;
  send(frame: Uint8Array): void;
}

/** Room state kept per peer. */
interface PeerState {
  /** Awareness client ids this peer introduced; only it may change or remove them. */
  awarenessClientIds: Set<number> | null;
  /** Document-changing frames received from this peer so far. */
  changeFrames: number;
  /** `saved` messages owed: once batch `batchId` is on disk, `changeFrames` of this peer's frames are. */
  readonly owedAcks: { batchId: number; changeFrames: number }[];
}

/** Options of `Room`. */
export interface RoomOptions {
  readonly docId: DocId;
  readonly store: DocStore;
  readonly stored: StoredDoc;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly compactAfterUpdates: number;
  readonly compactAfterBytes: number;
}

/** A loaded document and the peers editing it. */
export class Room {
  readonly docId: DocId;
  // The document and the awareness are created when first needed: an idle
  // session on an empty document, the common case, then holds neither.
  private doc: Y.Doc | null = null;
  private awareness: awarenessProtocol.Awareness | null = null;
  /**
   * The document's full state, encoded, and its state vector: first as loaded
   * from storage, later as last encoded; valid until the document next changes.
   * Sync replies are cut from these bytes, so opening a document, and every
   * read-only session, skips decoding or encoding it.
   */
  private encodedState: Uint8Array | null;
  private encodedStateVector: Uint8Array | null = null;
  /**
   * Whether `doc` holds the stored state. A document is only integrated when an
   * update (or compaction) needs it.
   */
  private isIntegrated: boolean;
  /** Set when a transaction since the last reset changed the document. */
  private didLastTransactionChange = false;
  /** The document's state vector after its last transaction, which Yjs computes anyway. */
  private docStateVector: Map<number, number> | null = null;
  private readonly peers = new Map<RoomPeer, PeerState>();
  /** Which peer introduced each awareness client id. */
  private readonly awarenessOwners = new Map<number, RoomPeer>();
  /** Made on the first write (or at load, when a log is left to fold): a room only read holds none. */
  private persisterInstance: RoomPersister | null = null;
  private readonly store: DocStore;
  private readonly compactAfter: { readonly updates: number; readonly bytes: number };
  private readonly storedLog: { readonly count: number; readonly bytes: number; readonly lastSeq: number };
  private readonly logger: Logger;
  private readonly metrics: RelayMetrics;
  private approxBytes = 0;
  private linksResetAtMs: number;

  constructor(options: RoomOptions) {
    this.docId = options.docId;
    this.logger = options.logger;
    this.metrics = options.metrics;
    const { stored } = options;
    // Merging is far cheaper than integrating a long log one update at a time.
    const storedUpdates = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
    this.encodedState = storedUpdates.length === 0 ? null : storedUpdates.length === 1 ? storedUpdates[0]! : Y.mergeUpdates([...storedUpdates]);
    this.isIntegrated = this.encodedState === null;
    if (stored.snapshot && stored.updates.length === 0) this.encodedStateVector = stored.snapshotStateVector;
    this.approxBytes = (stored.snapshot?.byteLength ?? 0) + stored.logBytes;
    this.linksResetAtMs = stored.linksResetAt;

    this.store = options.store;
    this.compactAfter = { updates: options.compactAfterUpdates, bytes: options.compactAfterBytes };
    this.storedLog = { count: stored.updates.length, bytes: stored.logBytes, lastSeq: stored.lastSeq };
    if (stored.updates.length > 0) this.persister().maybeCompact();
  }

  /** Number of connected peers. */
  get peerCount(): number {
    return this.peers.size;
  }

  /** Approximate bytes of document state held in memory. */
  get approxMemoryBytes(): number {
    return this.approxBytes;
  }

  /** When the document's share links were last reset (ms), 0 if never: links issued until then are void. */
  get linksResetAt(): number {
    return this.linksResetAtMs;
  }

  /** Records a reset of the share links that storage already holds. */
  noteLinksReset(at: number): void {
    this.linksResetAtMs = Math.max(this.linksResetAtMs, at);
  }

  /** True when the room has no peers and nothing left to write. */
  isIdle(): boolean {
    return this.peers.size === 0 && (this.persisterInstance?.isSettled() ?? true);
  }

  /** Adds a peer; it hears nothing until `greet`. */
  join(peer: RoomPeer): void {
    this.peers.set(peer, { awarenessClientIds: null, changeFrames: 0, owedAcks: [] });
  }

  /** Starts a joined peer's sync: our state vector, then everyone's awareness. */
  greet(peer: RoomPeer): void {
    peer.send(encode({ type: 'sync-step-1', stateVector: this.stateVector() }));
    const states = this.awareness?.getStates();
    if (states && states.size > 0) peer.send(this.encodeAwareness([...states.keys()]));
  }

  /**
   * Handles one decoded message from a peer; `frame` is its bytes, forwarded as
   * they are when the message goes out unchanged. Throws `ProtocolError` on
   * invalid content.
   */
  receive(peer: RoomPeer, message: Message, frame: Uint8Array): void {
    const state = this.peers.get(peer);
    if (!state) return;
    switch (message.type) {
      case 'sync-step-1':
        assertValidStateVector(message.stateVector);
        peer.send(encode({ type: 'sync-step-2', update: this.diffSince(message.stateVector) }));
        this.requestSavedAck(peer, state);
        return;
      case 'sync-step-2':
      case 'update':
        if (!ROLES[peer.role].canEdit) this.refuseChange(peer, message.update);
        // Peers get a step 2 as an update; an update as its own bytes.
        else this.applyUpdate(peer, state, message.update, message.type === 'update' ? frame : null);
        return;
      case 'awareness':
        this.applyAwareness(peer, state, message.update, frame);
        return;
      case 'query-awareness':
        peer.send(this.encodeAwareness([...(this.awareness?.getStates().keys() ?? [])]));
        return;
      case 'permission-denied':
      case 'saved':
        throw new ProtocolError(PROTOCOL_ERROR_REASONS.unknownMessage, `clients may not send ${message.type}`);
      default:
        assertNever(message);
    }
  }

  /** Removes a peer and, at once, every awareness state it introduced. */
  leave(peer: RoomPeer): void {
    const state = this.peers.get(peer);
    if (!state) return;
    this.peers.delete(peer);
    if (!state.awarenessClientIds) return;
    for (const clientId of state.awarenessClientIds) this.awarenessOwners.delete(clientId);
    const { awareness } = this;
    if (!awareness) return;
    const owned = [...state.awarenessClientIds].filter((clientId) => awareness.getStates().has(clientId));
    if (owned.length > 0) awarenessProtocol.removeAwarenessStates(awareness, owned, peer);
  }

  /** Like `settle`, then folds the update log into the snapshot (before an unload). */
  settleAndCompact(): Promise<void> {
    return this.persisterInstance?.settleAndCompact() ?? Promise.resolve();
  }

  /** Frees the document. Call only when idle. */
  destroy(): void {
    this.persisterInstance?.dispose();
    this.awareness?.off('update', this.onAwarenessUpdate);
    this.awareness?.destroy();
    this.doc?.destroy();
  }

  private applyUpdate(peer: RoomPeer, state: PeerState, update: Uint8Array, updateFrame: Uint8Array | null): void {
    assertValidUpdate(update);
    // Stock clients answer our sync step 1 with an empty update: no reason to integrate the document for it.
    if (!isCanonicalEmptyUpdate(update)) {
      const doc = this.integratedDoc();
      this.didLastTransactionChange = false;
      Y.applyUpdate(doc, update, peer);
      // The frame's own bytes are logged and forwarded: no re-encoding. An update that
      // changed nothing is dropped, unless part of it waits in Yjs for a missing
      // dependency: then it must be kept, or that part would never reach disk or peers.
      const isPending = doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
      if (isPending || this.didLastTransactionChange) {
        this.encodedState = null;
        this.encodedStateVector = null;
        this.approxBytes += update.byteLength;
        this.persister().enqueue(update);
        this.broadcast(updateFrame ?? encode({ type: 'update', update }), peer);
      }
    }
    state.changeFrames += 1;
    this.requestSavedAck(peer, state);
  }

  // A viewer's stock client answers our sync step 1 with a step 2 that is usually
  // empty; only content is refused, and the client is told so.
  private refuseChange(peer: RoomPeer, update: Uint8Array): void {
    assertValidUpdate(update);
    if (isEmptyUpdate(update)) return;
    this.metrics.changesRefused.inc();
    this.logger.info({ docId: this.docId, connectionId: peer.id }, 'refused a change from a viewer');
    peer.send(encode({ type: 'permission-denied', reason: 'read-only: this link can view the document but not change it' }));
  }

  private applyAwareness(peer: RoomPeer, state: PeerState, update: Uint8Array, frame: Uint8Array): void {
    const entries = decodeAwarenessUpdate(update);
    const accepted: AwarenessEntry[] = [];
    let dropped = 0;
    for (const entry of entries) {
      const verdict = this.judgeAwarenessEntry(peer, entry);
      if (verdict === 'accept') accepted.push(entry);
      else if (verdict === 'drop') dropped += 1;
    }
    if (dropped > 0) {
      this.metrics.awarenessDropped.inc(dropped);
      this.logger.warn(
        { docId: this.docId, connectionId: peer.id, dropped },
        'dropped awareness entries for client ids this connection does not own',
      );
    }
    if (accepted.length === 0) return;
    let isRewritten = accepted.length < entries.length;
    const marked = accepted.map((entry) => {
      if (entry.state === null) return entry;
      (state.awarenessClientIds ??= new Set()).add(entry.clientId);
      this.awarenessOwners.set(entry.clientId, peer);
      // The relay, not the client, says who is a viewer: nobody can pose as an editor.
      if (hasRole(entry.state, peer.role)) return entry;
      isRewritten = true;
      const fields = typeof entry.state === 'object' && !Array.isArray(entry.state) ? entry.state : {};
      return { ...entry, state: { ...fields, role: peer.role } };
    });
    if (isRewritten) {
      awarenessProtocol.applyAwarenessUpdate(this.awarenessState(), encodeAwarenessUpdate(marked), peer);
      return;
    }
    // Accepted as sent (a cursor move, the most frequent message): peers get the
    // frame's own bytes, and the room's copy takes the states already decoded,
    // rather than y-protocols decoding and parsing them again and re-encoding them.
    this.recordAwareness(accepted);
    this.broadcast(frame, peer);
  }

  // What y-protocols' applyAwarenessUpdate does to the states and their clocks,
  // minus its events: only newer clocks count; a removal may repeat the clock.
  private recordAwareness(entries: readonly AwarenessEntry[]): void {
    const awareness = this.awarenessState();
    const now = Date.now();
    for (const entry of entries) {
      const knownClock = awareness.meta.get(entry.clientId)?.clock ?? 0;
      const isRemoval = entry.state === null;
      if (knownClock > entry.clock || (knownClock === entry.clock && !(isRemoval && awareness.states.has(entry.clientId)))) continue;
      if (isRemoval) awareness.states.delete(entry.clientId);
      // y-protocols types states as objects but stores whatever JSON the client sent, as this does.
      else awareness.states.set(entry.clientId, entry.state as Record<string, unknown>);
      awareness.meta.set(entry.clientId, { clock: entry.clock, lastUpdated: now });
    }
  }

  // A client id belongs to the connection that first set a state for it. Stock
  // clients echo every awareness change they receive, so entries no newer than
  // what the room knows are harmless echoes: skipped, not counted as spoofing.
  private judgeAwarenessEntry(peer: RoomPeer, entry: AwarenessEntry): 'accept' | 'skip' | 'drop' {
    const owner = this.awarenessOwners.get(entry.clientId);
    if (owner === peer) return 'accept';
    const knownClock = this.awareness?.meta.get(entry.clientId)?.clock;
    if (knownClock !== undefined && entry.clock <= knownClock) return 'skip';
    if (owner !== undefined || entry.state === null) return 'drop';
    return 'accept';
  }

  // Acks are queued per batch, at most one entry per batch, so a peer that keeps
  // typing still hears about each batch that reaches disk instead of waiting for a pause.
  private requestSavedAck(peer: RoomPeer, state: PeerState): void {
    if (!peer.wantsSavedAcks) return;
    const batchId = this.persisterInstance?.latestUnsavedBatchId() ?? null;
    if (batchId === null) {
      state.owedAcks.length = 0;
      peer.send(encode({ type: 'saved', stateVector: this.stateVector(), changeFramesSaved: state.changeFrames }));
      return;
    }
    const last = state.owedAcks[state.owedAcks.length - 1];
    if (last?.batchId === batchId) last.changeFrames = state.changeFrames;
    else state.owedAcks.push({ batchId, changeFrames: state.changeFrames });
  }

  private sendSavedAcks(batchId: number, stateVector: Uint8Array): void {
    for (const [peer, state] of this.peers) {
      let changeFramesSaved = -1;
      while (state.owedAcks.length > 0 && state.owedAcks[0]!.batchId <= batchId) {
        changeFramesSaved = Math.max(changeFramesSaved, state.owedAcks.shift()!.changeFrames);
      }
      if (changeFramesSaved >= 0) peer.send(encode({ type: 'saved', stateVector, changeFramesSaved }));
    }
  }

  private persister(): RoomPersister {
    this.persisterInstance ??= new RoomPersister({
      docId: this.docId,
      store: this.store,
      logger: this.logger,
      metrics: this.metrics,
      compactAfterUpdates: this.compactAfter.updates,
      compactAfterBytes: this.compactAfter.bytes,
      initialLog: this.storedLog,
      readStateVector: () => this.stateVector(),
      readSnapshot: () => {
        const doc = this.integratedDoc();
        return { snapshot: Y.encodeStateAsUpdate(doc), stateVector: Y.encodeStateVector(doc) };
      },
      onBatchSaved: (batchId, stateVector) => this.sendSavedAcks(batchId, stateVector),
    });
    return this.persisterInstance;
  }

  private docInstance(): Y.Doc {
    if (!this.doc) {
      this.doc = new Y.Doc();
      this.doc.on('afterTransaction', this.onAfterTransaction);
    }
    return this.doc;
  }

  private awarenessState(): awarenessProtocol.Awareness {
    if (!this.awareness) {
      this.awareness = new awarenessProtocol.Awareness(this.docInstance());
      // The relay is not a participant: it must not appear in anyone's presence list.
      this.awareness.setLocalState(null);
      this.awareness.on('update', this.onAwarenessUpdate);
    }
    return this.awareness;
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

  private readonly onAwarenessUpdate = (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const changed = [...change.added, ...change.updated, ...change.removed];
    this.broadcast(this.encodeAwareness(changed), origin);
  };

  private encodeAwareness(clientIds: number[]): Uint8Array {
    return encode({ type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(this.awarenessState(), clientIds) });
  }

  // Every peer gets the same frame object: the transport frames it once for all of them.
  private broadcast(frame: Uint8Array, except: unknown): void {
    for (const peer of this.peers.keys()) {
      if (peer !== except) peer.send(frame);
    }
  }
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

function hasRole(state: unknown, role: Role): boolean {
  return typeof state === 'object' && state !== null && (state as { role?: unknown }).role === role;
}
