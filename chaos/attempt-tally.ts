/**
 * Connection attempts as the clients see them. The relay restarts during a
 * storm and its own counters start again with it, so the refusals the old one
 * answered while closing (503) are only visible from the client side.
 */
import { WebSocket } from 'ws';

/** What became of the attempts made so far. */
export interface AttemptCounts {
  readonly attempts: number;
  readonly opened: number;
  /** Upgrades answered with an HTTP status instead of 101, by status. */
  readonly refusedByStatus: Readonly<Record<string, number>>;
  /** Nobody listening (ECONNREFUSED, ECONNRESET): the relay was down. */
  readonly unreachable: number;
  /** Any other error, e.g. a connect abandoned by the client itself. */
  readonly otherErrors: number;
}

const UNEXPECTED_RESPONSE = /^Unexpected server response: (\d+)$/;
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET']);

/** Counts every socket opened through `webSocketFrom`, and how each attempt ended. */
export class AttemptTally {
  private attempts = 0;
  private opened = 0;
  private unreachable = 0;
  private otherErrors = 0;
  private readonly refusedByStatus: Record<string, number> = {};

  /**
   * A `ws` WebSocket class (for y-websocket's `WebSocketPolyfill` or the session's
   * `WebSocketImpl`) whose sockets come "from" `address` via `X-Forwarded-For`
   * (the relay trusts 127.0.0.1 as a proxy), each counted here.
   */
  webSocketFrom(address: string): typeof globalThis.WebSocket {
    // The class is built per client, so it reaches the tally through a closure, not `this`.
    const tally = this;
    class TalliedWebSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { headers: { 'X-Forwarded-For': address } });
        tally.attempts += 1;
        this.once('open', () => (tally.opened += 1));
        this.on('error', (error: Error & { code?: string }) => tally.noteError(error));
      }
    }
    return TalliedWebSocket as unknown as typeof globalThis.WebSocket;
  }

  /** The counts so far. */
  counts(): AttemptCounts {
    return {
      attempts: this.attempts,
      opened: this.opened,
      refusedByStatus: { ...this.refusedByStatus },
      unreachable: this.unreachable,
      otherErrors: this.otherErrors,
    };
  }

  private noteError(error: Error & { code?: string }): void {
    // ws reports a refused upgrade only through this message (its 'unexpected-response'
    // event would have to take over the whole handshake).
    const status = UNEXPECTED_RESPONSE.exec(error.message)?.[1];
    if (status) this.refusedByStatus[status] = (this.refusedByStatus[status] ?? 0) + 1;
    else if (error.code && UNREACHABLE_CODES.has(error.code)) this.unreachable += 1;
    else this.otherErrors += 1;
  }
}

/** What happened between two readings of one tally. */
export function diffCounts(before: AttemptCounts, after: AttemptCounts): AttemptCounts {
  const refusedByStatus: Record<string, number> = {};
  for (const [status, count] of Object.entries(after.refusedByStatus)) {
    const delta = count - (before.refusedByStatus[status] ?? 0);
    if (delta > 0) refusedByStatus[status] = delta;
  }
  return {
    attempts: after.attempts - before.attempts,
    opened: after.opened - before.opened,
    refusedByStatus,
    unreachable: after.unreachable - before.unreachable,
    otherErrors: after.otherErrors - before.otherErrors,
  };
}

/** All refusals, whatever their status. */
export function sumRefused(counts: AttemptCounts): number {
  return Object.values(counts.refusedByStatus).reduce((sum, count) => sum + count, 0);
}
