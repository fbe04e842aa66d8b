/**
 * What the private test servers (Redis, PostgreSQL) share: a free port to
 * start on, and an exit hook that kills whatever a test left running.
 */
import type { ChildProcess } from 'node:child_process';

export { freePort } from '../../bench/servers';

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
