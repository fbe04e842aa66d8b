/**
 * What one connection may send: frames and bytes per second, with bursts, plus
 * slow allowances for the two requests that make the relay do work for the
 * sender alone (sync step 1 costs a diff of the whole document; query-awareness
 * a copy of every presence). Over budget, the connection is closed (1008): the
 * relay never queues or slows a sender, so nothing of its flood reaches anyone.
 */
import type { BucketSpec } from './token-bucket';
import { TokenBucket } from './token-bucket';

/** The budgets of a connection. */
export interface ConnectionBudgetSpec {
  readonly frames: BucketSpec;
  readonly bytes: BucketSpec;
  /**
   * Milliseconds of the relay's own time its frames may take: what catches
   * updates built to be costly to merge (Yjs orders concurrent inserts by
   * scanning their neighbours, so a few hundred crafted updates a second can
   * hold a core), whatever the frame and byte counts say.
   */
  readonly timeMs: BucketSpec;
}

/**
 * Sync step 1 requests: a client sends one per connection (stock y-websocket
 * and the app alike; `resyncInterval` off), so three at once and one more
 * every 20 s is generous.
 */
export const SYNC_REQUEST_BUDGET: BucketSpec = { capacity: 3, refillPerSecond: 1 / 20 };
/** query-awareness: the app never sends it; a stock client may once after connecting. */
export const AWARENESS_QUERY_BUDGET: BucketSpec = { capacity: 3, refillPerSecond: 1 / 20 };

const CLIENT_TIME_SPENT = "frames that took more of the relay's time than this client may use on all its connections";

/** Requests with budgets of their own. */
export type CostlyRequest = 'sync-step-1' | 'query-awareness';

/**
 * The budgets one client (an IPv4 address or IPv6 /64) shares across all its
 * connections: without them, each new socket would bring a fresh burst, and a
 * client holding many sockets many budgets. When the shared frame or byte
 * budget runs out, only the sockets that have been spending their own (below
 * half of it) are cut off: behind a NAT, or a proxy not declared trusted, many
 * people share one address, and the quiet ones must not pay for the one
 * flooding (each socket's own budget still bounds it). The shared time budget
 * has no such exemption: relay time is what every other room needs, and a
 * quiet exemption per socket would hand a client fifty sockets' worth of it.
 */
export class ClientBudget {
  readonly frames: TokenBucket;
  readonly bytes: TokenBucket;
  readonly timeMs: TokenBucket;
  /** Connections holding this budget. */
  holders = 0;

  constructor(spec: ConnectionBudgetSpec, nowMs: number) {
    this.frames = new TokenBucket(spec.frames, nowMs);
    this.bytes = new TokenBucket(spec.bytes, nowMs);
    this.timeMs = new TokenBucket(spec.timeMs, nowMs);
  }

  /** True when nothing of it is spent: a new one would be the same. */
  isWhole(nowMs: number): boolean {
    return this.frames.isFull(nowMs) && this.bytes.isFull(nowMs) && this.timeMs.isFull(nowMs);
  }
}

/** Hands out one `ClientBudget` per client key, for as long as the client has a connection. */
export class ClientBudgets {
  private readonly budgets = new Map<string, ClientBudget>();

  constructor(private readonly spec: ConnectionBudgetSpec) {}

  /** The budget of `clientKey`, shared with its other connections; `release` once the connection closes. */
  acquire(clientKey: string, nowMs: number): { budget: ClientBudget; release(): void } {
    let budget = this.budgets.get(clientKey);
    if (!budget) {
      budget = new ClientBudget(this.spec, nowMs);
      this.budgets.set(clientKey, budget);
    }
    budget.holders += 1;
    const held = budget;
    let isReleased = false;
    return {
      budget: held,
      release: () => {
        if (isReleased) return;
        isReleased = true;
        held.holders -= 1;
        // A client that leaves and comes back within the refill time keeps what it spent: forget it only when idle.
        if (held.holders === 0 && held.isWhole(Date.now())) this.budgets.delete(clientKey);
      },
    };
  }

  /** Forgets clients with no connection whose budgets are whole again. */
  prune(nowMs: number): void {
    for (const [key, budget] of this.budgets) {
      if (budget.holders === 0 && budget.isWhole(nowMs)) this.budgets.delete(key);
    }
  }
}

/** One connection's budgets (and its client's shared one); spend them frame by frame. */
export class ConnectionBudget {
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;
  private readonly timeMs: TokenBucket;
  // Made on first use: most connections send one step 1 and no query at all.
  private syncRequests: TokenBucket | null = null;
  private awarenessQueries: TokenBucket | null = null;

  constructor(
    private readonly spec: ConnectionBudgetSpec,
    nowMs: number,
    private readonly client: ClientBudget | null = null,
  ) {
    this.frames = new TokenBucket(spec.frames, nowMs);
    this.bytes = new TokenBucket(spec.bytes, nowMs);
    this.timeMs = new TokenBucket(spec.timeMs, nowMs);
  }

  /** Why this connection may not have any more of the relay's time now, or null when it may. */
  timeExhausted(nowMs: number): string | null {
    if (!this.timeMs.hasAny(nowMs)) return `frames that took more than ${this.spec.timeMs.refillPerSecond} ms of the relay's time a second`;
    if (this.client && !this.client.timeMs.hasAny(nowMs)) return CLIENT_TIME_SPENT;
    return null;
  }

  /**
   * Spends `elapsedMs` of relay time, already taken by a frame; returns why the
   * budget is exhausted, or null. One frame may cost more than the whole budget
   * (a large document's first sync must not be refused on every reconnect); the
   * debt then stops the frames that follow until it is repaid.
   */
  chargeTime(elapsedMs: number, nowMs: number): string | null {
    const isWithin = this.timeMs.spend(elapsedMs, nowMs);
    if (!isWithin) return `frames that took more than ${this.spec.timeMs.refillPerSecond} ms of the relay's time a second`;
    if (this.client && !this.client.timeMs.spend(elapsedMs, nowMs)) return CLIENT_TIME_SPENT;
    return null;
  }

  /** Spends one frame of `byteLength` bytes; returns why it is over budget, or null. */
  chargeFrame(byteLength: number, nowMs: number): string | null {
    if (!this.frames.tryTake(1, nowMs)) return `more than ${this.spec.frames.refillPerSecond} messages a second`;
    if (!this.bytes.tryTake(byteLength, nowMs)) return `more than ${this.spec.bytes.refillPerSecond} bytes a second`;
    if (this.client && !this.client.frames.tryTake(1, nowMs) && !this.frames.isMostlyFull(nowMs)) {
      return 'more messages a second than this client may send on all its connections';
    }
    if (this.client && !this.client.bytes.tryTake(byteLength, nowMs) && !this.bytes.isMostlyFull(nowMs)) {
      return 'more bytes a second than this client may send on all its connections';
    }
    return null;
  }

  /** Spends one costly request; returns why it is over budget, or null. */
  chargeRequest(request: CostlyRequest, nowMs: number): string | null {
    const bucket =
      request === 'sync-step-1'
        ? (this.syncRequests ??= new TokenBucket(SYNC_REQUEST_BUDGET, nowMs))
        : (this.awarenessQueries ??= new TokenBucket(AWARENESS_QUERY_BUDGET, nowMs));
    return bucket.tryTake(1, nowMs) ? null : `too many ${request} requests`;
  }
}
