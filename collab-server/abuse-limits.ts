/**
 * Per-client limits at the edge: attempts per minute (one limiter per kind of
 * request, so the links API cannot starve upgrades or the reverse), concurrent
 * sockets per client, and the allow-list of browser origins. Clients are keyed
 * by `client-address.ts`.
 */
import type { IncomingMessage } from 'node:http';

import { TokenBucket } from './token-bucket';

/**
 * Keys tracked at most per limiter. Past it the oldest key is forgotten, which
 * only hands that client a fresh budget: memory stays bounded however many
 * addresses an attacker controls.
 */
const MAX_TRACKED_KEYS = 100_000;

/** A per-key budget of `perMinute` requests, with bursts of that size. */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly spec: { capacity: number; refillPerSecond: number };

  constructor(perMinute: number) {
    this.spec = { capacity: perMinute, refillPerSecond: perMinute / 60 };
  }

  /** Spends one request of `key`'s budget; false when it is used up. */
  tryTake(key: string, nowMs = Date.now()): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_TRACKED_KEYS) this.forgetOldest();
      bucket = new TokenBucket(this.spec, nowMs);
      this.buckets.set(key, bucket);
    }
    return bucket.tryTake(1, nowMs);
  }

  /** Forgets clients whose budget is whole again: a new bucket would start just as full. */
  prune(nowMs = Date.now()): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(nowMs)) this.buckets.delete(key);
  }

  /** Number of clients tracked, for tests and metrics. */
  get size(): number {
    return this.buckets.size;
  }

  private forgetOldest(): void {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}

/**
 * Open sockets per client. A slot is taken with one synchronous check-and-count
 * (no await between them, so concurrent upgrades cannot all pass the check)
 * and given back exactly once through the release function it returns.
 */
export class OpenSocketCounter {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerKey: number) {}

  /** Takes a slot for `key`; returns its release function, or null when `key` is at its cap. */
  tryAcquire(key: string): (() => void) | null {
    const count = this.open.get(key) ?? 0;
    if (count >= this.maxPerKey) return null;
    this.open.set(key, count + 1);
    let isReleased = false;
    return () => {
      if (isReleased) return;
      isReleased = true;
      const remaining = (this.open.get(key) ?? 1) - 1;
      if (remaining <= 0) this.open.delete(key);
      else this.open.set(key, remaining);
    };
  }

  /** Slots held by `key`. */
  countOf(key: string): number {
    return this.open.get(key) ?? 0;
  }
}

/**
 * Browsers always send `Origin`; non-browser clients (scripts, servers) may not,
 * and cannot be stopped by an origin check anyway, so a missing one passes.
 * `allowedOrigins` empty means "the same origin as the request's Host".
 */
export function isOriginAllowed(request: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (!origin) return true;
  if (allowedOrigins.length > 0) return allowedOrigins.includes(origin);
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
