/**
 * Test helpers: a real relay on an ephemeral port with LevelDB in a temp dir,
 * stock y-websocket clients, and raw sockets. Everything started here is
 * registered for teardown, which tests run in `afterEach`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

import type { Logger } from '../../collab-server/logger';
import { createRelay, type CreateRelayOptions, type Relay } from '../../collab-server/server';
import type { DocStore } from '../../collab-server/storage/doc-store';
import { openLevelStore } from '../../collab-server/storage/leveldb';
import { parseDocId } from '../../lib/ids';
import { MESSAGE_TAGS, decode, readNotSavedPayload, readSavedPayload, type Message } from '../../lib/protocol';
import type { Role } from '../../lib/tokens';
import { signToken } from '../../lib/tokens.server';

type Cleanup = () => Promise<void> | void;

/** Collects teardown steps; `run` executes them last-in first-out. */
export class Teardown {
  private steps: Cleanup[] = [];

  add(step: Cleanup): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    const steps = this.steps.reverse();
    this.steps = [];
    for (const step of steps) await step();
  }
}

/** Makes a temp dir removed at teardown. */
export async function makeTempDir(teardown: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'inkwell-test-'));
  teardown.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Something tests can connect to: a URL and a way to mint share-link tokens for it. */
export interface TokenIssuer {
  readonly url: string;
  /** A valid token for `docId` (editor unless `role` says otherwise). */
  tokenFor(docId: string, role?: Role): string;
}

/** Builds `tokenFor` over a signing key. */
export function tokenIssuer(secret: Uint8Array): TokenIssuer['tokenFor'] {
  return (docId, role = 'editor') => {
    const parsed = parseDocId(docId);
    if (!parsed) throw new Error(`not a valid doc id: ${docId}`);
    return signToken({ key: secret, docId: parsed, role, issuedAt: Date.now() });
  };
}

/** The WebSocket URL of `docId` with a token of `role` (editor by default). */
export function socketUrl(relay: TokenIssuer, docId: string, role: Role = 'editor'): string {
  return `${relay.url}/${docId}?token=${relay.tokenFor(docId, role)}`;
}

/** A relay under test, with its signing key. */
export type TestRelay = Relay & TokenIssuer & { readonly secret: Uint8Array };

/**
 * Starts a relay on 127.0.0.1:0 over LevelDB in `dataDir`; closed at teardown unless closed before.
 * `wrapStore` hands the relay a store of the test's making around the real one, to watch or hold its calls.
 */
export async function startRelay(
  teardown: Teardown,
  options: { dataDir: string; wrapStore?: (store: DocStore) => DocStore } & Omit<Partial<CreateRelayOptions>, 'store'>,
): Promise<TestRelay> {
  const { dataDir, wrapStore = (store) => store, ...relayOptions } = options;
  const store = wrapStore(await openLevelStore({ dir: join(dataDir, 'leveldb') }));
  const secret = relayOptions.secret ?? new Uint8Array(randomBytes(32));
  const relay = await createRelay({ heartbeatIntervalMs: 60_000, ...relayOptions, secret, store, host: '127.0.0.1', port: 0 });
  teardown.add(() => relay.close());
  return Object.assign(relay, { secret, tokenFor: tokenIssuer(secret) });
}

/** Two synced stock clients in one room, and a check that the room still works. */
export interface PeerPair {
  readonly alice: TestClient;
  readonly bob: TestClient;
  /** Alice appends `text`; resolves once Bob has it, both still connected. */
  expectLive(text: string): Promise<void>;
}

/** Connects two clients to `docId` and waits until both are synced. */
export async function connectPeerPair(teardown: Teardown, relay: TokenIssuer, docId: string): Promise<PeerPair> {
  const alice = connectClient(teardown, relay, docId);
  const bob = connectClient(teardown, relay, docId);
  await Promise.all([waitForSync(alice), waitForSync(bob)]);
  return {
    alice,
    bob,
    async expectLive(text) {
      alice.text.insert(alice.text.length, text);
      await waitUntil(() => bob.text.toString().endsWith(text), { what: `${docId} still live` });
      if (!alice.provider.wsconnected || !bob.provider.wsconnected) throw new Error(`a peer of ${docId} was disconnected`);
    },
  };
}

/** A stock y-websocket client on its own `Y.Doc`. */
export interface TestClient {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  readonly text: Y.Text;
  /** The newest `saved` state vector from the relay, and the state vector after this client's last own change. */
  readonly saved: { stateVector: Map<number, number> | null; localStateVector: Map<number, number> };
}

/** Connects an unmodified `WebsocketProvider` (with `ws`) to the relay; destroyed at teardown. */
export function connectClient(
  teardown: Teardown,
  relay: TokenIssuer,
  docId: string,
  options: { params?: Record<string, string>; savedAcks?: boolean; role?: Role } = {},
): TestClient {
  const doc = new Y.Doc();
  const params = {
    token: relay.tokenFor(docId, options.role),
    ...options.params,
    ...(options.savedAcks ? { saved: '1' } : {}),
  };
  const provider = new WebsocketProvider(relay.url, docId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params,
    disableBc: true,
    maxBackoffTime: 200,
  });
  const saved: TestClient['saved'] = { stateVector: null, localStateVector: new Map() };
  // "Saved" is about this client's own changes: remote ones arriving later do not make it unsaved.
  doc.on('update', (_update: Uint8Array, origin: unknown) => {
    if (origin !== provider) saved.localStateVector = Y.decodeStateVector(Y.encodeStateVector(doc));
  });
  if (options.savedAcks) {
    // The one extra handler an Inkwell client adds to the stock provider.
    provider.messageHandlers[MESSAGE_TAGS.saved] = (_encoder, decoder) => {
      saved.stateVector = Y.decodeStateVector(readSavedPayload(decoder).stateVector);
    };
  }
  teardown.add(() => {
    provider.destroy();
    doc.destroy();
  });
  return { doc, provider, text: doc.getText('t'), saved };
}

/** True when the relay reported on disk every change `client` made. */
export function isAllSaved(client: TestClient): boolean {
  const saved = client.saved.stateVector;
  return saved !== null && covers(saved, client.saved.localStateVector);
}

/** True when state vector `outer` holds everything `inner` does. */
export function covers(outer: ReadonlyMap<number, number>, inner: ReadonlyMap<number, number>): boolean {
  for (const [clientId, clock] of inner) if ((outer.get(clientId) ?? 0) < clock) return false;
  return true;
}

/** Records the `not-saved` messages `client` receives (an Inkwell client's second extra handler). */
export function watchNotSaved(client: TestClient): { readonly reasons: string[] } {
  const seen = { reasons: [] as string[] };
  client.provider.messageHandlers[MESSAGE_TAGS.notSaved] = (_encoder, decoder) => {
    seen.reasons.push(readNotSavedPayload(decoder).reason);
  };
  return seen;
}

/** Waits until the relay has acknowledged everything `client` has as saved. */
export function waitForSaved(client: TestClient, timeoutMs = 5_000): Promise<void> {
  return waitUntil(() => isAllSaved(client), { timeoutMs, what: 'saved acknowledgement' });
}

/** Resolves when the provider has completed its sync with the relay; rejects, saying why it might not have, after `timeoutMs`. */
export function waitForSync(client: TestClient, timeoutMs = 5_000): Promise<void> {
  const { provider } = client;
  if (provider.synced) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onSync = (isSynced: boolean): void => {
      if (!isSynced) return;
      clearTimeout(timer);
      provider.off('sync', onSync);
      resolve();
    };
    const timer = setTimeout(() => {
      provider.off('sync', onSync);
      const socket = provider.wsconnected ? 'connected, no sync reply' : 'not connected (refused, closed or still connecting)';
      reject(new Error(`${provider.roomname} did not sync within ${timeoutMs} ms: ${socket}`));
    }, timeoutMs);
    provider.on('sync', onSync);
  });
}

/** Polls `predicate` on every event-loop turn until it holds, failing after `timeoutMs`. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'condition'}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** POSTs JSON to the relay's HTTP API (`path` like `/api/links`); resolves with the status and the JSON answer. */
export async function postJson(
  relay: { port: number },
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${relay.port}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Sockets the relay holds open, from its own metrics. */
export async function openConnections(relay: Pick<Relay, 'metrics'>): Promise<number> {
  return (await relay.metrics.connections.get()).values[0]?.value ?? 0;
}

/** Rooms the relay holds loaded, from its own metrics. */
export async function loadedRooms(relay: Pick<Relay, 'metrics'>): Promise<number> {
  return (await relay.metrics.rooms.get()).values[0]?.value ?? 0;
}

/** The relay's /healthz answer (`reason` while degraded). */
export async function relayHealth(relay: { port: number }): Promise<{ status: string; reason?: string }> {
  const response = await fetch(`http://127.0.0.1:${relay.port}/healthz`);
  return (await response.json()) as { status: string; reason?: string };
}

/** A raw WebSocket that records decoded messages and its close event. */
export interface RawSocket {
  readonly socket: WebSocket;
  readonly received: Message[];
  readonly closed: Promise<{ code: number; reason: string }>;
  send(frame: Uint8Array | string): void;
}

/** Opens a raw socket to `url` and waits for it to open. `autoPong: false` leaves the relay's pings unanswered. */
export async function openRawSocket(teardown: Teardown, url: string, options: { origin?: string; autoPong?: boolean } = {}): Promise<RawSocket> {
  const socket = new WebSocket(url, options);
  const received: Message[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  socket.on('message', (data: Buffer) => received.push(decode(new Uint8Array(data))));
  socket.on('error', () => undefined);
  teardown.add(() => socket.terminate());
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    socket.once('error', reject);
  });
  return { socket, received, closed, send: (frame) => socket.send(frame) };
}

/** Tries to open a socket and resolves with the HTTP status of the refused upgrade. */
export function upgradeStatus(url: string, options: { origin?: string; headers?: Record<string, string> } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('open', () => {
      socket.terminate();
      reject(new Error('upgrade was accepted'));
    });
    socket.on('error', () => undefined);
  });
}

/** One line a `recordingLogger` kept. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A relay logger that keeps every line, for tests that wait on what the relay did. */
export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (bound: object): Logger => {
    const at =
      (level: LogLine['level']) =>
      (fields: object, message: string): void => {
        lines.push({ level, fields: { ...bound, ...fields }, message });
      };
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (fields) => make({ ...bound, ...fields }) };
  };
  return { logger: make({}), lines };
}
