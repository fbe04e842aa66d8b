/** Runs the compiled relay (dist/server/main.js, built by the global setup) as a real child process, as `npm run relay` does. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { serverNodeFlags } from '../../scripts/server-node-flags';
import { tokenIssuer, type Teardown, type TokenIssuer } from './relay';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const RELAY_ENTRY = [...serverNodeFlags(), 'dist/server/main.js'];

/** The signing key every spawned test relay uses (as COLLAB_SECRET takes it), so tests can mint tokens for it. */
export const TEST_SECRET = 'ibdSvMQYI9hfAYkJpgoCfEKd3bK0r4Uqy_N9Ar6ZS-c';

/** Environment that lifts the per-connection frame and byte budgets, for bulk replays that no person could type. */
export const UNLIMITED_RATE_ENV = {
  COLLAB_RATE_FRAMES_PER_SECOND: '10000000',
  COLLAB_RATE_FRAME_BURST: '100000000',
  COLLAB_RATE_BYTES_PER_SECOND: String(2 ** 40),
  COLLAB_RATE_BYTE_BURST: String(2 ** 40),
  COLLAB_RATE_TIME_MS_PER_SECOND: '1000',
  COLLAB_RATE_TIME_MS_BURST: '3600000',
} as const;

/** A relay child process. */
export interface RelayProcess extends TokenIssuer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly port: number;
  /** Every stdout line so far (JSON log lines). */
  readonly stdout: string[];
  /** Resolves with the exit code (or signal) once the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the relay process and waits for its `listening on ws://…` line. */
export function spawnRelay(teardown: Teardown, env: Record<string, string>): Promise<RelayProcess> {
  const child = spawn(process.execPath, RELAY_ENTRY, {
    cwd: REPO_ROOT,
    env: { ...process.env, COLLAB_HOST: '127.0.0.1', COLLAB_PORT: '0', LOG_LEVEL: 'info', COLLAB_SECRET: TEST_SECRET, ...env },
  });
  const stdout: string[] = [];
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  teardown.add(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        stdout.push(line);
        const match = /listening on (ws:\/\/[^"\s]+:(\d+))/.exec(line);
        if (match?.[1] && match[2]) {
          const tokenFor = tokenIssuer(new Uint8Array(Buffer.from(TEST_SECRET, 'base64url')));
          resolve({ child, url: match[1], port: Number(match[2]), stdout, exited, tokenFor });
        }
      }
    });
    void exited.then(({ code }) => reject(new Error(`relay exited with ${code} before listening: ${stderr}`)));
  });
}

/** The metrics URL the relay printed at start (it was spawned with COLLAB_METRICS_PORT). */
export function metricsUrlOf(relay: RelayProcess): string {
  for (const line of relay.stdout) {
    const match = /metrics on (http:\/\/[^"\s]+)/.exec(line);
    if (match?.[1]) return match[1];
  }
  throw new Error('the relay printed no metrics address');
}

/** Runs the relay process expecting it to fail; resolves with its exit code and stderr. */
export function runRelayExpectingFailure(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, RELAY_ENTRY, {
    cwd: REPO_ROOT,
    env: { ...process.env, COLLAB_PORT: '0', ...env },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
