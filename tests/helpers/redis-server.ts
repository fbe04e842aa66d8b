/**
 * A private `redis-server` for tests: its own temp dir and free port on 127.0.0.1,
 * AOF with fsync on every write, so a SIGKILL followed by `restart()` shows what a
 * crashed Redis really keeps. Never touches the system Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PortInUseError, freePort, killAtExit, signalChild, waitUntilReady, type TestServerProcess } from './child-guard';

/** How long a start may take before we give up, including an AOF reload. */
const START_TIMEOUT_MS = 15_000;
/** Attempts with a fresh port when the one we picked was taken between probing and binding. */
const MAX_PORT_ATTEMPTS = 3;

/**
 * A running (or stopped, restartable) test Redis: its dir holds the AOF
 * (`appendonlydir/`), `stop` resumes it first if paused, and `restart` reloads the AOF.
 */
export interface RedisServer extends TestServerProcess {
  /** SIGSTOP: the socket stays open but nothing answers, like a hung server. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
}

/** Options for `startRedis`. */
export interface StartRedisOptions {
  /** Reuse this dir (kept on dispose); default a fresh temp dir that dispose removes. */
  dir?: string;
  /** Listen here; default a free port. */
  port?: number;
  /** More `redis-server` CLI args, e.g. `['--maxmemory', '10mb']`. */
  extraArgs?: string[];
}

/** Starts `redis-server` on 127.0.0.1 with AOF (`appendfsync always`) and no RDB snapshots; resolves when it accepts connections. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'inkwell-redis-')));
  const extraArgs = options.extraArgs ?? [];
  try {
    const { child, port } = await launchOnSomePort({ dir, port: options.port, extraArgs });
    return managedServer({ child, port, dir, ownsDir, extraArgs });
  } catch (error) {
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function managedServer(options: { child: ChildProcess; port: number; dir: string; ownsDir: boolean; extraArgs: string[] }): RedisServer {
  const { port, dir, ownsDir, extraArgs } = options;
  let child: ChildProcess | null = options.child;
  let isPaused = false;

  const signalAndWait = async (signal: NodeJS.Signals): Promise<void> => {
    const current = child;
    if (!current) return;
    // A stopped process leaves SIGTERM pending forever; SIGKILL needs no help.
    if (isPaused && signal !== 'SIGKILL') current.kill('SIGCONT');
    isPaused = false;
    await signalChild(current, signal);
    child = null;
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      if (!child?.pid) throw new Error('redis is not running');
      return child.pid;
    },
    stop: () => signalAndWait('SIGTERM'),
    kill: () => signalAndWait('SIGKILL'),
    pause() {
      child?.kill('SIGSTOP');
      isPaused = true;
    },
    resume() {
      child?.kill('SIGCONT');
      isPaused = false;
    },
    async restart() {
      await signalAndWait('SIGTERM');
      child = await launch({ dir, port, extraArgs });
    },
    async dispose() {
      await signalAndWait('SIGTERM');
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Launches on `port`, or on a free port, retrying with another when someone else took it first. */
async function launchOnSomePort(options: { dir: string; port: number | undefined; extraArgs: string[] }): Promise<{ child: ChildProcess; port: number }> {
  if (options.port !== undefined) return { child: await launch({ ...options, port: options.port }), port: options.port };
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { child: await launch({ ...options, port }), port };
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= MAX_PORT_ATTEMPTS) throw error;
    }
  }
}

/** Spawns redis-server and resolves once it logs that it accepts connections (after any AOF load). */
function launch(options: { dir: string; port: number; extraArgs: string[] }): Promise<ChildProcess> {
  const args = [
    '--port', String(options.port),
    '--bind', '127.0.0.1',
    '--dir', options.dir,
    '--appendonly', 'yes',
    '--appendfsync', 'always',
    '--save', '',
    '--protected-mode', 'no',
    '--daemonize', 'no',
    ...options.extraArgs,
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killAtExit(child, (pid) => process.kill(pid, 'SIGKILL'));
  return waitUntilReady(child, { name: 'redis-server', readyLine: 'Ready to accept connections', timeoutMs: START_TIMEOUT_MS, kill: (started) => started.kill('SIGKILL') });
}

