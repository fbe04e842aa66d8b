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
}

/**
 * Sync step 1 requests: a client sends one per connection (stock y-websocket
 * and the app alike; `resyncInterval` off), so three at once and one more
 * every 20 s is generous.
 */
export const SYNC_REQUEST_BUDGET: BucketSpec = { capacity: 3, refillPerSecond: 1 / 20 };
/** query-awareness: the app never sends it; a stock client may once after connecting. */
export const AWARENESS_QUERY_BUDGET: BucketSpec = { capacity: 3, refillPerSecond: 1 / 20 };

/** Requests with budgets of their own. */
export type CostlyRequest = 'sync-step-1' | 'query-awareness';

/**
 * The frame and byte budgets one client (an IPv4 address or IPv6 /64) shares
 * across all its connections: without it, each new socket would bring a fresh
 * burst, and a client holding many sockets many budgets.
 */
export class ClientBudget {
  readonly frames: TokenBucket;
  readonly bytes: TokenBucket;
  /** Connections holding this budget. */
  holders = 0;

  constructor(spec: ConnectionBudgetSpec, nowMs: number) {
    this.frames = new TokenBucket(spec.frames, nowMs);
    this.bytes = new TokenBucket(spec.bytes, nowMs);
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
        if (held.holders === 0 && held.frames.isFull(Date.now()) && held.bytes.isFull(Date.now())) this.budgets.delete(clientKey);
      },
    };
  }

  /** Forgets clients with no connection whose budgets are whole again. */
  prune(nowMs: number): void {
    for (const [key, budget] of this.budgets) {
      if (budget.holders === 0 && budget.frames.isFull(nowMs) && budget.bytes.isFull(nowMs)) this.budgets.delete(key);
    }
  }
}

/** One connection's budgets (and its client's shared one); spend them frame by frame. */
export class ConnectionBudget {
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;
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
  }

  /** Spends one frame of `byteLength` bytes; returns why it is over budget, or null. */
  chargeFrame(byteLength: number, nowMs: number): string | null {
    if (!this.frames.tryTake(1, nowMs)) return `more than ${this.spec.frames.refillPerSecond} messages a second`;
    if (!this.bytes.tryTake(byteLength, nowMs)) return `more than ${this.spec.bytes.refillPerSecond} bytes a second`;
    if (this.client && !this.client.frames.tryTake(1, nowMs)) return 'more messages a second than this client may send on all its connections';
    if (this.client && !this.client.bytes.tryTake(byteLength, nowMs)) return 'more bytes a second than this client may send on all its connections';
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
