/**
 * The benchmark's results file and its markdown: one table per scenario, and a
 * summary that puts Inkwell's numbers next to the peers' and the targets.
 */
import type { ColdLoadResult, IngestResult } from './document-scenarios';
import type { LoadResult } from './loadgen';
import { CLUSTER_KINDS, SERVER_KINDS, type ServerKind } from './servers';

/** One server in one scenario, one repeat. */
export interface Measurement {
  /** `S1`, `S2`, `S3/<clients>`, `S4`, `S5` or `S6`. */
  readonly scenario: string;
  readonly server: ServerKind;
  readonly repeat: number;
  readonly connections: number;
  /** Server CPU over the measured window (all threads, summed over its processes), NaN where not measured. */
  readonly cpuPercent: number;
  /** Seconds of the measured window (load scenarios). */
  readonly windowSeconds?: number;
  /**
   * CPU of the kind's Redis and PostgreSQL over the same window (with their forks
   * and backends; PostgreSQL is shared by the run, idle between measurements),
   * NaN for kinds without them. Not part of `cpuPercent`.
   */
  readonly redisCpuPercent?: number;
  readonly postgresCpuPercent?: number;
  readonly rssBytes: number;
  readonly rssPerConnectionBytes: number;
  readonly load?: LoadResult;
  readonly coldLoad?: ColdLoadResult;
  readonly ingest?: IngestResult;
}

/** The browser benchmark's summary (bench/keystroke-latency.ts). */
export interface KeystrokeResult {
  readonly keys: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** What `npm run bench` writes to bench/results/<stamp>.json. */
export interface BenchResults {
  readonly machine: string;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly repeats: number;
  /** Repeats of the latency scenarios (S1, S2, S5), whose p99 varies most between runs. */
  readonly latencyRepeats: number;
  readonly scenarios: readonly { readonly id: string; readonly title: string }[];
  readonly measurements: readonly Measurement[];
  readonly keystroke: KeystrokeResult | null;
}

/** Median of the finite values (results files store NaN as null). */
export function median(values: readonly (number | null | undefined)[]): number {
  const sorted = values.filter((value): value is number => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function spread(values: readonly number[], digits = 1): string {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return '—';
  const fmt = (value: number): string => value.toFixed(digits);
  if (finite.length === 1) return fmt(finite[0]!);
  return `${fmt(median(finite))} [${fmt(Math.min(...finite))}–${fmt(Math.max(...finite))}]`;
}

function ratio(value: number, base: number): string {
  return Number.isFinite(value / base) ? (value / base).toFixed(2) : '—';
}

const rowsOf = (results: BenchResults, scenario: string, server: ServerKind): Measurement[] =>
  results.measurements.filter((m) => m.scenario === scenario && m.server === server);

/** Median of `pick` over a server's repeats of a scenario. */
function medianOf(results: BenchResults, scenario: string, server: ServerKind, pick: (m: Measurement) => number | undefined): number {
  return median(rowsOf(results, scenario, server).map((m) => pick(m) ?? NaN));
}

const textP99 = (m: Measurement): number | undefined => m.load?.text.latency.p99;
const awarenessP99 = (m: Measurement): number | undefined => m.load?.awareness.latency.p99;
const cpu = (m: Measurement): number => m.cpuPercent;
const kbPerConnection = (m: Measurement): number => m.rssPerConnectionBytes / 1024;
const firstLoad = (m: Measurement): number | undefined => m.coldLoad?.first.ms;

function loadTable(results: BenchResults, scenario: string): string[] {
  const rawP99 = medianOf(results, scenario, 'raw-ws', textP99);
  const rawCpu = medianOf(results, scenario, 'raw-ws', cpu);
  const rawAwareness = medianOf(results, scenario, 'raw-ws', awarenessP99);
  // Only scenarios a kind on Redis ran in get the column of its Redis and PostgreSQL.
  const hasBacking = results.measurements.some((m) => m.scenario === scenario && Number.isFinite(m.redisCpuPercent));
  const lines = [
    `| server | CPU % | × raw |${hasBacking ? ' Redis / PostgreSQL CPU % |' : ''} text p50 ms | text p99 ms | × raw | lost | awareness p99 ms | × raw |`,
    `|---|---|---|${hasBacking ? '---|' : ''}---|---|---|---|---|---|`,
  ];
  for (const server of SERVER_KINDS) {
    const rows = rowsOf(results, scenario, server);
    if (rows.length === 0) continue;
    const p99s = rows.map((m) => textP99(m) ?? NaN);
    const awareness = rows.map((m) => awarenessP99(m) ?? NaN);
    const backing = hasBacking ? ` ${spread(rows.map((m) => m.redisCpuPercent ?? NaN))} / ${spread(rows.map((m) => m.postgresCpuPercent ?? NaN))} |` : '';
    lines.push(
      `| ${server} | ${spread(rows.map(cpu))} | ${ratio(median(rows.map(cpu)), rawCpu)} |${backing} ${spread(rows.map((m) => m.load?.text.latency.p50 ?? NaN), 2)} | ` +
        `${spread(p99s, 2)} | ${ratio(median(p99s), rawP99)} | ${rows.map((m) => m.load?.text.lost ?? '—').join(', ')} | ` +
        `${spread(awareness, 2)} | ${ratio(median(awareness), rawAwareness)} |`,
    );
  }
  return lines;
}

function idleTable(results: BenchResults, scenario: string): string[] {
  const lines = ['| server | connected (min) | RSS per connection KB | server RSS MB |', '|---|---|---|---|'];
  for (const server of SERVER_KINDS) {
    const rows = rowsOf(results, scenario, server);
    if (rows.length === 0) continue;
    const connected = Math.min(...rows.map((m) => m.load?.connected ?? 0));
    lines.push(`| ${server} | ${connected} of ${rows[0]!.connections} | ${spread(rows.map(kbPerConnection))} | ${spread(rows.map((m) => m.rssBytes / 2 ** 20), 0)} |`);
  }
  return lines;
}

// A cluster relay comes back to what Redis and PostgreSQL hold: say whether the log was folded into the snapshot row.
function restartedCell(loads: readonly ColdLoadResult[]): string {
  if (!loads[0]!.restarted) return 'no (in memory)';
  const stored = loads.flatMap((l) => (l.storedBeforeLoad ? [l.storedBeforeLoad] : []));
  if (stored.length === 0) return 'yes';
  return `yes; ${stored.map((s) => `log ${s.logEntries} entries, snapshot through ${s.snapshotThroughSeq} of ${s.lastSeq}`).join('; ')}`;
}

function coldLoadTable(results: BenchResults, scenario: string): string[] {
  const lines = [
    '| server | restarted | characters loaded / expected | first client ms | later clients ms (median) | exact |',
    '|---|---|---|---|---|---|',
  ];
  for (const server of SERVER_KINDS) {
    const rows = rowsOf(results, scenario, server).filter((m) => m.coldLoad);
    if (rows.length === 0) continue;
    const loads = rows.map((m) => m.coldLoad!);
    lines.push(
      `| ${server} | ${restartedCell(loads)} | ${loads.map((l) => `${l.first.receivedChars} / ${l.expectedChars}`).join(', ')} | ` +
        `${spread(loads.map((l) => l.first.ms), 1)} | ${spread(loads.map((l) => median(l.later.map((t) => t.ms))), 1)} | ` +
        `${loads.every((l) => l.first.isExact && l.later.every((t) => t.isExact)) ? 'yes' : 'no'} |`,
    );
  }
  return lines;
}

function ingestTable(results: BenchResults, scenario: string): string[] {
  const lines = ['| server | acknowledged | updates/s | reload after restart ms | exact after reload |', '|---|---|---|---|---|'];
  for (const server of SERVER_KINDS) {
    const rows = rowsOf(results, scenario, server).filter((m) => m.ingest);
    if (rows.length === 0) continue;
    const ingests = rows.map((m) => m.ingest!);
    lines.push(
      `| ${server} | ${ingests[0]!.isDurable ? (server.startsWith('inkwell-cluster') ? 'durable (Redis AOF, fsync always)' : 'on disk') : 'processed (not durable)'} | ${spread(ingests.map((i) => i.updatesPerSecond), 0)} | ` +
        `${spread(ingests.map((i) => i.load.ms), 1)} | ${ingests.map((i) => (i.load.isExact ? 'yes' : `no (${i.load.receivedChars} chars)`)).join(', ')} |`,
    );
  }
  return lines;
}

/** Inkwell against its targets, with each peer's figure for the same measure (the cluster kinds have a table of their own). */
function targetsTable(results: BenchResults): string[] {
  const peers = SERVER_KINDS.filter((kind) => kind !== 'raw-ws' && !(CLUSTER_KINDS as readonly ServerKind[]).includes(kind));
  const lines = [`| measure | ${peers.join(' | ')} | target for inkwell | met |`, `|---|${peers.map(() => '---|').join('')}---|---|`];
  const add = (measure: string, value: (server: ServerKind) => number, format: (v: number) => string, target: string, isMet: (v: number) => boolean): void => {
    const inkwell = value('inkwell');
    if (!Number.isFinite(inkwell)) return;
    lines.push(`| ${measure} | ${peers.map((p) => format(value(p))).join(' | ')} | ${target} | ${isMet(inkwell) ? 'yes' : 'no'} |`);
  };
  const times = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—');
  const overRaw = (scenario: string, pick: (m: Measurement) => number | undefined) => (server: ServerKind) =>
    medianOf(results, scenario, server, pick) / medianOf(results, scenario, 'raw-ws', pick);
  add('S1 server CPU × raw', overRaw('S1', cpu), times, '≤ 1.5×', (v) => v <= 1.5);
  add('S1 text p99 × raw', overRaw('S1', textP99), times, '≤ 2.0×, 0 lost', (v) => v <= 2 && rowsOf(results, 'S1', 'inkwell').every((m) => m.load?.text.lost === 0));
  add('S2 text p99 × raw', overRaw('S2', textP99), times, '≤ 1.3×', (v) => v <= 1.3);
  add('S5 awareness p99 × raw', overRaw('S5', awarenessP99), times, '≤ 1.5×', (v) => v <= 1.5);
  add('S5 server CPU × raw', overRaw('S5', cpu), times, '≤ 1.5×', (v) => v <= 1.5);
  for (const { id } of results.scenarios.filter((s) => s.id.startsWith('S3/'))) {
    const size = Number(id.slice(3));
    const held = (server: ServerKind): boolean => rowsOf(results, id, server).every((m) => m.load?.connected === size);
    add(
      `${id} KB per idle connection (raw: ${medianOf(results, id, 'raw-ws', kbPerConnection).toFixed(1)})`,
      (server) => medianOf(results, id, server, kbPerConnection),
      (v) => (Number.isFinite(v) ? v.toFixed(1) : '—'),
      `≤ 15 KB, all ${size} held`,
      (v) => v <= 15 && held('inkwell'),
    );
  }
  const complete = (server: ServerKind): boolean => rowsOf(results, 'S4', server).every((m) => m.coldLoad?.first.isExact);
  add(
    'S4 cold load, first client ms (incomplete: ✗)',
    (server) => medianOf(results, 'S4', server, firstLoad),
    (v) => (Number.isFinite(v) ? v.toFixed(1) : '✗'),
    '≤ 50 ms, complete',
    (v) => v <= 50 && complete('inkwell'),
  );
  add(
    'S6 ingest updates/s (inkwell: on disk; peers: processed)',
    (server) => medianOf(results, 'S6', server, (m) => m.ingest?.updatesPerSecond),
    (v) => (Number.isFinite(v) ? v.toFixed(0) : '—'),
    '≥ 10,000 on disk, exact reload',
    (v) => v >= 10_000 && rowsOf(results, 'S6', 'inkwell').every((m) => m.ingest?.load.isExact),
  );
  if (results.keystroke) {
    const p95 = results.keystroke.p95Ms;
    lines.push(`| browser keystroke → remote render p95 ms (p50 ${results.keystroke.p50Ms}) | ${p95} | ${peers.slice(1).map(() => '—').join(' | ')} | ≤ 30 ms | ${p95 <= 30 ? 'yes' : 'no'} |`);
  }
  return lines;
}

// CPU per delivered message (text updates, plus awareness in S5), in µs: the load is the same for
// every server, but a server that loses messages does less work, and two processes share it.
// PostgreSQL is left out: nothing on this path queries it (what it spends in the window is the
// relay's idle pool connections closing), and it is in the scenario tables.
function cpuUsPerDelivery(m: Measurement, options: { withRedis: boolean }): number {
  const delivered = (m.load?.text.received ?? 0) + (m.load?.awareness.received ?? 0);
  const redis = options.withRedis && Number.isFinite(m.redisCpuPercent) ? m.redisCpuPercent! : 0;
  return (((m.cpuPercent + redis) / 100) * (m.windowSeconds ?? NaN) * 1e6) / delivered;
}

/**
 * Cluster mode (and Hocuspocus on Redis) against the embedded relay measured in
 * the same run: CPU per delivered message as a ratio to the embedded relay's,
 * latency as a ratio to the raw broadcaster's, and the durable ingest target.
 */
function clusterTable(results: BenchResults): string[] {
  const candidates: readonly ServerKind[] = ['inkwell', ...CLUSTER_KINDS];
  const servers = candidates.filter((server) => results.measurements.some((m) => m.server === server));
  if (!servers.some((server) => (CLUSTER_KINDS as readonly ServerKind[]).includes(server))) return [];
  const lines = [
    '### Cluster mode against the embedded relay (medians)',
    '',
    `| measure | ${servers.join(' | ')} | target | met |`,
    `|---|${servers.map(() => '---|').join('')}---|---|`,
  ];
  const add = (measure: string, cell: (server: ServerKind) => string, target?: { text: string; isMet: () => boolean }): void => {
    const cells = servers.map(cell);
    if (cells.every((c) => c === '—')) return;
    lines.push(`| ${measure} | ${cells.join(' | ')} | ${target?.text ?? '—'} | ${target ? (target.isMet() ? 'yes' : 'no') : '—'} |`);
  };
  const perDelivery = (scenario: string, withRedis: boolean) => (server: ServerKind): string => {
    const value = medianOf(results, scenario, server, (m) => cpuUsPerDelivery(m, { withRedis }));
    const embedded = medianOf(results, scenario, 'inkwell', (m) => cpuUsPerDelivery(m, { withRedis: false }));
    return Number.isFinite(value) ? `${value.toFixed(1)} µs (${ratio(value, embedded)}×)` : '—';
  };
  const overRaw = (scenario: string, kind: 'text' | 'awareness') => (server: ServerKind): string => {
    const pick = kind === 'text' ? textP99 : awarenessP99;
    const value = medianOf(results, scenario, server, pick);
    if (!Number.isFinite(value)) return '—';
    const lost = rowsOf(results, scenario, server).reduce((sum, m) => sum + (m.load?.[kind].lost ?? 0), 0);
    return `${value.toFixed(2)} ms (${ratio(value, medianOf(results, scenario, 'raw-ws', pick))}×)${lost > 0 ? `, ${lost} lost` : ''}`;
  };
  for (const scenario of ['S1', 'S5']) {
    const what = scenario === 'S1' ? 'update' : 'message';
    add(`${scenario} server CPU per delivered ${what}, all its processes (× inkwell)`, perDelivery(scenario, false));
    add(`${scenario} server + Redis CPU per delivered ${what} (× inkwell)`, perDelivery(scenario, true));
    add(`${scenario} text p99 (× raw)`, overRaw(scenario, 'text'));
    if (scenario === 'S5') add('S5 awareness p99 (× raw)', overRaw(scenario, 'awareness'));
  }
  add('S4 cold load, first client ms (cluster: from the PostgreSQL snapshot)', (server) => {
    const value = medianOf(results, 'S4', server, firstLoad);
    return Number.isFinite(value) ? value.toFixed(1) : '—';
  });
  const ingest = (server: ServerKind): number => medianOf(results, 'S6', server, (m) => m.ingest?.updatesPerSecond);
  add('S6 ingest updates/s acknowledged durable', (server) => (Number.isFinite(ingest(server)) ? ingest(server).toFixed(0) : '—'), {
    text: 'inkwell-cluster-1 ≥ 10,000, exact reload',
    isMet: () => ingest('inkwell-cluster-1') >= 10_000 && rowsOf(results, 'S6', 'inkwell-cluster-1').every((m) => m.ingest?.load.isExact),
  });
  lines.push('');
  return lines;
}

/** The whole markdown report. */
export function summaryTable(results: BenchResults): string {
  const lines = [
    `Machine: ${results.machine}. Run started ${results.startedAt}, took ${results.durationSeconds} s; ${results.repeats} repeats per server (${results.latencyRepeats} in S1, S2 and S5), interleaved; medians [min–max].`,
    '',
    '### Inkwell against the targets (medians)',
    '',
    ...targetsTable(results),
    '',
    ...clusterTable(results),
  ];
  const ordered = [...results.scenarios].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  for (const { id, title } of ordered) {
    lines.push(`### ${id}: ${title}`, '');
    if (id.startsWith('S3/')) lines.push(...idleTable(results, id));
    else if (id === 'S4') lines.push(...coldLoadTable(results, id));
    else if (id === 'S6') lines.push(...ingestTable(results, id));
    else lines.push(...loadTable(results, id));
    lines.push('');
  }
  if (results.keystroke) {
    const k = results.keystroke;
    lines.push('### Browser: keystroke in one Chromium page → rendered in another', '', '| keys | p50 ms | p95 ms | p99 ms | max ms |', '|---|---|---|---|---|');
    lines.push(`| ${k.keys} | ${k.p50Ms} | ${k.p95Ms} | ${k.p99Ms} | ${k.maxMs} |`, '');
  }
  return lines.join('\n');
}
