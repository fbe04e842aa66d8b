/** Starts and stops every server the benchmark compares, each in its own process on 127.0.0.1. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseDocId } from '../lib/ids';
import { signToken } from '../lib/tokens.server';
import { serverNodeFlags, splitFlags } from '../scripts/server-node-flags';
import { UNLIMITED_RATE_ENV } from '../tests/helpers/relay-process';
import type { Backing } from './backing-services';
import type { WireProtocol } from './wire';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_SECRET = 'zJhfwgL4koM-SORpuEIEtoJKnptEzCxA95FNM6B6g6A';

/** The servers measured, in the order they are interleaved. */
export const SERVER_KINDS = [
  'inkwell',
  'y-ws-memory',
  'y-ws-leveldb',
  'hocuspocus-memory',
  'hocuspocus-sqlite',
  'raw-ws',
  'inkwell-cluster-1',
  'inkwell-cluster-2',
  'hocuspocus-redis-2',
] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

/** The kinds that run on Redis (and PostgreSQL): the cluster relays and their peer. */
export const CLUSTER_KINDS = ['inkwell-cluster-1', 'inkwell-cluster-2', 'hocuspocus-redis-2'] as const satisfies readonly ServerKind[];

/**
 * Kinds measured in some scenarios only; the others run in every scenario. The
 * cluster kinds answer the cluster questions (fan-out and awareness across
 * processes, cold load from PostgreSQL, durable ingest into Redis) and keep the
 * default run short.
 */
export const SCENARIOS_OF: Partial<Record<ServerKind, readonly string[]>> = {
  'inkwell-cluster-1': ['S1', 'S4', 'S5', 'S6'],
  'inkwell-cluster-2': ['S1', 'S5'],
  'hocuspocus-redis-2': ['S1', 'S5'],
};

/** Whether `kind` is measured in `scenario` (`S3/2000` counts as `S3`). */
export function isMeasuredIn(kind: ServerKind, scenario: string): boolean {
  const only = SCENARIOS_OF[kind];
  return !only || only.includes(scenario.split('/')[0]!);
}

/** What a kind needs besides its own processes. */
export function backingOf(kind: ServerKind): 'none' | 'redis' | 'redis-and-postgres' {
  if (kind === 'inkwell-cluster-1' || kind === 'inkwell-cluster-2') return 'redis-and-postgres';
  return kind === 'hocuspocus-redis-2' ? 'redis' : 'none';
}

/** Where a server starts: its kind, its data dir, and the Redis/PostgreSQL it needs (if any). */
export interface ServerSetup {
  readonly kind: ServerKind;
  readonly dataDir: string;
  readonly backing: Backing | null;
}

/** A running server under test. */
export interface ServerUnderTest {
  readonly kind: ServerKind;
  /** Its processes (two for the two-instance kinds); CPU and RSS are summed over them. */
  readonly pids: readonly number[];
  readonly protocol: WireProtocol;
  /** Whether it keeps documents across a restart. */
  readonly persists: boolean;
  /** Whether it acknowledges saves (Inkwell's `saved`, asked for with `?saved=1`). */
  readonly acksSaved: boolean;
  /**
   * The WebSocket URL the `clientIndex`-th client of a room connects to (query
   * string included where needed). A kind with several processes spreads a
   * room's clients over them, client i on process i mod n.
   */
  roomUrl(room: string, clientIndex?: number): string;
  stop(): Promise<void>;
}

/** A port nothing listens on right now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function launch(args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/listening on|running at/.test(output)) {
        child.stdout?.off('data', onData);
        keepOrDiscardOutput(child);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${output.slice(-500)}`)));
  });
}

// BENCH_RELAY_OUTPUT names a file that collects the servers' output (for flags
// such as --trace-gc); otherwise it is read and dropped so no pipe fills up.
function keepOrDiscardOutput(child: ChildProcess): void {
  const path = process.env.BENCH_RELAY_OUTPUT;
  if (!path) {
    child.stdout?.resume();
    child.stderr?.resume();
    return;
  }
  const file = createWriteStream(path, { flags: 'a' });
  child.stdout?.pipe(file, { end: false });
  child.stderr?.pipe(file, { end: false });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

// The relay's environment in the benchmark: the budgets let S6 through, and its own data dir or cluster.
function inkwellEnv(port: number, dataDir: string, backing: Backing | null): Record<string, string> {
  const env: Record<string, string> = {
    COLLAB_PORT: String(port),
    COLLAB_DATA_DIR: dataDir,
    COLLAB_SECRET: BENCH_SECRET,
    COLLAB_MAX_CONNECTIONS_PER_IP: '1000000',
    COLLAB_MAX_CONNECT_ATTEMPTS_PER_MINUTE: '1000000',
    // S6 pushes a whole trace from one client as fast as acknowledged: no person sends that much.
    // The budget is still checked on every frame, so its cost is measured.
    ...UNLIMITED_RATE_ENV,
    LOG_LEVEL: 'warn',
  };
  if (!backing) return env;
  if (!backing.postgres) throw new Error('a cluster relay needs PostgreSQL');
  return { ...env, COLLAB_REDIS_URL: backing.redis.url, COLLAB_DATABASE_URL: backing.postgres.url };
}

// Inkwell's room URLs: a token per client, durable saved-acknowledgements on (as the targets require).
function inkwellRoomUrl(bases: readonly string[]): (room: string, clientIndex?: number) => string {
  const key = new Uint8Array(Buffer.from(BENCH_SECRET, process.env.BENCH_INKWELL_SECRET_ENCODING === 'utf8' ? 'utf8' : 'base64url'));
  return (room, clientIndex = 0) => {
    const docId = parseDocId(room);
    if (!docId) throw new Error(`bad room ${room}`);
    const token = signToken({ key, docId, role: 'editor', issuedAt: Date.now() });
    return `${bases[clientIndex % bases.length]}/${room}?saved=1&token=${token}`;
  };
}

/** `count` processes of one server, each started by `start` on a free port of its own; all of them, or none. */
async function launchEach(count: number, start: (port: number) => Promise<ChildProcess>): Promise<{ children: ChildProcess[]; bases: string[] }> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const started = await Promise.allSettled(ports.map((port) => start(port)));
  const children = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed) {
    await Promise.all(children.map((child) => stopper(child)()));
    throw failed.reason;
  }
  return { children, bases: ports.map((port) => `ws://127.0.0.1:${port}`) };
}

/** Starts `setup.kind` with its data (if any) in `setup.dataDir`, on the Redis/PostgreSQL of `setup.backing`. */
export async function startServer(setup: ServerSetup): Promise<ServerUnderTest> {
  const { kind, dataDir, backing } = setup;
  const make = (
    children: readonly ChildProcess[],
    options: { protocol: WireProtocol; persists: boolean; roomUrl: ServerUnderTest['roomUrl'] },
  ): ServerUnderTest => ({
    kind,
    pids: children.map((child) => child.pid ?? -1),
    ...options,
    acksSaved: kind.startsWith('inkwell'),
    stop: async () => void (await Promise.all(children.map((child) => stopper(child)()))),
  });
  switch (kind) {
    case 'inkwell':
    case 'inkwell-cluster-1':
    case 'inkwell-cluster-2': {
      // BENCH_INKWELL_DIR: another checkout's compiled relay (A/B against an earlier commit);
      // relays before the base64url COLLAB_SECRET take BENCH_INKWELL_SECRET_ENCODING=utf8.
      const relayEntry = join(process.env.BENCH_INKWELL_DIR ?? '.', 'dist/server/main.js');
      const args = [...serverNodeFlags(), ...splitFlags(process.env.BENCH_RELAY_FLAGS), relayEntry];
      const { children, bases } = await launchEach(kind === 'inkwell-cluster-2' ? 2 : 1, (port) =>
        launch(args, inkwellEnv(port, dataDir, kind === 'inkwell' ? null : backing)),
      );
      return make(children, { protocol: 'y-websocket', persists: true, roomUrl: inkwellRoomUrl(bases) });
    }
    case 'y-ws-memory':
    case 'y-ws-leveldb': {
      const port = await freePort();
      const env: Record<string, string> = { HOST: '127.0.0.1', PORT: String(port) };
      if (kind === 'y-ws-leveldb') env.YPERSISTENCE = `${dataDir}/y-leveldb`;
      const child = await launch(['node_modules/@y/websocket-server/src/server.js'], env);
      return make([child], { protocol: 'y-websocket', persists: kind === 'y-ws-leveldb', roomUrl: (room) => `ws://127.0.0.1:${port}/${room}` });
    }
    case 'hocuspocus-memory':
    case 'hocuspocus-sqlite':
    case 'hocuspocus-redis-2': {
      const extension: Record<string, string> = {};
      if (kind === 'hocuspocus-sqlite') extension.SQLITE_FILE = `${dataDir}/hocuspocus.sqlite`;
      if (kind === 'hocuspocus-redis-2') {
        if (!backing) throw new Error('hocuspocus-redis-2 needs Redis');
        extension.REDIS_URL = backing.redis.url;
      }
      const { children, bases } = await launchEach(kind === 'hocuspocus-redis-2' ? 2 : 1, (port) =>
        launch(['--import', 'tsx', 'bench/servers/hocuspocus-server.ts'], { PORT: String(port), ...extension }),
      );
      // The document travels in each message, so a room's URL is the server's.
      return make(children, { protocol: 'hocuspocus', persists: kind === 'hocuspocus-sqlite', roomUrl: (_room, clientIndex = 0) => bases[clientIndex % bases.length]! });
    }
    case 'raw-ws': {
      const port = await freePort();
      const child = await launch([...splitFlags(process.env.BENCH_RAW_FLAGS), '--import', 'tsx', 'bench/servers/raw-broadcaster.ts'], { PORT: String(port) });
      return make([child], { protocol: 'raw', persists: false, roomUrl: (room) => `ws://127.0.0.1:${port}/${room}` });
    }
  }
}
