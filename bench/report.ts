/**
 * The benchmark's results file and its markdown: one table per scenario, and a
 * summary that puts Inkwell's numbers next to the peers' and the targets.
 */
import type { ColdLoadResult, IngestResult } from './document-scenarios';
import type { LoadResult } from './loadgen';
import { SERVER_KINDS, type ServerKind } from './servers';

/** One server in one scenario, one repeat. */
export interface Measurement {
  /** `S1`, `S2`, `S3/<clients>`, `S4`, `S5` or `S6`. */
  readonly scenario: string;
  readonly server: ServerKind;
  readonly repeat: number;
  readonly connections: number;
  /** Server CPU over the measured window (all threads), NaN where not measured. */
  readonly cpuPercent: number;
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
  const lines = [
    '| server | CPU % | × raw | text p50 ms | text p99 ms | × raw | lost | awareness p99 ms | × raw |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const server of SERVER_KINDS) {
    const rows = rowsOf(results, scenario, server);
    if (rows.length === 0) continue;
    const p99s = rows.map((m) => textP99(m) ?? NaN);
    const awareness = rows.map((m) => awarenessP99(m) ?? NaN);
    lines.push(
      `| ${server} | ${spread(rows.map(cpu))} | ${ratio(median(rows.map(cpu)), rawCpu)} | ${spread(rows.map((m) => m.load?.text.latency.p50 ?? NaN), 2)} | ` +
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
      `| ${server} | ${loads[0]!.restarted ? 'yes' : 'no (in memory)'} | ${loads.map((l) => `${l.first.receivedChars} / ${l.expectedChars}`).join(', ')} | ` +
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
      `| ${server} | ${ingests[0]!.isDurable ? 'on disk' : 'processed (not durable)'} | ${spread(ingests.map((i) => i.updatesPerSecond), 0)} | ` +
        `${spread(ingests.map((i) => i.load.ms), 1)} | ${ingests.map((i) => (i.load.isExact ? 'yes' : `no (${i.load.receivedChars} chars)`)).join(', ')} |`,
    );
  }
  return lines;
}

/** Inkwell against its targets, with each peer's figure for the same measure. */
function targetsTable(results: BenchResults): string[] {
  const peers = SERVER_KINDS.filter((kind) => kind !== 'raw-ws');
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

/** The whole markdown report. */
export function summaryTable(results: BenchResults): string {
  const lines = [
    `Machine: ${results.machine}. Run started ${results.startedAt}, took ${results.durationSeconds} s; ${results.repeats} repeats per server (${results.latencyRepeats} in S1, S2 and S5), interleaved; medians [min–max].`,
    '',
    '### Inkwell against the targets (medians)',
    '',
    ...targetsTable(results),
    '',
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
