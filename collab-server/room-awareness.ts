/**
 * One room's awareness (cursors and presence): the states peers publish, kept
 * in a y-protocols `Awareness`, admitted by the room's `AwarenessPolicy`, and
 * broadcast to the room's other peers. Created on the first state, so a room
 * nobody publishes presence in holds none.
 */
import * as awarenessProtocol from 'y-protocols/awareness';
import type * as Y from 'yjs';

import type { DocId } from '../lib/ids';
import {
  PROTOCOL_ERROR_REASONS,
  ProtocolError,
  assertNever,
  encode,
  encodeAwarenessUpdate,
  readAwarenessEntries,
  type AwarenessEntry,
} from '../lib/protocol';
import { AwarenessPolicy } from './awareness-policy';
import type { Logger } from './logger';
import type { RelayMetrics } from './metrics';
import type { RoomPeer } from './room';

/** Options of `RoomAwareness`. */
export interface RoomAwarenessOptions {
  readonly docId: DocId;
  /** Client ids one connection may own. */
  readonly maxIdsPerConnection: number;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  /** The room's document, which a y-protocols `Awareness` is bound to. */
  readonly doc: () => Y.Doc;
  /** Sends `frame` to every peer of the room but `except`. */
  readonly broadcast: (frame: Uint8Array, except: unknown) => void;
  /**
   * Cluster mode: the states of this relay's peers changed by `update` (admitted
   * and role-stamped); `ownedIds` is every id they own now. Other relays apply it.
   */
  readonly onLocalChange?: (update: Uint8Array, ownedIds: readonly number[]) => void;
}

/** The origin of changes to the awareness that came from other relay processes. */
const REMOTE_ORIGIN = Symbol('remote presence');
/**
 * A state another relay sent is kept this long even when its owner's heartbeat
 * does not list it yet: the listing is renewed once a heartbeat, the state may
 * have arrived just after.
 */
const REMOTE_LISTING_GRACE_MS = 5_000;

/** The presence of one room. */
export class RoomAwareness {
  private awareness: awarenessProtocol.Awareness | null = null;
  private readonly policy: AwarenessPolicy<RoomPeer>;
  /** Cluster mode: ids whose states came from another relay, with that relay and when. */
  private readonly remoteOwners = new Map<number, { readonly origin: string; readonly receivedAtMs: number }>();

  constructor(private readonly options: RoomAwarenessOptions) {
    this.policy = new AwarenessPolicy({ maxIdsPerConnection: options.maxIdsPerConnection });
  }

  /** Every known state as one awareness frame, or null when there is none (a newcomer's greeting). */
  greeting(): Uint8Array | null {
    const states = this.awareness?.getStates();
    return states && states.size > 0 ? this.encode([...states.keys()]) : null;
  }

  /** The answer to query-awareness: every known state. */
  everyState(): Uint8Array {
    return this.encode([...(this.awareness?.getStates().keys() ?? [])]);
  }

  /**
   * Admits what it may of an awareness update from `peer` (its bytes `frame`)
   * and broadcasts it. Throws `ProtocolError`: malformed, or a policy violation
   * for a message with too many entries or a peer that keeps sending refused ones.
   */
  receive(peer: RoomPeer, update: Uint8Array, frame: Uint8Array): void {
    const awareness = this.state();
    const { policy } = this;
    const entries = readAwarenessEntries(update, { maxEntries: policy.maxEntriesPerMessage(awareness.meta.size) });
    const now = Date.now();
    const accepted: AwarenessEntry[] = [];
    let isExact = true;
    let refused: string | null = null;
    let refusedCount = 0;
    for (const entry of entries) {
      const knownClock = awareness.meta.get(entry.clientId)?.clock;
      // A peer of another relay owns it: an echo (no newer) is skipped, anything else is spoofing.
      const judgement = this.remoteOwners.has(entry.clientId)
        ? knownClock !== undefined && entry.clock <= knownClock
          ? ({ kind: 'skip' } as const)
          : ({ kind: 'refuse', reason: `client id ${entry.clientId} belongs to a peer of another relay` } as const)
        : policy.judge(peer, entry, knownClock, now);
      switch (judgement.kind) {
        case 'accept':
          accepted.push(judgement);
          isExact &&= judgement.isExact;
          break;
        case 'skip':
          isExact = false;
          break;
        case 'refuse':
          isExact = false;
          refusedCount += 1;
          refused ??= judgement.reason;
          break;
        default:
          assertNever(judgement);
      }
    }
    if (refused !== null) {
      this.options.metrics.awarenessDropped.inc(refusedCount);
      this.options.logger.warn({ docId: this.options.docId, connectionId: peer.id, refused: refusedCount, reason: refused }, 'refused awareness entries');
      if (policy.strike(peer, refusedCount, now)) {
        throw new ProtocolError(PROTOCOL_ERROR_REASONS.policyViolation, `repeated invalid awareness: ${refused}`);
      }
    }
    if (accepted.length === 0) return;
    if (!isExact) {
      const admitted = encodeAwarenessUpdate(accepted);
      awarenessProtocol.applyAwarenessUpdate(awareness, admitted, peer);
      this.options.onLocalChange?.(admitted, policy.ownedClientIds());
      return;
    }
    // Accepted as sent (a cursor move, the most frequent message): peers get the
    // frame's own bytes, and the room's copy takes the states already decoded,
    // rather than y-protocols decoding and parsing them again and re-encoding them.
    this.record(accepted, now);
    this.options.broadcast(frame, peer);
    this.options.onLocalChange?.(update, policy.ownedClientIds());
  }

  /**
   * Cluster mode: applies states another relay's peers published (`origin` is
   * that relay) and forwards them to this relay's peers. Ids owned here are left out.
   */
  applyRemote(update: Uint8Array, origin: string): void {
    const awareness = this.state();
    const now = Date.now();
    const entries: AwarenessEntry[] = [];
    for (const entry of readAwarenessEntries(update)) {
      if (this.policy.isOwned(entry.clientId)) continue;
      const state: unknown = JSON.parse(entry.stateJson);
      if (state === null) this.remoteOwners.delete(entry.clientId);
      else this.remoteOwners.set(entry.clientId, { origin, receivedAtMs: now });
      entries.push({ clientId: entry.clientId, clock: entry.clock, state });
    }
    if (entries.length > 0) awarenessProtocol.applyAwarenessUpdate(awareness, encodeAwarenessUpdate(entries), REMOTE_ORIGIN);
  }

  /**
   * Cluster mode: relay `origin` is gone (`keep` null), or its peers now own
   * only `keep`: removes its other states here, and tells this relay's peers.
   */
  dropRemote(origin: string, keep: ReadonlySet<number> | null): void {
    const { awareness } = this;
    if (!awareness) return;
    const now = Date.now();
    const dropped: number[] = [];
    for (const [clientId, owner] of this.remoteOwners) {
      if (owner.origin !== origin) continue;
      if (keep !== null && (keep.has(clientId) || now - owner.receivedAtMs < REMOTE_LISTING_GRACE_MS)) continue;
      this.remoteOwners.delete(clientId);
      dropped.push(clientId);
    }
    const present = dropped.filter((clientId) => awareness.getStates().has(clientId));
    if (present.length > 0) awarenessProtocol.removeAwarenessStates(awareness, present, REMOTE_ORIGIN);
    // Forgotten with their clocks, so the same client is heard again through another relay.
    for (const clientId of dropped) awareness.meta.delete(clientId);
  }

  /** The states of this relay's own peers as one awareness update, or null when they have none. */
  localStates(): Uint8Array | null {
    const ids = this.policy.ownedClientIds().filter((clientId) => this.awareness?.getStates().has(clientId));
    return ids.length > 0 && this.awareness ? awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids) : null;
  }

  /**
   * Removes, at once, every state `peer` owned; then forgets those ids' clocks
   * too, so whoever returns with them is heard again.
   */
  leave(peer: RoomPeer): void {
    const { awareness } = this;
    if (!awareness) return;
    const owned = this.policy.release(peer, (clientId) => awareness.meta.get(clientId)?.clock, Date.now());
    const present = owned.filter((clientId) => awareness.getStates().has(clientId));
    if (present.length > 0) {
      awarenessProtocol.removeAwarenessStates(awareness, present, peer);
      // Encoded before the clocks are forgotten: the removal must outrank the last state.
      this.options.onLocalChange?.(awarenessProtocol.encodeAwarenessUpdate(awareness, present), this.policy.ownedClientIds());
    }
    for (const clientId of owned) awareness.meta.delete(clientId);
  }

  /** Stops the awareness's timers. */
  destroy(): void {
    this.awareness?.off('update', this.onUpdate);
    this.awareness?.destroy();
  }

  // What y-protocols' applyAwarenessUpdate does to the states and their clocks,
  // minus its events: only newer clocks count; a removal may repeat the clock.
  private record(entries: readonly AwarenessEntry[], now: number): void {
    const awareness = this.state();
    for (const entry of entries) {
      const knownClock = awareness.meta.get(entry.clientId)?.clock ?? 0;
      const isRemoval = entry.state === null;
      if (knownClock > entry.clock || (knownClock === entry.clock && !(isRemoval && awareness.states.has(entry.clientId)))) continue;
      if (isRemoval) awareness.states.delete(entry.clientId);
      // y-protocols types states as objects; the policy admitted only objects.
      else awareness.states.set(entry.clientId, entry.state as Record<string, unknown>);
      awareness.meta.set(entry.clientId, { clock: entry.clock, lastUpdated: now });
    }
  }

  private state(): awarenessProtocol.Awareness {
    if (!this.awareness) {
      this.awareness = new awarenessProtocol.Awareness(this.options.doc());
      // The relay is not a participant: it must not appear in anyone's presence list.
      this.awareness.setLocalState(null);
      this.awareness.on('update', this.onUpdate);
    }
    return this.awareness;
  }

  // Changes y-protocols made itself (rewritten states, removals, timeouts) go to the other peers.
  private readonly onUpdate = (change: { added: number[]; updated: number[]; removed: number[] }, origin: unknown): void => {
    this.options.broadcast(this.encode([...change.added, ...change.updated, ...change.removed]), origin);
  };

  private encode(clientIds: number[]): Uint8Array {
    return encode({ type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(this.state(), clientIds) });
  }
}
