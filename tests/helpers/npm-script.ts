/**
 * Runs a package.json script through npm itself (`npm run relay`, `npm start`), as an operator
 * or `docker stop` sees it: the test holds only npm's pid, and the server is npm's descendant.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { Teardown } from './relay';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** An npm process running one script, with the line that said its server is ready. */
export interface NpmScript {
  readonly npm: ChildProcessWithoutNullStreams;
  /** The match of `readyPattern` in the server's output. */
  readonly ready: RegExpExecArray;
  /** Every stdout line so far (npm's banner, then the server's JSON log lines). */
  readonly stdout: string[];
  /** Resolves with npm's exit code (or the signal that killed it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `npm run <script>` and resolves once a stdout line matches `readyPattern`. Whatever
 * npm started and is still alive is killed at teardown, so a failing test leaves no server behind.
 */
export function startNpmScript(
  teardown: Teardown,
  options: { script: string; env: Record<string, string>; readyPattern: RegExp },
): Promise<NpmScript> {
  const npm = spawn('npm', ['run', options.script], {
    cwd: REPO_ROOT,
    env: { ...process.env, npm_config_update_notifier: 'false', ...options.env },
  });
  const stdout: string[] = [];
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    npm.on('exit', (code, signal) => resolve({ code, signal }));
  });
  // Descendants are listed while npm still lives: once it is gone, an orphan's parent is init.
  let started: number[] = [];
  teardown.add(async () => {
    for (const pid of [...started, npm.pid ?? 0]) killIfAlive(pid);
    await exited;
  });
  npm.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let buffered = '';
    npm.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        stdout.push(line);
        const ready = options.readyPattern.exec(line);
        if (ready) {
          started = descendantPids(npm.pid ?? 0);
          resolve({ npm, ready, stdout, exited });
        }
      }
    });
    void exited.then(({ code }) => reject(new Error(`npm run ${options.script} exited with ${code} before it was ready: ${stderr}`)));
  });
}

/** Every live process below `pid` (children, their children, …), read from /proc (Linux). */
export function descendantPids(pid: number): number[] {
  const childrenOf = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentPidOf(Number(entry));
    if (parent === null) continue;
    childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of childrenOf.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** True while `pid` is a process that has not exited (a zombie has exited: it only awaits its parent). */
export function isAlive(pid: number): boolean {
  const state = statFieldsOf(pid)?.[0];
  return state !== undefined && state !== 'Z';
}

function killIfAlive(pid: number): void {
  if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
}

function parentPidOf(pid: number): number | null {
  const ppid = statFieldsOf(pid)?.[1];
  return ppid === undefined ? null : Number(ppid);
}

// /proc/<pid>/stat is `pid (comm) state ppid …`; comm may hold spaces and parentheses, so split after the last `)`.
function statFieldsOf(pid: number): string[] | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
