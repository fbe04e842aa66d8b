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
}

/** The presence of one room. */
export class RoomAwareness {
  private awareness: awarenessProtocol.Awareness | null = null;
  private readonly policy: AwarenessPolicy<RoomPeer>;

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
      const judgement = policy.judge(peer, entry, awareness.meta.get(entry.clientId)?.clock, now);
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
      awarenessProtocol.applyAwarenessUpdate(awareness, encodeAwarenessUpdate(accepted), peer);
      return;
    }
    // Accepted as sent (a cursor move, the most frequent message): peers get the
    // frame's own bytes, and the room's copy takes the states already decoded,
    // rather than y-protocols decoding and parsing them again and re-encoding them.
    this.record(accepted, now);
    this.options.broadcast(frame, peer);
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
    if (present.length > 0) awarenessProtocol.removeAwarenessStates(awareness, present, peer);
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
