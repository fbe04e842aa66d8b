/** Runs `npm start`'s compiled server (web app + relay on one port) as a child process for browser tests. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { serverNodeFlags } from '../../scripts/server-node-flags';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A running app server. */
export interface AppProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly port: number;
  readonly exited: Promise<void>;
  /** Everything the process printed so far, stdout and stderr: its logs, access log included. */
  readonly output: string[];
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

/** Starts the app on 127.0.0.1 (port 0 = any free one) over LevelDB in `dataDir`. */
export function startApp(options: { dataDir: string; port?: number; env?: Record<string, string> }): Promise<AppProcess> {
  const child = spawn(process.execPath, [...serverNodeFlags(), 'dist/server/app-main.js'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(options.port ?? 0),
      COLLAB_DATA_DIR: options.dataDir,
      // Short heartbeats so a dropped browser disappears quickly even without a close frame.
      COLLAB_HEARTBEAT_MS: '1000',
      // Every request line is logged, as a proxy would, so tests can check that no token is ever in one.
      COLLAB_LOG_REQUESTS: '1',
      LOG_LEVEL: 'info',
      NEXT_TELEMETRY_DISABLED: '1',
      ...options.env,
    },
  });
  const output: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    output.push(chunk.toString());
  });
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /ready on (http:\/\/127\.0\.0\.1:(\d+))/.exec(buffered);
      if (match?.[1] && match[2]) {
        buffered = '';
        const port = Number(match[2]);
        resolve({
          child,
          baseUrl: match[1],
          port,
          exited,
          output,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    void exited.then(() => reject(new Error(`app exited before it was ready: ${stderr}`)));
  });
}
