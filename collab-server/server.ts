/**
 * `createRelay`: the HTTP + WebSocket front of the relay. It validates the
 * upgrade, creates a `Connection` per socket, runs the heartbeat sweep, and
 * serves /healthz (status only) and the links API. Metrics have a listener of
 * their own (metrics-server.ts). Rooms and storage live behind it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

import { toConnectionId } from '../lib/ids';
import { CLOSE_CODES, INKWELL_SUBPROTOCOL } from '../lib/protocol';
import { API_SECURITY_HEADERS } from '../lib/security-headers';
import type { TokenClaims } from '../lib/tokens';
import { KeyedRateLimiter } from './abuse-limits';
import { createClientKeyResolver } from './client-address';
import { Connection, type ConnectionLimits } from './connection';
import { ClientBudgets, type ConnectionBudgetSpec } from './connection-budget';
import { createLinksApi } from './links-api';
import { createSilentLogger, type Logger } from './logger';
import { createRelayMetrics, type RelayMetrics } from './metrics';
import type { Room } from './room';
import type { RoomFeed } from './room-feed';
import { RoomRegistry } from './rooms';
import type { DocStore } from './storage/doc-store';
import { UpgradeGate, writeUpgradeRefusal, type AdmittedUpgrade, type UpgradeRefusalStatus } from './upgrade-gate';
import { FrameCache } from './ws-frame';

/** Tunables with their defaults; every one can be overridden per relay. */
export const RELAY_DEFAULTS = {
  host: '127.0.0.1',
  port: 1234,
  pathPrefix: '',
  maxMessageBytes: 8 * 1024 * 1024,
  heartbeatIntervalMs: 15_000,
  roomIdleMs: 10_000,
  compactAfterUpdates: 10_000,
  compactAfterBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxDocBytes: 64 * 1024 * 1024,
  // Unsaved bytes a room may hold while storage fails or lags: enough for minutes of
  // a full room typing, little enough that a relay with many such rooms survives.
  maxUnsavedBytes: 16 * 1024 * 1024,
  writeStallMs: 5_000,
  loadTimeoutMs: 10_000,
  maxPendingUpgrades: 1_000,
  // Below the 15 s after which a signalled relay exits regardless (shutdown.ts).
  shutdownTimeoutMs: 10_000,
  maxAwarenessIdsPerConnection: 4,
  messageTimeoutMs: 60_000,
  // Measured with the real app (bench/client-traffic.ts): a person typing at
  // keyboard auto-repeat speed sends under 40 frames a second, a script typing
  // as fast as Chromium takes keys about 120; pasting a 105,000-character
  // document is one frame of 143 KB. Stock y-websocket clients also echo every
  // awareness change they receive, so a busy room adds frames per peer.
  rateFramesPerSecond: 200,
  rateFrameBurst: 1_000,
  rateBytesPerSecond: 1024 * 1024,
  rateByteBurst: 16 * 1024 * 1024,
  // A client's sockets together may send this many times one socket's budget, so
  // opening more sockets (up to maxConnectionsPerIp) does not multiply a flood.
  rateClientFactor: 5,
  // Relay time one client's frames may take, on all its sockets together: a
  // twentieth of a core, in bursts of a second (merging a large paste); one frame
  // may cost more (a large offline edit's first sync) and is repaid after.
  // Typing costs microseconds a key.
  rateTimeMsPerSecond: 50,
  rateTimeMsBurst: 1_000,
  maxConnectAttemptsPerMinute: 120,
  maxApiRequestsPerMinute: 120,
  maxConnectionsPerIp: 50,
  // An access log of raw request lines, as a reverse proxy writes one: off by default.
  logRequestLines: false,
} as const;

/** Every tunable of a relay. */
export type RelayConfig = {
  -readonly [K in keyof typeof RELAY_DEFAULTS]: (typeof RELAY_DEFAULTS)[K] extends string ? string : (typeof RELAY_DEFAULTS)[K] extends boolean ? boolean : number;
};

/** What `createRelay` needs besides tunables. */
export interface CreateRelayOptions extends Partial<RelayConfig> {
  readonly store: DocStore;
  /** Key that signs and checks share-link tokens. */
  readonly secret: Uint8Array;
  /** Browser origins allowed to connect; empty or absent: the request's own origin only. */
  readonly allowedOrigins?: readonly string[];
  /** Proxies (IPs or CIDRs) whose `X-Forwarded-For` names the client; empty or absent: none. */
  readonly trustedProxies?: readonly string[];
  readonly logger?: Logger;
  /** Cluster mode: how rooms hear of changes made on the other relay processes sharing `store`. */
  readonly feed?: RoomFeed;
}

/** A running relay. */
export interface Relay {
  /** `ws://host:port` (plus the path prefix); append `/<docId>`. */
  readonly url: string;
  readonly port: number;
  readonly metrics: RelayMetrics;
  /** Stops accepting, writes everything to disk, closes sockets with 1001, closes the store. */
  close(): Promise<void>;
}

// How long shutdown waits for clients to answer the close handshake before dropping them.
const CLOSE_HANDSHAKE_GRACE_MS = 1_000;

/**
 * The relay without a listener of its own: `handleUpgrade` and `handleRequest`
 * plug into any HTTP server, so the relay can share one port with the web app.
 */
export interface RelayEndpoint {
  readonly config: RelayConfig;
  readonly metrics: RelayMetrics;
  /** Takes over an upgrade request (any path; refuses those outside the prefix). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Serves /healthz and the links API; returns false for any other request (which it logs when asked to). */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean;
  /** Stops accepting, writes everything to disk, closes sockets with 1001, closes the store. */
  close(): Promise<void>;
}

/** Builds the relay's upgrade and HTTP handlers over `options.store`. */
export function createRelayEndpoint(options: CreateRelayOptions): RelayEndpoint {
  const config: RelayConfig = { ...RELAY_DEFAULTS, ...definedOnly(options) };
  const { store } = options;
  const logger = options.logger ?? createSilentLogger();
  const registry: { rooms: RoomRegistry | null } = { rooms: null };
  const metrics = createRelayMetrics(() => registry.rooms?.stats() ?? { count: 0, approxBytes: 0 });
  const rooms = new RoomRegistry({
    store,
    feed: options.feed,
    logger,
    metrics,
    roomIdleMs: config.roomIdleMs,
    roomLimits: {
      compactAfterUpdates: config.compactAfterUpdates,
      compactAfterBytes: config.compactAfterBytes,
      maxAwarenessIdsPerConnection: config.maxAwarenessIdsPerConnection,
      maxDocBytes: config.maxDocBytes,
      maxUnsavedBytes: config.maxUnsavedBytes,
      writeStallMs: config.writeStallMs,
    },
    events: {
      onHealthChange: (health) => {
        metrics.storageDegraded.set(health.state === 'degraded' ? 1 : 0);
        if (health.state === 'degraded') logger.error({ reason: health.reason }, 'storage degraded');
        else logger.info({}, 'storage healthy again');
      },
    },
  });
  registry.rooms = rooms;

  const connections = new Set<Connection>();
  const wss = new WebSocketServer({
    noServer: true,
    // ws refuses a frame or a fragmented message past this from its header alone (1009), before buffering it.
    maxPayload: config.maxMessageBytes,
    perMessageDeflate: false,
    // One message per socket per event-loop turn: a socket whose TCP read holds
    // thousands of frames must not hold every other socket up while they are all
    // handled; its frames wait their turn instead (measured: bench/flood.ts).
    allowSynchronousEvents: false,
    // The app offers `inkwell` and `inkwell.token.<token>`: select the first, never echo the token back.
    handleProtocols: (protocols) => (protocols.has(INKWELL_SUBPROTOCOL) ? INKWELL_SUBPROTOCOL : false),
  });
  const frames = new FrameCache();
  // A client's sockets share its budget. Relay time is not multiplied: it is the one
  // resource no other budget bounds, and the same for one socket as for many.
  const budget = (factor: number): ConnectionBudgetSpec => ({
    frames: { capacity: config.rateFrameBurst * factor, refillPerSecond: config.rateFramesPerSecond * factor },
    bytes: { capacity: config.rateByteBurst * factor, refillPerSecond: config.rateBytesPerSecond * factor },
    timeMs: { capacity: config.rateTimeMsBurst, refillPerSecond: config.rateTimeMsPerSecond },
  });
  const connectionLimits: ConnectionLimits = {
    maxBufferedBytes: config.maxBufferedBytes,
    messageTimeoutMs: config.messageTimeoutMs,
    budget: budget(1),
  };
  const clientBudgets = new ClientBudgets(budget(config.rateClientFactor));
  let nextConnectionNumber = 0;
  let isClosing = false;

  const clientKeyOf = createClientKeyResolver(options.trustedProxies ?? []);
  const gate = new UpgradeGate({
    pathPrefix: config.pathPrefix,
    secret: options.secret,
    allowedOrigins: options.allowedOrigins ?? [],
    clientKeyOf,
    maxConnectAttemptsPerMinute: config.maxConnectAttemptsPerMinute,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    maxPendingUpgrades: config.maxPendingUpgrades,
    loadTimeoutMs: config.loadTimeoutMs,
  });
  const apiLimiter = new KeyedRateLimiter(config.maxApiRequestsPerMinute);

  const refuseUpgrade = (socket: Duplex, status: UpgradeRefusalStatus, reason: string): void => {
    metrics.upgradesRefused.inc({ status: String(status) });
    writeUpgradeRefusal(socket, status, reason);
  };

  // Raw, like a proxy's access log: the app's own requests carry no token in their URLs (SPEC P1a).
  const accessLog = config.logRequestLines ? logger.child({ log: 'access' }) : null;
  const logRequestLine = (request: IncomingMessage): void =>
    accessLog?.info({ method: request.method, url: request.url, httpVersion: request.httpVersion }, 'request');

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    logRequestLine(request);
    socket.on('error', destroyOnError);
    if (isClosing) return refuseUpgrade(socket, 503, 'relay shutting down');
    const verdict = gate.check(request, socket);
    if (verdict.kind === 'refuse') return refuseUpgrade(socket, verdict.status, verdict.reason);
    const { upgrade } = verdict;
    // The handshake completes only once the document is loaded: the one read that
    // loads it also says when its links were last reset, and no frame ever waits for it.
    void gate.openRoom(upgrade, rooms).then((opened) => {
      if (opened.kind === 'refuse') {
        if (opened.status === 503) logger.warn({ docId: upgrade.docId, reason: opened.reason }, 'refused an upgrade: document not available');
        refuseUpgrade(socket, opened.status, opened.reason);
        return;
      }
      const { room } = opened;
      if (isClosing) refuseUpgrade(socket, 503, 'relay shutting down');
      // The client may have given up while the document loaded (ws makes the same check).
      else if (socket.readable && socket.writable) accept({ request, socket, head, room, upgrade });
      // Unless a peer joined just now, this starts the grace period after which an empty room unloads.
      rooms.release(room);
    });
  };

  const accept = (opening: { request: IncomingMessage; socket: Duplex; head: Buffer; room: Room; upgrade: AdmittedUpgrade }): void => {
    const { request, socket, head, room } = opening;
    const { claims, clientKey, wantsSavedAcks }: { claims: TokenClaims; clientKey: string; wantsSavedAcks: boolean } = opening.upgrade;
    // From here on ws handles the socket's errors.
    socket.off('error', destroyOnError);
    wss.handleUpgrade(request, socket, head, (ws) => {
      nextConnectionNumber += 1;
      const client = clientBudgets.acquire(clientKey, Date.now());
      const id = toConnectionId(`c${nextConnectionNumber.toString(36)}`);
      const connection = new Connection({
        id,
        role: claims.role,
        issuedAt: claims.issuedAt,
        socket: ws,
        stream: socket,
        room,
        wantsSavedAcks,
        limits: connectionLimits,
        clientBudget: client.budget,
        frames,
        logger,
        metrics,
        onClosed: (closed) => {
          client.release();
          connections.delete(closed);
          metrics.connections.dec();
          rooms.release(closed.room);
        },
      });
      connections.add(connection);
      metrics.connections.inc();
      logger.debug({ docId: room.docId, connectionId: id, wantsSavedAcks, role: claims.role }, 'connection opened');
      connection.open();
    });
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse): boolean => {
    logRequestLine(request);
    const path = new URL(request.url ?? '/', 'http://relay.invalid').pathname;
    // Status only: counts of connections and rooms would tell anyone how busy the relay is.
    // Degraded is still 200: the relay serves and keeps unsaved changes in memory, and
    // a process manager that restarted it would lose exactly those (SPEC O2, F3).
    if (request.method === 'GET' && path === '/healthz') {
      const health = rooms.health();
      if (isClosing) sendJson(response, 503, { status: 'closing' });
      else if (health.state === 'degraded') sendJson(response, 200, { status: 'degraded', reason: health.reason });
      else sendJson(response, 200, { status: 'ok' });
      return true;
    }
    return linksApi.handle(request, response, path);
  };

  const linksApi = createLinksApi({
    store,
    key: options.secret,
    pathPrefix: config.pathPrefix,
    logger,
    limiter: apiLimiter,
    clientKeyOf,
    // A reset voids older links for the next upgrade; the room ends their live sessions at once.
    onLinksReset: (docId, resetAt) => rooms.noteLinksReset(docId, resetAt),
  });

  const heartbeat = setInterval(() => {
    gate.prune();
    apiLimiter.prune();
    clientBudgets.prune(Date.now());
    const now = Date.now();
    for (const connection of connections) connection.sweep(now);
  }, config.heartbeatIntervalMs);

  return {
    config,
    metrics,
    handleUpgrade: onUpgrade,
    handleRequest: onRequest,
    async close() {
      if (isClosing) return;
      isClosing = true;
      clearInterval(heartbeat);
      // Ignore frames from here on: nothing sent now was acknowledged as saved,
      // and clients send it again when they reconnect.
      for (const connection of connections) connection.drain();
      const unwritten = await rooms.closeAll(config.shutdownTimeoutMs);
      if (unwritten.length > 0) {
        logger.error({ docIds: unwritten, timeoutMs: config.shutdownTimeoutMs }, 'shutting down with changes not written to storage');
      }
      const sockets = [...wss.clients];
      for (const connection of connections) connection.close(CLOSE_CODES.goingAway, 'relay shutting down');
      await waitForSocketsToClose(sockets, CLOSE_HANDSHAKE_GRACE_MS);
      // A hung store must not hold shutdown: whatever it still writes is reported above.
      await withTimeout(store.close(), CLOSE_HANDSHAKE_GRACE_MS).catch((error: unknown) => logger.error({ err: error }, 'closing the store failed'));
      logger.info({}, 'relay stopped');
    },
  };
}

/** Starts a relay listening on `host:port` (port 0 picks a free one). */
export async function createRelay(options: CreateRelayOptions): Promise<Relay> {
  const endpoint = createRelayEndpoint(options);
  const { config } = endpoint;
  const server: Server = createServer((request, response) => {
    if (!endpoint.handleRequest(request, response)) sendJson(response, 404, { error: 'not found' });
  });
  server.on('upgrade', endpoint.handleUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `ws://${hostForUrl}:${address.port}${config.pathPrefix}`;

  return {
    url,
    port: address.port,
    metrics: endpoint.metrics,
    async close() {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await endpoint.close();
      server.closeAllConnections();
      await serverClosed;
    },
  };
}

// Resolves when `promise` settles or `timeoutMs` passes, whichever is first.
async function withTimeout(promise: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  try {
    await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForSocketsToClose(sockets: readonly WebSocket[], graceMs: number): Promise<void> {
  const open = sockets.filter((socket) => socket.readyState !== socket.CLOSED);
  const closed = Promise.all(open.map((socket) => new Promise((resolve) => socket.once('close', resolve))));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise((resolve) => (timer = setTimeout(resolve, graceMs)));
  await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  for (const socket of open) if (socket.readyState !== socket.CLOSED) socket.terminate();
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { ...API_SECURITY_HEADERS, 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

// A named function, not a closure: a listener that outlived the upgrade would keep
// the request (headers, URL and token) alive for as long as the socket.
function destroyOnError(this: Duplex): void {
  this.destroy();
}
