/**
 * `npm run bench`: every server in one run, interleaved (A B C D A B C D …), each
 * started and stopped here on 127.0.0.1, with the load generator in its own
 * process and server CPU and RSS read from /proc (summed over a server's
 * processes; its Redis and PostgreSQL, where it has them, are read apart). The
 * cluster kinds run in the scenarios `SCENARIOS_OF` lists. Ends with the browser
 * keystroke benchmark, then writes the JSON, the markdown tables and the charts.
 *
 *   npm run bench -- [--scenarios S1,S2,S3,S4,S5,S6,browser] [--servers inkwell,raw-ws,…]
 *                    [--repeats 2] [--latency-repeats 3] [--duration 20] [--idle 2000,10000] [--cold-updates 50000] [--keys 300]
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { loadEditingTrace } from '../tests/helpers/editing-trace';
import { writeCharts } from './charts';
import { BackingServices, type Backing } from './backing-services';
import { cpuSeconds, rssBytes, treeCpuSeconds } from './proc-stats';
import { measureColdLoad, measureIngest, type ColdLoadResult, type IngestResult } from './document-scenarios';
import type { LoadResult, LoadSpec } from './loadgen';
import { SERVER_KINDS, backingOf, isMeasuredIn, startServer, type ServerKind, type ServerSetup, type ServerUnderTest } from './servers';
import { summaryTable, type BenchResults, type KeystrokeResult, type Measurement } from './report';

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'S1,S2,S3,S4,S5,S6,browser' },
    servers: { type: 'string', default: SERVER_KINDS.join(',') },
    repeats: { type: 'string', default: '2' },
    'latency-repeats': { type: 'string', default: '3' },
    duration: { type: 'string', default: '20' },
    'short-duration': { type: 'string', default: '10' },
    idle: { type: 'string', default: '2000,10000' },
    'idle-hold': { type: 'string', default: '3' },
    'cold-updates': { type: 'string', default: '50000' },
    'later-clients': { type: 'string', default: '4' },
    keys: { type: 'string', default: '300' },
  },
});

const DURATION_S = Number(values.duration);
const SHORT_DURATION_S = Number(values['short-duration']);
const IDLE_SIZES = values.idle.split(',').map(Number);
const IDLE_HOLD_S = Number(values['idle-hold']);
const COLD_UPDATES = Number(values['cold-updates']);
const LATER_CLIENTS = Number(values['later-clients']);
const TRACE = loadEditingTrace('automerge-paper.json.gz');

/** A scenario measured per server: a load from the generator, or a document pushed and reloaded. */
type Scenario =
  | {
      readonly id: string;
      readonly kind: 'load';
      readonly title: string;
      /** Whether latency under load is measured (S1, S2, S5): those get `--latency-repeats`. */
      readonly measuresLatency: boolean;
      spec(server: ServerUnderTest): LoadSpec;
    }
  | {
      readonly id: string;
      readonly kind: 'document';
      readonly title: string;
      run(setup: ServerSetup): Promise<Pick<Measurement, 'coldLoad' | 'ingest'>>;
    };

function rooms(server: ServerUnderTest, load: { rooms: number; clientsPerRoom: number; prefix: string }): Pick<LoadSpec, 'roomUrls' | 'roomNames' | 'protocol' | 'clientsPerRoom'> {
  const roomNames = Array.from({ length: load.rooms }, (_, i) => `${load.prefix}-${i}`);
  const roomUrls = roomNames.map((name) => Array.from({ length: load.clientsPerRoom }, (_, client) => server.roomUrl(name, client)));
  return { protocol: server.protocol, roomNames, roomUrls, clientsPerRoom: load.clientsPerRoom };
}

/** A load of live traffic (S1, S2, S5), whose latency is measured; its rooms are named after the scenario. */
function trafficScenario(
  id: string,
  title: string,
  load: Pick<LoadSpec, 'clientsPerRoom' | 'updatesPerSecond' | 'awarenessPerSecond' | 'durationSeconds'> & { readonly rooms: number },
): Scenario {
  const { rooms: roomCount, ...perClient } = load;
  return {
    id,
    kind: 'load',
    measuresLatency: true,
    title: `${title}, ${load.durationSeconds} s`,
    spec: (server) => ({ ...perClient, ...rooms(server, { rooms: roomCount, clientsPerRoom: perClient.clientsPerRoom, prefix: id.toLowerCase() }) }),
  };
}

function scenarioList(ids: readonly string[]): Scenario[] {
  const all: Scenario[] = [];
  for (const id of ids) {
    switch (id) {
      case 'S1':
        all.push(trafficScenario(id, 'fan-out: 20 rooms × 10 clients, 5 text updates/s each', { rooms: 20, clientsPerRoom: 10, updatesPerSecond: 5, awarenessPerSecond: 0, durationSeconds: DURATION_S }));
        break;
      case 'S2':
        all.push(trafficScenario(id, 'hot room: 1 room × 50 clients, 2 updates/s each', { rooms: 1, clientsPerRoom: 50, updatesPerSecond: 2, awarenessPerSecond: 0, durationSeconds: SHORT_DURATION_S }));
        break;
      case 'S3':
        for (const size of IDLE_SIZES) {
          all.push({
            id: `S3/${size}`,
            kind: 'load',
            measuresLatency: false,
            title: `idle: ${size} clients, each in its own room, synced`,
            spec: (server) => ({ ...rooms(server, { rooms: size, clientsPerRoom: 1, prefix: 's3' }), updatesPerSecond: 0, awarenessPerSecond: 0, durationSeconds: IDLE_HOLD_S, isIdle: true }),
          });
        }
        break;
      case 'S4':
        all.push({
          id,
          kind: 'document',
          title: `cold load: ${COLD_UPDATES} updates of automerge-paper, server restarted when it persists; first client and ${LATER_CLIENTS} later ones`,
          run: async (setup) => ({
            coldLoad: await measureColdLoad(setup, { patches: TRACE.patches.slice(0, COLD_UPDATES), laterClients: LATER_CLIENTS }),
          }),
        });
        break;
      case 'S5':
        all.push(trafficScenario(id, 'awareness: 20 rooms × 10 clients, cursor moves 5/s + 1 text update/s each', { rooms: 20, clientsPerRoom: 10, updatesPerSecond: 1, awarenessPerSecond: 5, durationSeconds: SHORT_DURATION_S }));
        break;
      case 'S6':
        all.push({
          id,
          kind: 'document',
          title: `ingest: all ${TRACE.patches.length} updates of automerge-paper as fast as acknowledged, then restarted and checked against endContent`,
          run: async (setup) => ({ ingest: await measureIngest(setup, { patches: TRACE.patches, expectedEnd: TRACE.endContent }) }),
        });
        break;
      case 'browser':
        break;
      default:
        throw new Error(`unknown scenario ${id}`);
    }
  }
  return all;
}

/** CPU seconds so far of a server's processes, and of its Redis and PostgreSQL (with their forks and backends). */
function cpuNow(server: ServerUnderTest, backing: Backing | null): { server: number; redis: number; postgres: number } {
  return {
    server: server.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    redis: backing ? treeCpuSeconds(backing.redis.pid) : NaN,
    postgres: backing?.postgres ? treeCpuSeconds(backing.postgres.pid) : NaN,
  };
}

const percentOf = (busySeconds: number, wallSeconds: number): number => Math.round((busySeconds / wallSeconds) * 1000) / 10;

async function measureLoad(scenario: Extract<Scenario, { kind: 'load' }>, setup: ServerSetup, repeat: number): Promise<Measurement> {
  const server = await startServer(setup);
  const totalRss = (): number => server.pids.reduce((sum, pid) => sum + rssBytes(pid), 0);
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const baselineRss = totalRss();
    const spec = scenario.spec(server);
    let cpuAtStart = { server: NaN, redis: NaN, postgres: NaN };
    let wallAtStart = 0;
    let window = { seconds: NaN, server: NaN, redis: NaN, postgres: NaN };
    let rssAtEnd = NaN;
    // A file, not argv: thousands of room URLs exceed the kernel's argument limit.
    const specFile = join(setup.dataDir, 'load-spec.json');
    await writeFile(specFile, JSON.stringify(spec));
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/loadgen.ts', specFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    const result = await new Promise<LoadResult>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const lines = output.split('\n');
        output = lines.pop() ?? '';
        for (const line of lines) {
          if (line === 'START') {
            cpuAtStart = cpuNow(server, setup.backing);
            wallAtStart = performance.now();
          } else if (line === 'END') {
            const cpuAtEnd = cpuNow(server, setup.backing);
            const seconds = (performance.now() - wallAtStart) / 1000;
            window = {
              seconds,
              server: percentOf(cpuAtEnd.server - cpuAtStart.server, seconds),
              redis: percentOf(cpuAtEnd.redis - cpuAtStart.redis, seconds),
              postgres: percentOf(cpuAtEnd.postgres - cpuAtStart.postgres, seconds),
            };
            rssAtEnd = totalRss();
          } else if (line.startsWith('{')) {
            resolve(JSON.parse(line) as LoadResult);
          }
        }
      });
      child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`loadgen exited with ${code}`))));
    });
    const connections = spec.roomUrls.reduce((sum, urls) => sum + urls.length, 0);
    return {
      scenario: scenario.id,
      server: setup.kind,
      repeat,
      connections,
      cpuPercent: window.server,
      windowSeconds: Math.round(window.seconds * 100) / 100,
      redisCpuPercent: window.redis,
      postgresCpuPercent: window.postgres,
      rssBytes: rssAtEnd,
      rssPerConnectionBytes: Math.round((rssAtEnd - baselineRss) / connections),
      load: result,
    };
  } finally {
    await server.stop();
  }
}

async function measure(scenario: Scenario, options: { kind: ServerKind; repeat: number; backingServices: BackingServices }): Promise<Measurement> {
  const { kind, repeat, backingServices } = options;
  const dataDir = await mkdtemp(join(tmpdir(), `inkwell-bench-${kind}-`));
  let backing: Backing | null = null;
  try {
    const needs = backingOf(kind);
    backing = needs === 'none' ? null : await backingServices.start(needs === 'redis-and-postgres');
    const setup: ServerSetup = { kind, dataDir, backing };
    if (scenario.kind === 'load') return await measureLoad(scenario, setup, repeat);
    const outcome = await scenario.run(setup);
    return { scenario: scenario.id, server: kind, repeat, connections: 1, cpuPercent: NaN, rssBytes: NaN, rssPerConnectionBytes: NaN, ...outcome };
  } finally {
    if (backing) await backingServices.stop(backing);
    await rm(dataDir, { recursive: true, force: true });
  }
}

function describe(measurement: Measurement): string {
  if (measurement.coldLoad) return describeColdLoad(measurement.coldLoad);
  if (measurement.ingest) return describeIngest(measurement.ingest);
  const { load } = measurement;
  if (!load) return '';
  const backing = Number.isFinite(measurement.redisCpuPercent) ? ` (redis ${measurement.redisCpuPercent}%, postgres ${measurement.postgresCpuPercent ?? '—'}%)` : '';
  return (
    `cpu ${measurement.cpuPercent}%${backing} p99 ${load.text.latency.p99} ms lost ${load.text.lost} ` +
    `connected ${load.connected} rss/conn ${(measurement.rssPerConnectionBytes / 1024).toFixed(1)} KB`
  );
}

function describeColdLoad(result: ColdLoadResult): string {
  return `first ${result.first.ms} ms (${result.first.receivedChars}/${result.expectedChars} chars) later ${result.later.map((t) => t.ms).join(', ')} ms`;
}

function describeIngest(result: IngestResult): string {
  return `${result.updatesPerSecond} updates/s${result.isDurable ? ' on disk' : ''}, reload ${result.load.ms} ms exact ${result.load.isExact}`;
}

/** Runs the browser benchmark in its own process; it builds the app first if there is no build. */
function runKeystrokeBenchmark(keys: number): Promise<KeystrokeResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/keystroke-latency.ts', '--keys', String(keys)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const last = output.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as KeystrokeResult);
      else reject(new Error(`keystroke benchmark exited with ${code}: ${output.slice(-500)}`));
    });
  });
}

async function main(): Promise<void> {
  const scenarioIds = values.scenarios.split(',');
  const scenarios = scenarioList(scenarioIds);
  const kinds = values.servers.split(',').filter((kind): kind is ServerKind => (SERVER_KINDS as readonly string[]).includes(kind));
  const repeats = Number(values.repeats);
  const latencyRepeats = Number(values['latency-repeats']);
  const repeatsOf = (scenario: Scenario): number => (scenario.kind === 'load' && scenario.measuresLatency ? latencyRepeats : repeats);
  const measurements: Measurement[] = [];
  const startedAt = Date.now();
  // The raw broadcaster holds no document, so it has nothing to load or ingest; the cluster kinds run in some scenarios only.
  const kindsFor = (scenario: Scenario): ServerKind[] =>
    kinds.filter((kind) => isMeasuredIn(kind, scenario.id) && !(scenario.kind === 'document' && kind === 'raw-ws'));
  const backingServices = new BackingServices();
  const total = scenarios.reduce((sum, scenario) => sum + kindsFor(scenario).length * repeatsOf(scenario), 0);
  try {
    for (const scenario of scenarios) {
      for (let repeat = 1; repeat <= repeatsOf(scenario); repeat++) {
        for (const kind of kindsFor(scenario)) {
          const elapsed = Math.round((Date.now() - startedAt) / 1000);
          process.stderr.write(`[${measurements.length + 1}/${total}, ${elapsed} s] ${scenario.id} ${kind} (repeat ${repeat}) … `);
          const measurement = await measure(scenario, { kind, repeat, backingServices });
          measurements.push(measurement);
          process.stderr.write(`${describe(measurement)}\n`);
        }
      }
    }
  } finally {
    await backingServices.close();
  }
  let keystroke: KeystrokeResult | null = null;
  if (scenarioIds.includes('browser')) {
    process.stderr.write(`[browser, ${Math.round((Date.now() - startedAt) / 1000)} s] keystroke → remote render in Chromium … `);
    keystroke = await runKeystrokeBenchmark(Number(values.keys));
    process.stderr.write(`p50 ${keystroke.p50Ms} ms p95 ${keystroke.p95Ms} ms\n`);
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const results: BenchResults = {
    machine,
    startedAt: new Date(startedAt).toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt) / 1000),
    repeats,
    latencyRepeats,
    scenarios: scenarios.map(({ id, title }) => ({ id, title })),
    measurements,
    keystroke,
  };
  const stamp = new Date(startedAt).toISOString().replace(/[:.]/g, '-');
  await mkdir('bench/results', { recursive: true });
  const report = summaryTable(results);
  await writeFile(`bench/results/${stamp}.json`, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(`bench/results/${stamp}.md`, `${report}\n`);
  const charts = await writeCharts(results, 'bench/results', stamp);
  console.log(report);
  console.log(`results: bench/results/${stamp}.json, charts: ${charts.join(', ')} (${results.durationSeconds} s)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
