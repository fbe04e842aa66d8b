/**
 * The relay a storm hits: the compiled relay as a child process, stopped with
 * SIGTERM and started again on the same port and data dir, with its memory read
 * from /proc and its refusals from its own metrics.
 */
import { rssBytes } from '../bench/proc-stats';
import { metricsUrlOf, spawnRelay, type RelayProcess } from '../tests/helpers/relay-process';
import type { Teardown } from '../tests/helpers/relay';

/** How often the relay's memory is read while a storm runs. */
const RSS_SAMPLE_INTERVAL_MS = 50;

/**
 * Starts the relay over `dataDir` on `port` (0: any). Every storm client sends
 * its own X-Forwarded-For and 127.0.0.1 is trusted as the proxy, so the
 * per-client limits (sockets, attempts a minute) stay at their defaults and
 * apply to each simulated person as they would on a real network.
 */
export function startStormRelay(options: { teardown: Teardown; dataDir: string; port: number }): Promise<RelayProcess> {
  return spawnRelay(options.teardown, {
    COLLAB_DATA_DIR: options.dataDir,
    COLLAB_PORT: String(options.port),
    COLLAB_TRUSTED_PROXIES: '127.0.0.1',
    COLLAB_METRICS_PORT: '0',
    // One info line per connection would be thousands here; the ready lines print anyway.
    LOG_LEVEL: 'warn',
  });
}

/** SIGTERM, as a deploy stops it; resolves with how it exited. */
export async function stopRelay(relay: RelayProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  relay.child.kill('SIGTERM');
  return relay.exited;
}

/** Reads a process's resident memory every few milliseconds until stopped. */
export class RssSampler {
  private peakBytes = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), RSS_SAMPLE_INTERVAL_MS);
  }

  /** Stops sampling; returns the highest reading, in bytes. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peakBytes;
  }

  private sample(): void {
    try {
      this.peakBytes = Math.max(this.peakBytes, rssBytes(this.pid));
    } catch {
      // The process has just exited: its last reading stands.
    }
  }
}

/** Upgrades the relay refused since it started, by HTTP status, from its /metrics. */
export async function readUpgradesRefused(relay: RelayProcess): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrlOf(relay))).text();
  const refused: Record<string, number> = {};
  for (const match of text.matchAll(/^inkwell_relay_upgrades_refused_total\{status="(\d+)"\} (\d+)$/gm)) {
    refused[match[1]!] = Number(match[2]);
  }
  return refused;
}

/** True when the process is running and /healthz answers `ok`. */
export async function isRelayHealthy(relay: RelayProcess): Promise<boolean> {
  if (relay.child.exitCode !== null || relay.child.signalCode !== null) return false;
  try {
    const response = await fetch(`http://127.0.0.1:${relay.port}/healthz`);
    return response.ok && ((await response.json()) as { status?: unknown }).status === 'ok';
  } catch {
    return false;
  }
}

/** Bytes as megabytes with one decimal, for figures. */
export function toMegabytes(bytes: number): number {
  return Math.round(bytes / 1024 / 102.4) / 10;
}
