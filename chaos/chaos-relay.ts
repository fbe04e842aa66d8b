/**
 * The relay under chaos: the compiled relay (`dist/server/main.js`) as a child
 * process, on one fixed port of 127.0.0.1 and one temp data dir for its whole
 * life, so it can be killed and started again and its clients find it where
 * they left it. Also reads what the process holds: RSS and file descriptors
 * from /proc, connections and rooms from its Prometheus metrics.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readlinkSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '../bench/servers';
import { rssBytes } from '../bench/proc-stats';
import { Teardown } from '../tests/helpers/relay';
import { metricsUrlOf, spawnRelay, type RelayProcess } from '../tests/helpers/relay-process';

/** Open file descriptors of a process, by what they point at. */
export interface FdCounts {
  readonly total: number;
  readonly sockets: number;
  /** Files under the relay's data dir (LevelDB's tables, log and lock). */
  readonly dataFiles: number;
  /** Everything else: pipes, epoll and event fds, other files. */
  readonly other: number;
}

/** The relay's own counts, from its metrics listener. */
export interface RelayGauges {
  readonly connections: number;
  readonly rooms: number;
}

/** How a relay process ended. */
export interface RelayExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One relay, started and stopped (or killed) as often as a campaign likes. */
export class ChaosRelay {
  private current: RelayProcess | null = null;
  private metricsUrl: string | null = null;
  private readonly teardown = new Teardown();
  private readonly errorLogLines: string[] = [];
  /** Exits nobody asked for, noticed as they happen. */
  private readonly unexpectedExits: string[] = [];
  private expectingExit = false;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly env: Readonly<Record<string, string>>,
  ) {}

  /** A relay on a free port over a new temp data dir; `env` adds to the test relay's environment. */
  static async create(env: Readonly<Record<string, string>> = {}): Promise<ChaosRelay> {
    const dataDir = await mkdtemp(join(tmpdir(), 'inkwell-chaos-'));
    return new ChaosRelay(await freePort(), dataDir, env);
  }

  /** Starts the process and waits until it listens. */
  async start(): Promise<RelayProcess> {
    if (this.current) throw new Error('the relay is already running');
    const relay = await spawnRelay(this.teardown, {
      LOG_LEVEL: 'error',
      ...this.env,
      COLLAB_PORT: String(this.port),
      COLLAB_DATA_DIR: this.dataDir,
    });
    this.current = relay;
    this.expectingExit = false;
    // Printed before the listening line, so it is among the lines read so far.
    this.metricsUrl = this.env.COLLAB_METRICS_PORT === undefined ? null : metricsUrlOf(relay);
    relay.child.stdout.on('data', () => this.collectErrorLines(relay));
    void relay.exited.then(({ code, signal }) => {
      if (!this.expectingExit) this.unexpectedExits.push(`relay exited on its own (code ${code}, signal ${signal}): ${relay.stdout.slice(-3).join(' | ')}`);
      if (this.current === relay) this.current = null;
    });
    return relay;
  }

  /** Sends `signal` and waits for the process to end. */
  async stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<RelayExit> {
    const relay = this.process;
    this.expectingExit = true;
    relay.child.kill(signal);
    const exit = await relay.exited;
    this.collectErrorLines(relay);
    this.current = null;
    return exit;
  }

  /** The running process (throws when there is none). */
  get process(): RelayProcess {
    if (!this.current) throw new Error('the relay is not running');
    return this.current;
  }

  get isRunning(): boolean {
    return this.current !== null;
  }

  /** The relay's URL for `docId` with an editor token (stock clients' `?token=`), plus extra query parameters. */
  docUrl(docId: string, query: Readonly<Record<string, string>> = {}): string {
    const params = new URLSearchParams({ token: this.process.tokenFor(docId), ...query });
    return `${this.process.url}/${docId}?${params.toString()}`;
  }

  /** True when /healthz answers `{ "status": "ok" }`. */
  async isHealthy(): Promise<boolean> {
    try {
      const response = await getOnce(`http://127.0.0.1:${this.port}/healthz`);
      return response.status === 200 && (JSON.parse(response.body) as { status?: unknown }).status === 'ok';
    } catch {
      return false;
    }
  }

  /** Resident memory of the running process. */
  rss(): number {
    return rssBytes(this.pid);
  }

  /**
   * Resident memory, or null when there is no live process to read: for samplers
   * that run on a timer across kills (a killed process not yet reaped has no VmRSS).
   */
  rssIfRunning(): number | null {
    if (!this.current) return null;
    try {
      const rss = this.rss();
      return Number.isFinite(rss) ? rss : null;
    } catch {
      return null;
    }
  }

  /** The running process's open file descriptors. */
  fds(): FdCounts {
    const counts = { total: 0, sockets: 0, dataFiles: 0, other: 0 };
    const dir = `/proc/${this.pid}/fd`;
    for (const fd of readdirSync(dir)) {
      let target: string;
      try {
        target = readlinkSync(`${dir}/${fd}`);
      } catch {
        continue; // closed between the listing and the read
      }
      counts.total += 1;
      if (target.startsWith('socket:')) counts.sockets += 1;
      else if (target.startsWith(this.dataDir)) counts.dataFiles += 1;
      else counts.other += 1;
    }
    return counts;
  }

  /** Connections and loaded rooms, read from /metrics (the relay must run with COLLAB_METRICS_PORT). */
  async gauges(): Promise<RelayGauges> {
    if (!this.metricsUrl) throw new Error('the relay was started without COLLAB_METRICS_PORT');
    const text = (await getOnce(this.metricsUrl)).body;
    const gauge = (name: string): number => {
      const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      if (!match?.[1]) throw new Error(`the relay's metrics have no ${name}`);
      return Number(match[1]);
    };
    return { connections: gauge('inkwell_relay_connections'), rooms: gauge('inkwell_relay_rooms') };
  }

  /** Error and fatal log lines of every process so far (the relay logs at `error` unless told otherwise). */
  get errorLines(): readonly string[] {
    return this.errorLogLines;
  }

  /** Exits that happened without `stop`: crashes. */
  get crashes(): readonly string[] {
    return this.unexpectedExits;
  }

  /** Kills whatever still runs and removes the data dir. */
  async dispose(): Promise<void> {
    this.expectingExit = true;
    await this.teardown.run();
    this.current = null;
    await rm(this.dataDir, { recursive: true, force: true });
  }

  private get pid(): number {
    const pid = this.process.child.pid;
    if (pid === undefined) throw new Error('the relay process has no pid');
    return pid;
  }

  // pino's levels: 50 error, 60 fatal. Lines are moved out of the process's buffer so it does not grow.
  private collectErrorLines(relay: RelayProcess): void {
    const lines = relay.stdout.splice(0, relay.stdout.length);
    for (const line of lines) {
      if (/"level":(50|60)/.test(line)) this.errorLogLines.push(line.slice(0, 1500));
    }
  }
}

// A GET on a connection of its own, closed after the answer: a kept-alive
// connection would sit among the relay's sockets and skew its descriptor count.
function getOnce(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}
