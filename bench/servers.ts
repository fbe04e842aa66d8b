/** Starts and stops every server the benchmark compares, each in its own process on 127.0.0.1. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseDocId } from '../lib/ids';
import { signToken } from '../lib/tokens.server';
import { serverNodeFlags, splitFlags } from '../scripts/server-node-flags';
import type { WireProtocol } from './wire';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_SECRET = 'zJhfwgL4koM-SORpuEIEtoJKnptEzCxA95FNM6B6g6A';

/** The servers measured, in the order they are interleaved. */
export const SERVER_KINDS = ['inkwell', 'y-ws-memory', 'y-ws-leveldb', 'hocuspocus-memory', 'hocuspocus-sqlite', 'raw-ws'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];


/** A running server under test. */
export interface ServerUnderTest {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly protocol: WireProtocol;
  /** Whether it keeps documents across a restart. */
  readonly persists: boolean;
  /** The WebSocket URL of one room (query string included where needed). */
  roomUrl(room: string): string;
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

/** Starts `kind` with its data (if any) in `dataDir`. */
export async function startServer(kind: ServerKind, dataDir: string): Promise<ServerUnderTest> {
  const port = await freePort();
  const base = `ws://127.0.0.1:${port}`;
  const make = (child: ChildProcess, protocol: WireProtocol, persists: boolean, roomUrl: (room: string) => string): ServerUnderTest => ({
    kind,
    pid: child.pid ?? -1,
    protocol,
    persists,
    roomUrl,
    stop: stopper(child),
  });
  switch (kind) {
    case 'inkwell': {
      // BENCH_INKWELL_DIR: another checkout's compiled relay (A/B against an earlier commit);
      // relays before the base64url COLLAB_SECRET take BENCH_INKWELL_SECRET_ENCODING=utf8.
      const relayEntry = join(process.env.BENCH_INKWELL_DIR ?? '.', 'dist/server/main.js');
      const child = await launch([...serverNodeFlags(), ...splitFlags(process.env.BENCH_RELAY_FLAGS), relayEntry], {
        COLLAB_PORT: String(port),
        COLLAB_DATA_DIR: dataDir,
        COLLAB_SECRET: BENCH_SECRET,
        COLLAB_MAX_CONNECTIONS_PER_IP: '1000000',
        COLLAB_MAX_CONNECT_ATTEMPTS_PER_MINUTE: '1000000',
        // S6 pushes a whole trace from one client as fast as acknowledged: no person sends that much.
        // The budget is still checked on every frame, so its cost is measured.
        COLLAB_RATE_FRAMES_PER_SECOND: '10000000',
        COLLAB_RATE_FRAME_BURST: '100000000',
        COLLAB_RATE_BYTES_PER_SECOND: String(2 ** 40),
        COLLAB_RATE_BYTE_BURST: String(2 ** 40),
        COLLAB_RATE_TIME_MS_PER_SECOND: '1000',
        COLLAB_RATE_TIME_MS_BURST: '3600000',
        LOG_LEVEL: 'warn',
      });
      const key = new Uint8Array(Buffer.from(BENCH_SECRET, process.env.BENCH_INKWELL_SECRET_ENCODING === 'utf8' ? 'utf8' : 'base64url'));
      return make(child, 'y-websocket', true, (room) => {
        const docId = parseDocId(room);
        if (!docId) throw new Error(`bad room ${room}`);
        const token = signToken({ key, docId, role: 'editor', issuedAt: Date.now() });
        // Durable saved-acknowledgements on, as the targets require.
        return `${base}/${room}?saved=1&token=${token}`;
      });
    }
    case 'y-ws-memory':
    case 'y-ws-leveldb': {
      const env: Record<string, string> = { HOST: '127.0.0.1', PORT: String(port) };
      if (kind === 'y-ws-leveldb') env.YPERSISTENCE = `${dataDir}/y-leveldb`;
      const child = await launch(['node_modules/@y/websocket-server/src/server.js'], env);
      return make(child, 'y-websocket', kind === 'y-ws-leveldb', (room) => `${base}/${room}`);
    }
    case 'hocuspocus-memory':
    case 'hocuspocus-sqlite': {
      const env: Record<string, string> = { PORT: String(port) };
      if (kind === 'hocuspocus-sqlite') env.SQLITE_FILE = `${dataDir}/hocuspocus.sqlite`;
      const child = await launch(['--import', 'tsx', 'bench/servers/hocuspocus-server.ts'], env);
      return make(child, 'hocuspocus', kind === 'hocuspocus-sqlite', () => base);
    }
    case 'raw-ws': {
      const child = await launch([...splitFlags(process.env.BENCH_RAW_FLAGS), '--import', 'tsx', 'bench/servers/raw-broadcaster.ts'], { PORT: String(port) });
      return make(child, 'raw', false, (room) => `${base}/${room}`);
    }
  }
}
