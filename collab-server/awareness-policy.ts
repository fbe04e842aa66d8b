/**
 * Who may say what in a room's awareness (cursors and presence), decided per
 * entry, apart from the sockets and the states themselves:
 *
 * - A connection owns the client ids it first sets a state for, at most
 *   `maxIdsPerConnection` of them. Entries for an id another connection owns
 *   are echoes (no newer than what the room knows: skipped) or spoofing
 *   (refused).
 * - A state must match the app's schema (`lib/awareness-state.ts`), be at most
 *   `MAX_AWARENESS_STATE_BYTES` encoded, and carry the role of the link that
 *   opened the connection: the relay, not the client, says who is a viewer.
 *   Unknown top-level fields are dropped.
 * - When a connection closes, its ids are forgotten completely, states and
 *   clocks, so whoever returns with them is heard again whatever clock they
 *   bring. For a short while the relay still recognises late echoes of them
 *   from other connections (clients echo every change they receive, and one
 *   sent just before the removal arrives after it) and does not let those
 *   resurrect a ghost; a connection that claims nothing yet is never treated
 *   so, since a returning client's first claim is its own id.
 * - Refused entries are strikes; a connection that keeps sending them is cut off.
 */
import { MAX_AWARENESS_STATE_BYTES, checkAwarenessState, type AwarenessState } from '../lib/awareness-state';
import { parseAwarenessStateJson, type RawAwarenessEntry } from '../lib/protocol';
import type { Role } from '../lib/roles';
import { TokenBucket } from './token-bucket';

/** How long a released id's clock is kept to recognise late echoes: the awareness timeout of y-protocols. */
const RELEASED_ID_MEMORY_MS = 30_000;
/** Released ids remembered per room at most; the oldest go first. */
const MAX_RELEASED_IDS = 4096;
/** Refused entries a connection may send in a burst, and how fast that allowance returns. */
const STRIKES = { capacity: 8, refillPerSecond: 0.2 } as const;
/** Entries an awareness message may hold beyond the ids the room knows (clients echo what they know). */
const EXTRA_ENTRIES_PER_MESSAGE = 16;

/** What the policy needs of a peer. */
export interface AwarenessPeer {
  /** The role of the link that opened the connection. */
  readonly role: Role;
}

/** The decision on one entry. */
export type AwarenessJudgement =
  /** Store and forward. `isExact`: the state is exactly as sent, so the sender's bytes may be forwarded. */
  | { readonly kind: 'accept'; readonly clientId: number; readonly clock: number; readonly state: AwarenessState | null; readonly isExact: boolean }
  /** Harmless and useless (an echo, a stale clock, a removal of an id nobody owns): drop silently. */
  | { readonly kind: 'skip' }
  /** Invalid or not this connection's to send: drop, and count a strike. */
  | { readonly kind: 'refuse'; readonly reason: string };

/** Options of `AwarenessPolicy`. */
export interface AwarenessPolicyOptions {
  /** Client ids one connection may own (COLLAB_MAX_AWARENESS_IDS_PER_CONNECTION). */
  readonly maxIdsPerConnection: number;
}

/** Ownership, validation and strikes for one room's awareness. */
export class AwarenessPolicy<Peer extends AwarenessPeer> {
  private readonly owners = new Map<number, Peer>();
  private readonly owned = new Map<Peer, Set<number>>();
  private readonly released = new Map<number, { readonly clock: number; readonly releasedAtMs: number }>();
  private readonly strikes = new Map<Peer, TokenBucket>();

  constructor(private readonly options: AwarenessPolicyOptions) {}

  /** The most entries an awareness message may hold in a room that knows `knownIds` client ids. */
  maxEntriesPerMessage(knownIds: number): number {
    return knownIds + this.released.size + this.options.maxIdsPerConnection + EXTRA_ENTRIES_PER_MESSAGE;
  }

  /**
   * Judges one entry from `peer`; `knownClock` is the room's clock for that id,
   * if it has one. Accepting a state for a new id makes `peer` its owner.
   * Throws `ProtocolError` (malformed) when the state it must read is not JSON.
   */
  judge(peer: Peer, entry: RawAwarenessEntry, knownClock: number | undefined, nowMs: number): AwarenessJudgement {
    const { clientId, clock } = entry;
    const owner = this.owners.get(clientId);
    const isStale = knownClock !== undefined && clock <= knownClock;
    if (owner !== undefined && owner !== peer) {
      return isStale ? SKIP : { kind: 'refuse', reason: `client id ${clientId} belongs to another connection` };
    }
    const isRemoval = entry.stateJson === 'null';
    if (owner === undefined) {
      if (isRemoval || isStale || this.isLateEcho(peer, clientId, clock, nowMs)) return SKIP;
      if (this.ownedCount(peer) >= this.options.maxIdsPerConnection) {
        return { kind: 'refuse', reason: `more than ${this.options.maxIdsPerConnection} awareness client ids on one connection` };
      }
    } else if (knownClock !== undefined && clock < knownClock) {
      return SKIP;
    }
    if (entry.stateByteLength > MAX_AWARENESS_STATE_BYTES) {
      return { kind: 'refuse', reason: `awareness state of ${entry.stateByteLength} bytes exceeds ${MAX_AWARENESS_STATE_BYTES}` };
    }
    if (isRemoval) return { kind: 'accept', clientId, clock, state: null, isExact: true };
    const check = checkAwarenessState(parseAwarenessStateJson(entry.stateJson));
    if (!check.ok) return { kind: 'refuse', reason: `invalid awareness state: ${check.reason}` };
    if (owner === undefined) this.claim(peer, clientId);
    const isRoleRight = check.state.role === peer.role;
    return {
      kind: 'accept',
      clientId,
      clock,
      state: isRoleRight ? check.state : { ...check.state, role: peer.role },
      isExact: check.isExact && isRoleRight,
    };
  }

  /**
   * Counts `count` strikes against `peer`; true when it has used up its
   * allowance and must be cut off.
   */
  strike(peer: Peer, count: number, nowMs: number): boolean {
    let bucket = this.strikes.get(peer);
    if (!bucket) {
      bucket = new TokenBucket(STRIKES, nowMs);
      this.strikes.set(peer, bucket);
    }
    return !bucket.tryTake(count, nowMs);
  }

  /**
   * Forgets everything about `peer` and returns the ids it owned. `clockOf`
   * gives each id's last clock, remembered briefly to recognise late echoes.
   */
  release(peer: Peer, clockOf: (clientId: number) => number | undefined, nowMs: number): number[] {
    this.strikes.delete(peer);
    const ids = this.owned.get(peer);
    if (!ids) return [];
    this.owned.delete(peer);
    this.pruneReleased(nowMs);
    for (const clientId of ids) {
      this.owners.delete(clientId);
      const clock = clockOf(clientId);
      if (clock === undefined) continue;
      // Re-inserted so the map stays ordered by release time.
      this.released.delete(clientId);
      if (this.released.size >= MAX_RELEASED_IDS) this.released.delete(this.released.keys().next().value!);
      this.released.set(clientId, { clock, releasedAtMs: nowMs });
    }
    return [...ids];
  }

  /** Every client id some connection owns. */
  ownedClientIds(): number[] {
    return [...this.owners.keys()];
  }

  /** Whether a connection owns `clientId`. */
  isOwned(clientId: number): boolean {
    return this.owners.has(clientId);
  }

  /** Client ids `peer` owns. */
  ownedCount(peer: Peer): number {
    return this.owned.get(peer)?.size ?? 0;
  }

  private claim(peer: Peer, clientId: number): void {
    let ids = this.owned.get(peer);
    if (!ids) {
      ids = new Set();
      this.owned.set(peer, ids);
    }
    ids.add(clientId);
    this.owners.set(clientId, peer);
    this.released.delete(clientId);
  }

  // An echo of a departed client's state, sent before the relay's removal reached the echoing client.
  private isLateEcho(peer: Peer, clientId: number, clock: number, nowMs: number): boolean {
    const released = this.released.get(clientId);
    if (!released || nowMs - released.releasedAtMs >= RELEASED_ID_MEMORY_MS) return false;
    return clock <= released.clock && this.ownedCount(peer) > 0;
  }

  private pruneReleased(nowMs: number): void {
    for (const [clientId, released] of this.released) {
      if (nowMs - released.releasedAtMs < RELEASED_ID_MEMORY_MS) break;
      this.released.delete(clientId);
    }
  }
}

const SKIP: AwarenessJudgement = { kind: 'skip' };
