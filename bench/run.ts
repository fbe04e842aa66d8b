/**
 * `npm run bench`: every server in one run, interleaved (A B C D A B C D …), each
 * started and stopped here on 127.0.0.1, with the load generator in its own
 * process and server CPU and RSS read from /proc.
 *
 *   npm run bench -- [--scenarios S1,S2,S3,S5] [--servers inkwell,raw-ws,…] [--repeats 2] [--duration 20] [--idle 2000]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import type { LoadResult, LoadSpec } from './loadgen';
import { SERVER_KINDS, startServer, type ServerKind, type ServerUnderTest } from './servers';

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'S1,S2,S3,S5' },
    servers: { type: 'string', default: SERVER_KINDS.join(',') },
    repeats: { type: 'string', default: '2' },
    duration: { type: 'string', default: '20' },
    idle: { type: 'string', default: '2000' },
  },
});

interface Scenario {
  readonly id: string;
  readonly title: string;
  spec(server: ServerUnderTest): LoadSpec;
}

const DURATION_S = Number(values.duration);
const IDLE_CLIENTS = Number(values.idle);

function rooms(server: ServerUnderTest, count: number, prefix: string): Pick<LoadSpec, 'roomUrls' | 'roomNames' | 'protocol'> {
  const roomNames = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  return { protocol: server.protocol, roomNames, roomUrls: roomNames.map((name) => server.roomUrl(name)) };
}

const SCENARIOS: Record<string, Scenario> = {
  S1: {
    id: 'S1',
    title: 'fan-out: 20 rooms × 10 clients, 5 text updates/s each',
    spec: (server) => ({ ...rooms(server, 20, 's1'), clientsPerRoom: 10, updatesPerSecond: 5, awarenessPerSecond: 0, durationSeconds: DURATION_S }),
  },
  S2: {
    id: 'S2',
    title: 'hot room: 1 room × 50 clients, 2 updates/s each',
    spec: (server) => ({ ...rooms(server, 1, 's2'), clientsPerRoom: 50, updatesPerSecond: 2, awarenessPerSecond: 0, durationSeconds: DURATION_S }),
  },
  S3: {
    id: 'S3',
    title: `idle: ${IDLE_CLIENTS} clients, each in its own room`,
    spec: (server) => ({ ...rooms(server, IDLE_CLIENTS, 's3'), clientsPerRoom: 1, updatesPerSecond: 0, awarenessPerSecond: 0, durationSeconds: 3, isIdle: true }),
  },
  S5: {
    id: 'S5',
    title: 'awareness: 20 rooms × 10 clients, cursor moves 5/s + 1 text update/s each',
    spec: (server) => ({ ...rooms(server, 20, 's5'), clientsPerRoom: 10, updatesPerSecond: 1, awarenessPerSecond: 5, durationSeconds: DURATION_S }),
  },
};

/** CPU seconds used by a process so far (utime + stime). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
}

interface Measurement {
  readonly scenario: string;
  readonly server: ServerKind;
  readonly repeat: number;
  readonly cpuPercent: number;
  readonly rssBytes: number;
  readonly rssPerConnectionBytes: number;
  readonly load: LoadResult;
}

async function measure(scenario: Scenario, kind: ServerKind, repeat: number): Promise<Measurement> {
  const dataDir = await mkdtemp(join(tmpdir(), `inkwell-bench-${kind}-`));
  const server = await startServer(kind, dataDir);
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const baselineRss = rssBytes(server.pid);
    const spec = scenario.spec(server);
    let cpuAtStart = 0;
    let wallAtStart = 0;
    let cpuPercent = NaN;
    let rssAtEnd = NaN;
    // A file, not argv: thousands of room URLs exceed the kernel's argument limit.
    const specFile = join(dataDir, 'load-spec.json');
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
            cpuAtStart = cpuSeconds(server.pid);
            wallAtStart = performance.now();
          } else if (line === 'END') {
            cpuPercent = ((cpuSeconds(server.pid) - cpuAtStart) / ((performance.now() - wallAtStart) / 1000)) * 100;
            rssAtEnd = rssBytes(server.pid);
          } else if (line.startsWith('{')) {
            resolve(JSON.parse(line) as LoadResult);
          }
        }
      });
      child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`loadgen exited with ${code}`))));
    });
    const connections = spec.roomUrls.length * spec.clientsPerRoom;
    return {
      scenario: scenario.id,
      server: kind,
      repeat,
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      rssBytes: rssAtEnd,
      rssPerConnectionBytes: Math.round((rssAtEnd - baselineRss) / connections),
      load: result,
    };
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function spread(values: number[], digits = 1): string {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return 'n/a';
  const fmt = (value: number): string => value.toFixed(digits);
  return `${fmt(median(finite))} [${fmt(Math.min(...finite))}–${fmt(Math.max(...finite))}]`;
}

function markdownTable(measurements: Measurement[], scenarioIds: string[], kinds: ServerKind[]): string {
  const lines: string[] = [];
  for (const id of scenarioIds) {
    const scenario = SCENARIOS[id]!;
    lines.push(`### ${id} — ${scenario.title}`, '');
    const raw = measurements.filter((m) => m.scenario === id && m.server === 'raw-ws');
    const rawP99 = median(raw.map((m) => m.load.text.latency.p99));
    const rawCpu = median(raw.map((m) => m.cpuPercent));
    const rawAwarenessP99 = median(raw.map((m) => m.load.awareness.latency.p99));
    if (id === 'S3') {
      lines.push('| server | connected | RSS per connection (KB) | server RSS (MB) |', '|---|---|---|---|');
    } else {
      lines.push(
        '| server | CPU % | × raw | text p50 ms | text p99 ms | × raw | lost | awareness p99 ms | × raw |',
        '|---|---|---|---|---|---|---|---|---|',
      );
    }
    for (const kind of kinds) {
      const rows = measurements.filter((m) => m.scenario === id && m.server === kind);
      if (rows.length === 0) continue;
      if (id === 'S3') {
        lines.push(
          `| ${kind} | ${Math.min(...rows.map((m) => m.load.connected))} | ${spread(rows.map((m) => m.rssPerConnectionBytes / 1024))} | ${spread(rows.map((m) => m.rssBytes / 1048576), 0)} |`,
        );
        continue;
      }
      const ratio = (value: number, base: number): string => (Number.isFinite(value / base) ? (value / base).toFixed(2) : '—');
      const cpu = rows.map((m) => m.cpuPercent);
      const p99 = rows.map((m) => m.load.text.latency.p99);
      const awarenessP99 = rows.map((m) => m.load.awareness.latency.p99);
      lines.push(
        `| ${kind} | ${spread(cpu)} | ${ratio(median(cpu), rawCpu)} | ${spread(rows.map((m) => m.load.text.latency.p50), 2)} | ${spread(p99, 2)} | ${ratio(median(p99), rawP99)} | ${rows.map((m) => m.load.text.lost).join(', ')} | ${spread(awarenessP99, 2).replace('n/a', '—')} | ${ratio(median(awarenessP99), rawAwarenessP99)} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const scenarioIds = values.scenarios.split(',').filter((id) => SCENARIOS[id]);
  const kinds = values.servers.split(',').filter((kind): kind is ServerKind => (SERVER_KINDS as readonly string[]).includes(kind));
  const repeats = Number(values.repeats);
  const measurements: Measurement[] = [];
  const startedAt = Date.now();
  const total = scenarioIds.length * repeats * kinds.length;
  for (const id of scenarioIds) {
    for (let repeat = 1; repeat <= repeats; repeat++) {
      for (const kind of kinds) {
        const done = measurements.length + 1;
        process.stderr.write(`[${done}/${total}] ${id} ${kind} (repeat ${repeat}) … `);
        const measurement = await measure(SCENARIOS[id]!, kind, repeat);
        measurements.push(measurement);
        process.stderr.write(
          `cpu ${measurement.cpuPercent}% p99 ${measurement.load.text.latency.p99} ms lost ${measurement.load.text.lost} ` +
            `connected ${measurement.load.connected} rss/conn ${(measurement.rssPerConnectionBytes / 1024).toFixed(1)} KB\n`,
        );
      }
    }
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const table = markdownTable(measurements, scenarioIds, kinds);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await mkdir('bench/results', { recursive: true });
  await writeFile(`bench/results/${stamp}.json`, `${JSON.stringify({ machine, startedAt: new Date(startedAt).toISOString(), repeats, measurements }, null, 2)}\n`);
  await writeFile(`bench/results/${stamp}.md`, `Machine: ${machine}\n\n${table}\n`);
  console.log(`Machine: ${machine}\n\n${table}`);
  console.log(`results: bench/results/${stamp}.json (${Math.round((Date.now() - startedAt) / 1000)} s)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
