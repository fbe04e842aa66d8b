/**
 * The gate every WebSocket upgrade passes before it becomes a connection: the
 * path names a document, the origin is allowed, the client has attempts and
 * socket slots left (SPEC P1b, P1c), the link token is genuine (P1a), and the
 * document loads in time, with a bounded number of upgrades waiting for loads
 * (F5). It answers refusals itself, as raw HTTP on the socket; it knows
 * nothing of rooms beyond how to ask for one.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

import { parseDocId, type DocId } from '../lib/ids';
import { tokenFromProtocolsHeader } from '../lib/protocol';
import { API_SECURITY_HEADERS } from '../lib/security-headers';
import { isVoidedByReset, verifyToken, type TokenClaims, type TokenRefusal } from '../lib/tokens';
import { KeyedRateLimiter, OpenSocketCounter, isOriginAllowed } from './abuse-limits';

/** The HTTP statuses an upgrade may be refused with. */
export type UpgradeRefusalStatus = 400 | 401 | 403 | 404 | 429 | 503;

/** An upgrade that passed every check made before the document is read. */
export interface AdmittedUpgrade {
  readonly docId: DocId;
  readonly claims: TokenClaims;
  readonly clientKey: string;
  readonly wantsSavedAcks: boolean;
}

/** The gate's answer before the document is read. */
export type UpgradeVerdict =
  | { readonly kind: 'admit'; readonly upgrade: AdmittedUpgrade }
  | { readonly kind: 'refuse'; readonly status: UpgradeRefusalStatus; readonly reason: string };

/** The gate's answer once the document is loaded (or not). */
export type RoomVerdict<Room> =
  | { readonly kind: 'open'; readonly room: Room }
  | { readonly kind: 'refuse'; readonly status: UpgradeRefusalStatus; readonly reason: string };

/** What the gate needs of a loaded room. */
export interface GatedRoom {
  /** When the document's links were last reset (ms). */
  readonly linksResetAt: number;
}

/** Options of `UpgradeGate`. */
export interface UpgradeGateOptions {
  readonly pathPrefix: string;
  readonly secret: Uint8Array;
  /** Browser origins allowed to connect; empty: the request's own origin only. */
  readonly allowedOrigins: readonly string[];
  /** Names the client of a request (its address, or its /64). */
  readonly clientKeyOf: (request: IncomingMessage) => string;
  readonly maxConnectAttemptsPerMinute: number;
  readonly maxConnectionsPerIp: number;
  /** Upgrades that may wait for their documents to load at once, relay-wide. */
  readonly maxPendingUpgrades: number;
  /** How long an upgrade waits for its document to load before it is refused with 503. */
  readonly loadTimeoutMs: number;
}

/** Checks upgrades, counts their sockets, and bounds their wait for a document. */
export class UpgradeGate {
  private readonly attempts: KeyedRateLimiter;
  private readonly openSockets: OpenSocketCounter;
  private pendingUpgrades = 0;

  constructor(private readonly options: UpgradeGateOptions) {
    this.attempts = new KeyedRateLimiter(options.maxConnectAttemptsPerMinute);
    this.openSockets = new OpenSocketCounter(options.maxConnectionsPerIp);
  }

  /**
   * Everything checked before the document is read. An admitted upgrade holds
   * one of its client's socket slots until `socket` closes, however it closes.
   */
  check(request: IncomingMessage, socket: Duplex): UpgradeVerdict {
    // Never log `request.url`: it may carry the token.
    const url = new URL(request.url ?? '/', 'http://relay.invalid');
    const docId = docIdFromPath(url.pathname, this.options.pathPrefix);
    if (docId === 'no-match') return refuse(404, UPGRADE_STATUS_TEXT[404]);
    if (docId === null) return refuse(400, UPGRADE_STATUS_TEXT[400]);
    if (!isOriginAllowed(request, this.options.allowedOrigins)) return refuse(403, 'origin not allowed');
    const clientKey = this.options.clientKeyOf(request);
    if (!this.attempts.tryTake(clientKey)) return refuse(429, 'too many connection attempts');
    // The slot follows the TCP socket: given back when it closes, whether the upgrade is
    // refused later, rejected by ws's own handshake checks, or the WebSocket ends.
    const releaseSlot = this.openSockets.tryAcquire(clientKey);
    if (!releaseSlot) return refuse(429, 'too many connections');
    socket.once('close', releaseSlot);
    // The app sends the token in Sec-WebSocket-Protocol, which proxies do not log as they log URLs;
    // stock y-websocket clients can only put it in the query string.
    const token = tokenFromProtocolsHeader(request.headers['sec-websocket-protocol']) ?? url.searchParams.get('token');
    // The signature is checked before anything is read: a forged link costs no storage read.
    const check = verifyToken(token, { key: this.options.secret, docId });
    if (!check.ok) return refuse(TOKEN_REFUSAL_STATUS[check.reason], check.reason);
    return { kind: 'admit', upgrade: { docId, claims: check.claims, clientKey, wantsSavedAcks: url.searchParams.get('saved') === '1' } };
  }

  /**
   * Waits for the admitted upgrade's room, for at most the load timeout, and
   * checks the link against the links' reset time that loading read. Refuses
   * at once when too many upgrades already wait. A room that loads after its
   * upgrade gave up is handed to `rooms.release`, so it can unload.
   */
  async openRoom<Room extends GatedRoom>(
    upgrade: AdmittedUpgrade,
    rooms: { acquire(docId: DocId): Promise<Room>; release(room: Room): void },
  ): Promise<RoomVerdict<Room>> {
    if (this.pendingUpgrades >= this.options.maxPendingUpgrades) return refuse(503, 'too many connections waiting for documents; try again');
    this.pendingUpgrades += 1;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<'timed-out'>((resolve) => (timer = setTimeout(() => resolve('timed-out'), this.options.loadTimeoutMs)));
      const loading = rooms.acquire(upgrade.docId);
      const room = await Promise.race([loading, timedOut]);
      if (room === 'timed-out') {
        loading.then((late) => rooms.release(late), () => undefined);
        return refuse(503, 'the document is taking too long to load; try again');
      }
      if (isVoidedByReset(upgrade.claims, room.linksResetAt)) {
        rooms.release(room);
        return refuse(TOKEN_REFUSAL_STATUS.reset, 'reset');
      }
      return { kind: 'open', room };
    } catch {
      return refuse(503, 'could not load the document; try again');
    } finally {
      clearTimeout(timer);
      this.pendingUpgrades -= 1;
    }
  }

  /** Forgets attempt counts that have expired. */
  prune(): void {
    this.attempts.prune();
  }
}

/** Answers a refused upgrade as raw HTTP, with the API's security headers, and ends the socket. */
export function writeUpgradeRefusal(socket: Duplex, status: UpgradeRefusalStatus, reason: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${UPGRADE_STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `${API_SECURITY_HEADER_LINES}Content-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}

function refuse(status: UpgradeRefusalStatus, reason: string): { readonly kind: 'refuse'; readonly status: UpgradeRefusalStatus; readonly reason: string } {
  return { kind: 'refuse', status, reason };
}

const UPGRADE_STATUS_TEXT: Record<UpgradeRefusalStatus, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

// Refusals are written as raw HTTP on the upgrade socket, so the headers are pre-formatted once.
const API_SECURITY_HEADER_LINES = Object.entries(API_SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

const TOKEN_REFUSAL_STATUS: Record<TokenRefusal, UpgradeRefusalStatus> = {
  missing: 401,
  malformed: 401,
  'bad-signature': 401,
  reset: 401,
  'wrong-document': 403,
};

// `null` for a malformed doc id under the prefix, 'no-match' for another path.
function docIdFromPath(pathname: string, prefix: string): DocId | null | 'no-match' {
  if (!pathname.startsWith(`${prefix}/`)) return 'no-match';
  return parseDocId(pathname.slice(prefix.length + 1));
}
