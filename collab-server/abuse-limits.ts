/**
 * Per-IP limits on WebSocket upgrades: attempts per minute and concurrent
 * sockets, plus the allow-list of browser origins.
 */
import type { IncomingMessage } from 'node:http';

const WINDOW_MS = 60_000;

/** Options of `AbuseLimits`. */
export interface AbuseLimitsOptions {
  readonly maxConnectAttemptsPerMinute: number;
  readonly maxConnectionsPerIp: number;
  /** Allowed `Origin` values; empty means "the same origin as the request's Host". */
  readonly allowedOrigins: readonly string[];
}

/** Counts attempts and open sockets per client address. */
export class AbuseLimits {
  private readonly attempts = new Map<string, { windowStart: number; count: number }>();
  private readonly open = new Map<string, number>();

  constructor(private readonly options: AbuseLimitsOptions) {}

  /** Records an attempt; returns false when this address is over its per-minute budget. */
  tryAttempt(ip: string, now = Date.now()): boolean {
    const entry = this.attempts.get(ip);
    if (!entry || now - entry.windowStart >= WINDOW_MS) {
      this.attempts.set(ip, { windowStart: now, count: 1 });
      return true;
    }
    entry.count += 1;
    return entry.count <= this.options.maxConnectAttemptsPerMinute;
  }

  /** True when this address may open one more socket. */
  hasRoomFor(ip: string): boolean {
    return (this.open.get(ip) ?? 0) < this.options.maxConnectionsPerIp;
  }

  opened(ip: string): void {
    this.open.set(ip, (this.open.get(ip) ?? 0) + 1);
  }

  closed(ip: string): void {
    const count = (this.open.get(ip) ?? 1) - 1;
    if (count <= 0) this.open.delete(ip);
    else this.open.set(ip, count);
  }

  /**
   * Browsers always send `Origin`; non-browser clients (scripts, servers) may not,
   * and cannot be stopped by an origin check anyway, so a missing one passes.
   */
  isOriginAllowed(request: IncomingMessage): boolean {
    const origin = request.headers.origin;
    if (!origin) return true;
    if (this.options.allowedOrigins.length > 0) return this.options.allowedOrigins.includes(origin);
    try {
      return new URL(origin).host === request.headers.host;
    } catch {
      return false;
    }
  }

  /** Forgets finished windows so the table does not grow with every address ever seen. */
  prune(now = Date.now()): void {
    for (const [ip, entry] of this.attempts) {
      if (now - entry.windowStart >= WINDOW_MS) this.attempts.delete(ip);
    }
  }
}
