/**
 * SVG charts of a `npm run bench` results file. The specs are Vega-Lite; Vega renders
 * them headless with the 'none' renderer, so neither a browser nor the native `canvas`
 * package is needed (without it, Vega estimates label widths instead of measuring them).
 *
 *   tsx bench/charts.ts bench/results/<stamp>.json
 *
 * writes <stamp>-latency.svg, <stamp>-memory.svg and, when S4 ran, <stamp>-cold-load.svg
 * next to the JSON file.
 */
import { realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as vega from 'vega';
import { compile, type Config, type TopLevelSpec } from 'vega-lite';
import { z } from 'zod';

import { median } from './report';

/** The idle-connection memory goal that the S3 chart draws a rule at. */
export const MEMORY_TARGET_KB = 15;
/** The first-client cold-load goal that the S4 chart draws a rule at. */
export const COLD_LOAD_TARGET_MS = 50;

/** A latency summary as it comes back from JSON: NaN was written as null. */
export interface LatencyPercentiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** One client's load of the S4 document; `ms` is null (NaN in the run) when it never completed. */
export interface LoadTiming {
  readonly ms: number | null;
  readonly receivedChars: number;
  readonly isExact: boolean;
}

/** S4's cold load on one server, as bench/document-scenarios.ts reports it. */
export interface ColdLoadSummary {
  readonly expectedChars: number;
  /** Whether the server was restarted before the load (only the persisting ones are). */
  readonly restarted?: boolean;
  readonly first: LoadTiming;
}

/**
 * The part of one measurement that the charts read. Scenario and server are plain strings,
 * so bench/report.ts's measurement type and older results files both fit without casts.
 */
export interface BenchMeasurement {
  /** `S1`, `S2`, `S3` or `S3/<clients>`, `S4`, `S5`, `S6`. */
  readonly scenario: string;
  readonly server: string;
  readonly repeat: number;
  readonly rssPerConnectionBytes?: number | null;
  /** Absent for the document-level scenarios (S4, S6). */
  readonly load?: { readonly connected: number; readonly text: { readonly latency: LatencyPercentiles } };
  readonly coldLoad?: ColdLoadSummary;
}

/** A results file written by bench/run.ts, reduced to what the charts read. */
export interface BenchResults {
  readonly machine: string;
  readonly startedAt: string;
  readonly repeats: number;
  /** Repeats of the latency scenarios (S1, S2, S5); files from before it used `repeats` for all. */
  readonly latencyRepeats?: number;
  /** Scenario titles, used as chart headings; results files from before S4 lack them. */
  readonly scenarios?: readonly { readonly id: string; readonly title: string }[];
  readonly measurements: readonly BenchMeasurement[];
}

const nullableNumber = z.number().nullable();

// Checked against the interfaces above, so the file parser and the types cannot drift apart.
const benchResultsSchema = z.object({
  machine: z.string(),
  startedAt: z.string(),
  repeats: z.number(),
  latencyRepeats: z.number().optional(),
  scenarios: z.array(z.object({ id: z.string(), title: z.string() })).optional(),
  measurements: z.array(
    z.object({
      scenario: z.string(),
      server: z.string(),
      repeat: z.number(),
      rssPerConnectionBytes: nullableNumber.optional(),
      load: z
        .object({
          connected: z.number(),
          text: z.object({ latency: z.object({ p50: nullableNumber, p95: nullableNumber, p99: nullableNumber }) }),
        })
        .optional(),
      coldLoad: z
        .object({
          expectedChars: z.number(),
          restarted: z.boolean().optional(),
          first: z.object({ ms: nullableNumber, receivedChars: z.number(), isExact: z.boolean() }),
        })
        .optional(),
    }),
  ),
}) satisfies z.ZodType<BenchResults>;

/** The scenarios whose text latency is charted, in display order. */
const LATENCY_SCENARIOS = ['S1', 'S2', 'S5'] as const;
/** Headings for results files written before run.ts recorded scenario titles. */
const FALLBACK_TITLES: Readonly<Record<string, string>> = { S1: 'fan-out', S2: 'hot room', S4: 'cold load', S5: 'awareness' };
const PERCENTILES = ['p50', 'p95', 'p99'] as const;

/** One layer of a layered chart, taken from the public spec type (vega-lite exports no name for it). */
type Layer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

const COLOR = { good: '#4c78a8', over: '#e45756', p50: '#9ecae1', p95: '#4292c6', p99: '#08306b', rule: '#222222', label: '#333333' } as const;
const BAR_WIDTH_PX = 560;
const BAND_STEP_PX = 30;
/** One percentile's bar in the latency chart; a server's band holds three. */
const LATENCY_BAR_PX = 13;

const CONFIG = {
  font: 'sans-serif',
  background: 'white',
  padding: 12,
  title: { anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555555', offset: 12 },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 11 },
  header: { labelFontSize: 12, labelFontWeight: 'bold', labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' },
  view: { stroke: null },
} satisfies Config;

// Inkwell is the server under study, so its axis label is bold in every chart.
const SERVER_AXIS = {
  title: 'server',
  labelFontWeight: { condition: { test: "datum.value === 'inkwell'", value: 'bold' }, value: 'normal' },
} as const;


/** Servers in the order run.ts interleaved them, which is the order they first appear. */
function serverOrder(measurements: readonly BenchMeasurement[]): string[] {
  return [...new Set(measurements.map((m) => m.server))];
}

/** The server band axis, in run order. */
function serverY(results: BenchResults) {
  return { field: 'server', type: 'nominal' as const, sort: serverOrder(results.measurements), axis: SERVER_AXIS };
}

function groupByServer(measurements: readonly BenchMeasurement[], scenario: string): Map<string, BenchMeasurement[]> {
  const groups = new Map<string, BenchMeasurement[]>();
  for (const m of measurements) {
    if (m.scenario !== scenario) continue;
    groups.set(m.server, [...(groups.get(m.server) ?? []), m]);
  }
  return groups;
}

function headingOf(results: BenchResults, id: string, fallback = FALLBACK_TITLES[id]): string {
  const title = results.scenarios?.find((scenario) => scenario.id === id)?.title ?? fallback;
  return title ? `${id}: ${title}` : id;
}

function medianNote(repeats: number): string {
  return repeats === 1 ? 'one repeat' : `median over ${repeats} repeats`;
}

function subtitleOf(results: BenchResults, detail: string): string[] {
  return [detail, `${results.machine} · run started ${results.startedAt}`];
}

/** Position of a target chart's bars: value along x, one band per server. */
function barPosition(results: BenchResults, axisTitle: string) {
  return { x: { field: 'value', type: 'quantitative' as const, title: axisTitle, scale: { nice: true } }, y: serverY(results) };
}

/** Each bar's value printed just past its end; `position` when the parent spec sets none. */
function valueLabel(options: { readonly field: string; readonly format?: string; readonly position?: ReturnType<typeof barPosition> }): Layer {
  const { field, format, position } = options;
  return {
    mark: { type: 'text', align: 'left', baseline: 'middle', dx: 3, fontSize: 10, color: COLOR.label },
    encoding: { ...position, text: format ? { field, type: 'quantitative', format } : { field } },
  };
}

/**
 * A dashed vertical line at a target, labelled above the plot. The aggregate leaves one row
 * per panel, so the line and its label are drawn once rather than once per bar.
 */
function targetRule(value: number, label: string): Layer[] {
  const onePerPanel = [{ aggregate: [{ op: 'count' as const, as: 'bars' }], groupby: ['heading'] }];
  return [
    {
      transform: onePerPanel,
      mark: { type: 'rule', color: COLOR.rule, strokeDash: [5, 3], strokeWidth: 1.5 },
      encoding: { x: { datum: value } },
    },
    {
      transform: onePerPanel,
      mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 4, y: -3, fontSize: 11, fontWeight: 'bold', color: COLOR.rule },
      encoding: { x: { datum: value }, text: { value: label } },
    },
  ];
}

/** Horizontal bars coloured by whether they meet a target, one panel per scenario heading. */
function targetBarsSpec(options: {
  readonly results: BenchResults;
  readonly title: string;
  readonly detail: string;
  readonly values: readonly { readonly heading: string; readonly server: string; readonly value: number; readonly status: string }[];
  readonly headings: readonly string[];
  readonly axisTitle: string;
  readonly statuses: readonly [good: string, bad: string];
  readonly label: { readonly field: string; readonly format?: string };
  readonly target: { readonly value: number; readonly label: string };
}): TopLevelSpec {
  const position = barPosition(options.results, options.axisTitle);
  return {
    title: { text: options.title, subtitle: subtitleOf(options.results, options.detail) },
    data: { values: [...options.values] },
    facet: { row: { field: 'heading', sort: [...options.headings], title: null } },
    spec: {
      width: BAR_WIDTH_PX,
      height: { step: BAND_STEP_PX },
      // Bars and labels carry their own position: inherited, it would split the target rule
      // into one short rule per band and filter out its aggregated row, which has no `value`.
      layer: [
        {
          mark: { type: 'bar', height: { band: 0.7 } },
          encoding: {
            ...position,
            color: {
              field: 'status',
              type: 'nominal',
              scale: { domain: [...options.statuses], range: [COLOR.good, COLOR.over] },
              legend: { title: null, orient: 'top', labelLimit: 400 },
            },
          },
        },
        valueLabel({ ...options.label, position }),
        ...targetRule(options.target.value, options.target.label),
      ],
    },
    config: CONFIG,
  };
}

function latencySpec(results: BenchResults): TopLevelSpec | null {
  const scenarios = LATENCY_SCENARIOS.filter((id) => results.measurements.some((m) => m.scenario === id && m.load));
  const values = scenarios.flatMap((id) =>
    [...groupByServer(results.measurements, id)].flatMap(([server, rows]) =>
      PERCENTILES.map((percentile) => ({
        heading: headingOf(results, id),
        server,
        percentile,
        ms: median(rows.map((m) => m.load?.text.latency[percentile])),
      })).filter((row) => Number.isFinite(row.ms)),
    ),
  );
  if (values.length === 0) return null;
  return {
    title: {
      text: 'Text-update latency, send → receive',
      subtitle: subtitleOf(results, `p50 / p95 / p99 in ms, ${medianNote(results.latencyRepeats ?? results.repeats)}; each scenario has its own scale.`),
    },
    data: { values },
    facet: { row: { field: 'heading', sort: scenarios.map((id) => headingOf(results, id)), title: null } },
    spec: {
      width: BAR_WIDTH_PX,
      height: { step: 3 * LATENCY_BAR_PX, for: 'position' },
      encoding: {
        y: serverY(results),
        yOffset: { field: 'percentile', sort: [...PERCENTILES] },
        x: { field: 'ms', type: 'quantitative', title: 'latency (ms)', scale: { nice: true } },
      },
      layer: [
        {
          mark: { type: 'bar', height: { band: 0.9 } },
          encoding: {
            color: {
              field: 'percentile',
              type: 'nominal',
              scale: { domain: [...PERCENTILES], range: [COLOR.p50, COLOR.p95, COLOR.p99] },
              legend: { title: 'percentile', orient: 'top', direction: 'horizontal' },
            },
          },
        },
        valueLabel({ field: 'ms', format: '.2f' }),
      ],
    },
    // The scenarios differ by an order of magnitude; one shared axis would flatten S1 and S2.
    resolve: { scale: { x: 'independent' } },
    config: CONFIG,
  };
}

function memorySpec(results: BenchResults): TopLevelSpec | null {
  // `S3/<clients>` since run.ts measures several idle sizes; plain `S3` in older files.
  const ids = [...new Set(results.measurements.map((m) => m.scenario))].filter((id) => /^S3(\/|$)/.test(id));
  const good = `≤ ${MEMORY_TARGET_KB} KB`;
  const headings = ids.map((id) => {
    const connected = Math.min(...results.measurements.filter((m) => m.scenario === id).map((m) => m.load?.connected ?? Infinity));
    return headingOf(results, id, Number.isFinite(connected) ? `idle: ${connected} clients, each in its own room` : undefined);
  });
  const values = ids.flatMap((id, index) =>
    [...groupByServer(results.measurements, id)].flatMap(([server, rows]) => {
      const kb = median(rows.map((m) => m.rssPerConnectionBytes)) / 1024;
      if (!Number.isFinite(kb)) return [];
      return [{ heading: headings[index]!, server, value: kb, status: kb <= MEMORY_TARGET_KB ? good : `over ${MEMORY_TARGET_KB} KB` }];
    }),
  );
  if (values.length === 0) return null;
  return targetBarsSpec({
    results,
    title: 'Server RSS per idle connection',
    detail: `(RSS at the end − RSS before connecting) ÷ connections, in KB; ${medianNote(results.repeats)}.`,
    values,
    headings,
    axisTitle: 'RSS per connection (KB)',
    statuses: [good, `over ${MEMORY_TARGET_KB} KB`],
    label: { field: 'value', format: '.1f' },
    target: { value: MEMORY_TARGET_KB, label: `target ${MEMORY_TARGET_KB} KB` },
  });
}

function coldLoadSpec(results: BenchResults): TopLevelSpec | null {
  const heading = headingOf(results, 'S4');
  const values = [...groupByServer(results.measurements, 'S4')].flatMap(([server, rows]) => {
    const loads = rows.flatMap((m) => (m.coldLoad ? [m.coldLoad] : []));
    if (loads.length === 0) return [];
    const ms = median(loads.map((load) => load.first.ms));
    // One incomplete repeat marks the server: a fast load of part of a document is no result.
    const incomplete = loads.find((load) => !load.first.isExact);
    const notes = [
      Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : 'never completed',
      incomplete ? `incomplete: ${incomplete.first.receivedChars} of ${incomplete.expectedChars} chars` : '',
      loads.some((load) => load.restarted === false) ? 'not restarted (in memory)' : '',
    ];
    return [
      {
        heading,
        server,
        value: Number.isFinite(ms) ? ms : 0,
        status: incomplete ? 'incomplete document' : 'complete document',
        note: notes.filter(Boolean).join(' · '),
      },
    ];
  });
  if (values.length === 0) return null;
  return targetBarsSpec({
    results,
    title: 'Cold load: first client, connect → whole document',
    detail: `In ms, ${medianNote(results.repeats)}; red bars did not receive the whole document.`,
    values,
    headings: [heading],
    axisTitle: 'first-client cold load (ms)',
    statuses: ['complete document', 'incomplete document'],
    label: { field: 'note' },
    target: { value: COLD_LOAD_TARGET_MS, label: `target ${COLD_LOAD_TARGET_MS} ms` },
  });
}

async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Writes `<stamp>-latency.svg`, `<stamp>-memory.svg` and `<stamp>-cold-load.svg` into
 * `outDir`, each only when its scenarios are in the results, and returns the paths written.
 */
export async function writeCharts(results: BenchResults, outDir: string, stamp: string): Promise<string[]> {
  const charts = [
    { name: 'latency', spec: latencySpec(results) },
    { name: 'memory', spec: memorySpec(results) },
    { name: 'cold-load', spec: coldLoadSpec(results) },
  ];
  const written: string[] = [];
  for (const { name, spec } of charts) {
    if (!spec) continue;
    const path = join(outDir, `${stamp}-${name}.svg`);
    await writeFile(path, await renderSvg(spec));
    written.push(path);
  }
  return written;
}

/** `tsx bench/charts.ts <results.json>`: charts an existing results file, beside it. */
export async function main(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  const [file] = args;
  if (!file) throw new Error('usage: tsx bench/charts.ts <results.json>');
  const results = benchResultsSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  for (const path of await writeCharts(results, dirname(file), basename(file, '.json'))) console.log(path);
}

// Real paths on both sides: argv[1] keeps any symlink in the path, import.meta.url does not.
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  return entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href;
}

if (isEntryPoint()) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
