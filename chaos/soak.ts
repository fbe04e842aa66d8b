/**
 * Campaign `soak`, and `npm run soak -- --minutes 10`: S1-like load with churn
 * (soak-load.ts) against the compiled relay for a while, sampling its RSS, file
 * descriptors, connections and rooms every few seconds. Checked:
 *
 * - RSS drift: the median of the last minute's samples against the median of
 *   minute 2's must differ by less than 5%. Window medians rather than a fitted
 *   slope: RSS moves in a GC sawtooth, and a slope over a few minutes swings with
 *   where the last cycle happened to end. Medians rather than means: a leak
 *   raises the level for good and moves the median, while a passing spike (one
 *   3-minute run rose to 149 MiB for some 20 s and fell back to 117) moves a
 *   mean by 10% and a median hardly at all. The means are reported beside them.
 *   Minute 1 is warm-up (V8 grows its heap to the load), so it is left out.
 *   Asserted only for runs of at least 3 minutes, where the windows do not overlap.
 * - The way back: once every client has gone and the idle timeout has passed,
 *   the relay holds no connections and no rooms, and as many sockets and other
 *   descriptors as at the start. Files under the data dir are reported, not
 *   compared: LevelDB keeps table files open in its cache by design.
 * - The relay never dies and /healthz is ok at the end.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

import { UNLIMITED_RATE_ENV } from '../tests/helpers/relay-process';
import type { Campaign, CampaignReport, ChaosScale } from './campaign';
import { ChaosRelay, type FdCounts, type RelayGauges } from './chaos-relay';
import { Findings } from './findings';
import { progress } from './progress';
import { SeededRandom, chooseSeed } from './random';
import { describeMachine, markdownOf, writeResults } from './report';
import { ChurnLoad, type ChurnSpec } from './soak-load';
import { pause } from './wait';

const NAME = 'soak';
const TITLE = 'S1-like load with clients joining and leaving and rooms loading and unloading: RSS flat, everything given back at the end';

/** Minutes of load at each scale: `ci` is too short for drift, so it checks only the way back. */
const MINUTES: Record<ChaosScale, number> = { ci: 1 / 3, long: 3 };

const SAMPLE_EVERY_MS = 2_000;
const MAX_RSS_DRIFT = 0.05;
const ROOM_IDLE_MS = 1_000;
/** How long the relay gets, after the idle timeout, to give everything back. */
const SETTLE_TIMEOUT_MS = 20_000;

/** S1's shape (20 rooms × 10 clients, 5 updates/s each), with churn. */
const LOAD: ChurnSpec = {
  roomSlots: 30,
  activeRooms: 20,
  clientsPerRoom: 10,
  updatesPerSecond: 5,
  clientLifeMs: { min: 5_000, max: 20_000 },
  rotateEveryMs: 1_000,
  activationsPerDoc: 3,
};

const RELAY_ENV = {
  // All 200 clients are one client to the relay (127.0.0.1): its shared budgets would cut them off.
  ...UNLIMITED_RATE_ENV,
  COLLAB_MAX_CONNECT_ATTEMPTS_PER_MINUTE: '1000000',
  COLLAB_MAX_CONNECTIONS_PER_IP: '1000000',
  COLLAB_ROOM_IDLE_MS: String(ROOM_IDLE_MS),
  COLLAB_METRICS_PORT: '0',
} as const;

interface Sample {
  readonly atS: number;
  readonly rss: number;
  readonly fds: number;
  readonly gauges: RelayGauges;
}

export const soak: Campaign = {
  name: NAME,
  title: TITLE,
  run: (scale) => runSoak(MINUTES[scale]),
};

/** Runs the soak for `minutes` of load. */
export async function runSoak(minutes: number): Promise<CampaignReport> {
  const findings = new Findings(NAME);
  const seed = chooseSeed();
  findings.figure('seed', seed);
  findings.figure('minutes of load', Math.round(minutes * 100) / 100);
  findings.figure('load', `${LOAD.activeRooms} of ${LOAD.roomSlots} rooms × ${LOAD.clientsPerRoom} clients, ${LOAD.updatesPerSecond} updates/s each, lifetimes ${LOAD.clientLifeMs.min / 1000}-${LOAD.clientLifeMs.max / 1000} s, a room rotated every ${LOAD.rotateEveryMs / 1000} s`);
  progress(NAME, `${minutes} minutes of load, seed ${seed}`);
  const relay = await ChaosRelay.create(RELAY_ENV);
  const samples: Sample[] = [];
  try {
    await relay.start();
    const start = { fds: relay.fds(), gauges: await relay.gauges(), rss: relay.rss() };
    const load = new ChurnLoad(LOAD, (docId) => relay.docUrl(docId), new SeededRandom(seed));
    const startedAt = performance.now();
    load.start();
    while (performance.now() - startedAt < minutes * 60_000) {
      await pause(SAMPLE_EVERY_MS);
      if (!relay.isRunning) break;
      samples.push({ atS: (performance.now() - startedAt) / 1000, rss: relay.rss(), fds: relay.fds().total, gauges: await relay.gauges() });
      const last = samples.at(-1)!;
      if (samples.length % 15 === 0) progress(NAME, `${Math.round(last.atS)} s: rss ${mib(last.rss)} MiB, ${last.gauges.connections} connections, ${last.gauges.rooms} rooms, ${last.fds} fds`);
    }
    await load.stop();
    findings.figure('clients joined', load.counts.joins);
    findings.figure('room activations', load.counts.activations);
    findings.figure('documents used', load.docsUsed);
    findings.figure('updates sent', load.counts.updatesSent);
    findings.figure('frames received by clients', load.counts.framesReceived);
    if (relay.isRunning) {
      checkDrift({ samples, minutes, findings });
      await checkWayBack({ relay, start, findings });
      findings.expect(await relay.isHealthy(), () => '/healthz is not ok at the end');
    }
  } catch (error) {
    findings.fail(`aborted: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await relay.dispose();
  }
  for (const crash of relay.crashes) findings.fail(crash);
  for (const line of relay.errorLines) findings.fail(`relay logged an error: ${line}`, 'relay logged an error');
  findings.figure('relay RSS peak MiB', mib(Math.max(0, ...samples.map((sample) => sample.rss))));
  findings.figure('relay RSS every 10 s, MiB', rssSeries(samples));
  findings.figure('connections peak', Math.max(0, ...samples.map((sample) => sample.gauges.connections)));
  findings.figure('rooms peak', Math.max(0, ...samples.map((sample) => sample.gauges.rooms)));
  findings.figure('relay error log lines', relay.errorLines.length);
  return findings.report();
}

function checkDrift(options: { samples: readonly Sample[]; minutes: number; findings: Findings }): void {
  const { samples, minutes, findings } = options;
  const endS = minutes * 60;
  const minuteTwoSamples = samples.filter((sample) => sample.atS >= 60 && sample.atS < 120);
  const lastMinuteSamples = samples.filter((sample) => sample.atS >= endS - 60);
  const minuteTwo = medianRss(minuteTwoSamples);
  const lastMinute = medianRss(lastMinuteSamples);
  const drift = (lastMinute - minuteTwo) / minuteTwo;
  findings.figure('RSS median, minute 2, MiB', mib(minuteTwo));
  findings.figure('RSS median, last minute, MiB', mib(lastMinute));
  findings.figure('RSS drift of the medians, last minute vs minute 2, %', Math.round(drift * 1000) / 10);
  findings.figure('RSS means, minute 2 → last minute, MiB', `${mib(meanRss(minuteTwoSamples))} → ${mib(meanRss(lastMinuteSamples))}`);
  if (minutes < 3) {
    findings.figure('RSS drift asserted', 'no: under 3 minutes the windows overlap or do not exist');
    return;
  }
  findings.figure('RSS drift asserted', `yes, < ${MAX_RSS_DRIFT * 100}%`);
  findings.expect(Math.abs(drift) < MAX_RSS_DRIFT, () => `RSS drifted ${(drift * 100).toFixed(1)}% from minute 2 (${mib(minuteTwo)} MiB) to the last minute (${mib(lastMinute)} MiB)`);
}

/**
 * Waits (polling: nothing announces it) until the relay holds no more
 * connections, rooms, sockets and other descriptors than at the start, or the
 * deadline passes; then compares.
 */
async function checkWayBack(options: { relay: ChaosRelay; start: { fds: FdCounts; gauges: RelayGauges; rss: number }; findings: Findings }): Promise<void> {
  const { relay, start, findings } = options;
  const stoppedAt = performance.now();
  const isBack = (now: { gauges: RelayGauges; fds: FdCounts }): boolean =>
    now.gauges.connections <= start.gauges.connections &&
    now.gauges.rooms <= start.gauges.rooms &&
    now.fds.sockets <= start.fds.sockets &&
    now.fds.other <= start.fds.other;
  let now = { gauges: await relay.gauges(), fds: relay.fds() };
  while (!isBack(now) && performance.now() - stoppedAt < ROOM_IDLE_MS + SETTLE_TIMEOUT_MS) {
    await pause(250);
    now = { gauges: await relay.gauges(), fds: relay.fds() };
  }
  const { gauges, fds } = now;
  findings.figure('time until everything is back, ms', Math.round(performance.now() - stoppedAt));
  findings.figure('connections start → end', `${start.gauges.connections} → ${gauges.connections}`);
  findings.figure('rooms start → end', `${start.gauges.rooms} → ${gauges.rooms}`);
  findings.figure('socket fds start → end', `${start.fds.sockets} → ${fds.sockets}`);
  findings.figure('other fds start → end', `${start.fds.other} → ${fds.other}`);
  findings.figure('data-dir fds start → end (LevelDB, not compared)', `${start.fds.dataFiles} → ${fds.dataFiles}`);
  findings.figure('RSS start → end MiB', `${mib(start.rss)} → ${mib(relay.rss())}`);
  findings.expect(gauges.connections === start.gauges.connections, () => `${gauges.connections} connections left open (${start.gauges.connections} at the start)`);
  findings.expect(gauges.rooms === start.gauges.rooms, () => `${gauges.rooms} rooms still loaded (${start.gauges.rooms} at the start)`);
  findings.expect(fds.sockets === start.fds.sockets, () => `${fds.sockets} socket descriptors open, ${start.fds.sockets} at the start`);
  findings.expect(fds.other === start.fds.other, () => `${fds.other} other descriptors open (pipes, epoll, files), ${start.fds.other} at the start`);
}

/** RSS means over 10-second windows, as one line: the shape a drift figure alone cannot show. */
function rssSeries(samples: readonly Sample[]): string {
  const windows = new Map<number, number[]>();
  for (const sample of samples) {
    const window = Math.floor(sample.atS / 10);
    windows.set(window, [...(windows.get(window) ?? []), sample.rss]);
  }
  return [...windows.values()].map((values) => Math.round(values.reduce((sum, value) => sum + value, 0) / values.length / 2 ** 20)).join(' ');
}

function meanRss(samples: readonly Sample[]): number {
  return samples.length === 0 ? NaN : samples.reduce((sum, sample) => sum + sample.rss, 0) / samples.length;
}

function medianRss(samples: readonly Sample[]): number {
  const sorted = samples.map((sample) => sample.rss).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' } } });
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, not ${values.minutes}`);
  const startedAt = new Date();
  const report = await runSoak(minutes);
  const run = {
    startedAt: startedAt.toISOString(),
    scale: `soak, ${minutes} minutes`,
    machine: describeMachine(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    campaigns: [{ ...report, title: TITLE, durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000) }],
  };
  const paths = await writeResults(run, '-soak');
  console.log(markdownOf(run));
  progress(NAME, `results: ${paths.json}, ${paths.markdown}`);
  process.exitCode = report.passed ? 0 : 1;
}

// `npm run soak` runs this file; the registry only imports it.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  });
}
