/**
 * What the private test servers (Redis, PostgreSQL) share: a free port to
 * start on, and an exit hook that kills whatever a test left running.
 */
import type { ChildProcess } from 'node:child_process';

export { freePort } from '../../bench/servers';

/** What every private test server (Redis, PostgreSQL) offers. */
export interface TestServerProcess {
  readonly url: string;
  readonly port: number;
  /** Its working or data directory. */
  readonly dir: string;
  /** Pid of the current process; changes on `restart()`. */
  readonly pid: number;
  /** A clean stop; resolves once the process exited. */
  stop(): Promise<void>;
  /** SIGKILL, like a crash; resolves once it is gone. */
  kill(): Promise<void>;
  /** Stops it if still running, then starts again on the same dir and port; resolves when it accepts connections. */
  restart(): Promise<void>;
  /** Stops it if running and removes its dir (unless the caller owns it). */
  dispose(): Promise<void>;
}

// Module state on purpose: one exit hook per test process must reach every server any test started,
// so a failed or forgotten dispose never leaves one behind.
const guarded = new Map<ChildProcess, (pid: number) => void>();
let isExitHookInstalled = false;

/** Runs `kill` on `child`'s pid (synchronously) when the test process exits, unless the child exited first. */
export function killAtExit(child: ChildProcess, kill: (pid: number) => void): void {
  guarded.set(child, kill);
  child.once('exit', () => guarded.delete(child));
  if (isExitHookInstalled) return;
  isExitHookInstalled = true;
  process.on('exit', () => {
    for (const [live, killLive] of guarded) if (live.pid) killLive(live.pid);
  });
}

/** Raised when a server exits at start because its port was taken meanwhile: the caller retries with another. */
export class PortInUseError extends Error {
  readonly code = 'EADDRINUSE';
}

/**
 * Resolves with `child` once its output contains `readyLine`; rejects (killing it
 * with `kill`) when it exits first or is not ready after `timeoutMs`.
 */
export function waitUntilReady(child: ChildProcess, options: { name: string; readyLine: string; timeoutMs: number; kill: (child: ChildProcess) => void }): Promise<ChildProcess> {
  const { name, readyLine, timeoutMs, kill } = options;
  let output = '';
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => {
      clearTimeout(timer);
      kill(child);
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`${name} not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!output.includes(readyLine)) return;
      clearTimeout(timer);
      child.removeListener('exit', onEarlyExit);
      // Keep draining the pipes so a chatty server never blocks on a full one.
      child.stdout?.removeListener('data', onData).resume();
      child.stderr?.removeListener('data', onData).resume();
      resolve(child);
    };
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      const message = `${name} exited (${code ?? signal}) before it was ready:\n${output}`;
      fail(/Address already in use/.test(output) ? new PortInUseError(message) : new Error(message));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', fail);
    child.once('exit', onEarlyExit);
  });
}

/** Sends `signal` and resolves once the process has exited (at once if it already had). */
export function signalChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  return exited;
}
