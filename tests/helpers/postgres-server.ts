/**
 * A private PostgreSQL 15 for tests: `initdb` into a temp dir, `postgres` on a free
 * port on 127.0.0.1 with fsync on, trust auth for user `inkwell` and a database
 * `inkwell`. Never touches the system cluster.
 *
 * initdb and postgres refuse to run as root, so under root both run as the `postgres`
 * user, set directly on the spawned process (uid/gid): wrapping them in `runuser`
 * would make runuser the child we signal, and it neither passes SIGKILL/SIGSTOP on
 * nor keeps SIGINT (fast shutdown) as SIGINT.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

import { PortInUseError, freePort, killAtExit, signalChild, waitUntilReady, type TestServerProcess } from './child-guard';

const execFileAsync = promisify(execFile);

/** Debian's versioned bin dir; CI may lack the /usr/local/bin symlinks, so PATH is only the fallback. */
const PG_BIN_DIR = '/usr/lib/postgresql/15/bin';
/** How long a start may take, including crash recovery after `kill()`. */
const START_TIMEOUT_MS = 30_000;
/** How long `kill()` waits for orphaned backends to be gone before a restart could trip over their shared memory. */
const CHILDREN_GONE_TIMEOUT_MS = 10_000;
/** Attempts with a fresh port when the one we picked was taken between probing and binding. */
const MAX_PORT_ATTEMPTS = 3;
const USER = 'inkwell';
const DATABASE = 'inkwell';

/**
 * A running (or stopped, restartable) test PostgreSQL at
 * `postgres://inkwell@127.0.0.1:<port>/inkwell` (trust auth): `stop` is a fast
 * shutdown (SIGINT), `kill` SIGKILLs the postmaster and every backend like a
 * machine crash, and `restart` runs crash recovery after it.
 */
export type PostgresServer = TestServerProcess;

/** Initialises a fresh cluster in a temp dir, starts it on a free port and creates the `inkwell` database. */
export async function startPostgres(): Promise<PostgresServer> {
  const runAs = await postgresUserIfRoot();
  // Under root the postgres user must reach the dir: /tmp (not a TMPDIR that may sit under /root) is world-traversable.
  const dir = await mkdtemp(join(runAs ? '/tmp' : tmpdir(), 'inkwell-pg-'));
  try {
    if (runAs) {
      await chmod(dir, 0o755);
      await chown(dir, runAs.uid, runAs.gid);
    }
    await initCluster(dir, runAs);
    const { child, port } = await launchOnSomePort(dir, runAs);
    const server = managedServer({ child, port, dir, runAs });
    try {
      await createDatabase(port);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The uid/gid to run PostgreSQL binaries as: the `postgres` user when we are root, else ourselves (null). */
type RunAs = { uid: number; gid: number } | null;

async function postgresUserIfRoot(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return null;
  const id = async (flag: string): Promise<number> => Number((await execFileAsync('id', [flag, 'postgres'])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

function pgBinary(name: string): string {
  const path = join(PG_BIN_DIR, name);
  return existsSync(path) ? path : name;
}

async function initCluster(dir: string, runAs: RunAs): Promise<void> {
  // --no-sync: a throwaway cluster; a killed process cannot lose page-cache writes anyway.
  const args = ['-D', dir, '-U', USER, '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'];
  try {
    await execFileAsync(pgBinary('initdb'), args, { cwd: dir, ...(runAs ?? {}) });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`initdb failed: ${(error as Error).message}\n${stderr}`);
  }
}

async function createDatabase(port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

function managedServer(options: { child: ChildProcess; port: number; dir: string; runAs: RunAs }): PostgresServer {
  const { port, dir, runAs } = options;
  let child: ChildProcess | null = options.child;

  const stop = async (): Promise<void> => {
    const current = child;
    if (!current) return;
    // Fast shutdown: the postmaster waits for all its backends, so none outlive it.
    await signalChild(current, 'SIGINT');
    child = null;
  };

  return {
    url: `postgres://${USER}@127.0.0.1:${port}/${DATABASE}`,
    port,
    dir,
    get pid() {
      if (!child?.pid) throw new Error('postgres is not running');
      return child.pid;
    },
    stop,
    async kill() {
      const current = child;
      if (!current?.pid) return;
      child = null;
      await crash(current, { dir, port });
    },
    async restart() {
      await stop();
      child = await launch({ dir, port, runAs });
    },
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * SIGKILLs the postmaster and its backends, then waits until the backends are gone: a new postmaster
 * refuses to start while an old backend still holds the shared memory segment. The lock files are
 * removed because a recycled pid in them would also block the start.
 */
async function crash(postmaster: ChildProcess, options: { dir: string; port: number }): Promise<void> {
  // Collected before the kill: once the postmaster is gone its backends are re-parented and untraceable.
  const backends = childPidsOf(postmaster.pid ?? -1);
  for (const pid of backends) killQuietly(pid);
  await signalChild(postmaster, 'SIGKILL');
  const deadline = Date.now() + CHILDREN_GONE_TIMEOUT_MS;
  // They are not our children, so there is no exit event; poll /proc, which is cheap.
  while (backends.some(isRunning)) {
    if (Date.now() > deadline) throw new Error(`postgres backends ${backends.filter(isRunning).join(', ')} outlived SIGKILL`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await rm(join(options.dir, 'postmaster.pid'), { force: true });
  await rm(join(options.dir, `.s.PGSQL.${options.port}.lock`), { force: true });
}

async function launchOnSomePort(dir: string, runAs: RunAs): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { child: await launch({ dir, port, runAs }), port };
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= MAX_PORT_ATTEMPTS) throw error;
    }
  }
}

/** Spawns the postmaster and resolves once it logs that it accepts connections (after any crash recovery). */
function launch(options: { dir: string; port: number; runAs: RunAs }): Promise<ChildProcess> {
  const { dir, port, runAs } = options;
  const args = [
    '-D', dir,
    '-p', String(port),
    '-k', dir,
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=on',
    '-c', 'max_connections=200',
    '-c', 'shared_buffers=32MB',
  ];
  const child = spawn(pgBinary('postgres'), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...(runAs ?? {}) });
  killAtExit(child, killTree);
  // --no-locale makes lc_messages C, so the ready line is always in English.
  return waitUntilReady(child, { name: 'postgres', readyLine: 'database system is ready to accept connections', timeoutMs: START_TIMEOUT_MS, kill: (started) => started.pid && killTree(started.pid) });
}


/** Pids whose parent is `parentPid`, from /proc (empty where there is no /proc). */
function childPidsOf(parentPid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => procStat(pid)?.ppid === parentPid);
}

/** State and parent of `pid` from /proc/<pid>/stat, or null once it is gone. */
function procStat(pid: number): { state: string; ppid: number } | null {
  try {
    // The command name sits in parentheses and may contain spaces: the fields start after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', ppid = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

/** True while `pid` exists and is not a zombie (a zombie holds no shared memory; a container init may never reap it). */
function isRunning(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== null && stat.state !== 'Z';
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** SIGKILLs a postmaster and its backends, synchronously (usable from an exit hook). */
function killTree(pid: number): void {
  for (const backend of childPidsOf(pid)) killQuietly(backend);
  killQuietly(pid);
}
