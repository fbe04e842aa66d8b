/**
 * Flood isolation: while one attacker floods the relay (sync step 1 in a loop on
 * a large document, awareness with 50,000 fresh client ids per message,
 * query-awareness in a loop, tiny updates in a loop), how fast do edits still
 * travel in another room, and how large does the relay grow? A probe writer
 * sets a timestamp every 20 ms in its own room and a probe reader measures each
 * arrival; the relay's RSS and CPU are read from /proc. The attacker runs in a
 * child process and reconnects whenever it is cut off; five bystanders sit in
 * the attacked room, in a process of their own.
 *
 * The attacker stands for another machine: with `taskset` (util-linux) the
 * relay and the probe share CPU 0, the attacker and the bystanders CPU 1, so the
 * attacker's own work (building and parsing floods) does not slow the relay's
 * core. Without taskset everything shares both cores, and the figures say so.
 *
 *   npm run bench:flood -- [--seconds 10] [--repeats 3] [--attacks step1,…] [--relay-dir <checkout>] [--secret-encoding base64url|utf8] [--label name]
 *
 * `--relay-dir` measures another checkout's compiled relay (its dist/server/main.js), e.g. an
 * older commit for comparison; relays before the base64url COLLAB_SECRET take `utf8`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

import { openLevelStore } from '../collab-server/storage/leveldb';
import { parseDocId } from '../lib/ids';
import { signToken } from '../lib/tokens.server';
import { serverNodeFlags } from '../scripts/server-node-flags';
import { appendedText } from '../tests/helpers/documents';
import { summarize, type LatencyStats } from './latency-stats';
import { webSocketFrom } from './forwarded-socket';
import { cpuSeconds, rssBytes } from './proc-stats';
import { median } from './report';
import { freePort } from './servers';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'relay-dir': { type: 'string', default: '.' },
    'secret-encoding': { type: 'string', default: 'base64url' },
    label: { type: 'string', default: 'inkwell' },
    attacks: { type: 'string', default: 'step1,awareness-ids,query,frames' },
    repeats: { type: 'string', default: '3' },
  },
});
const SECONDS = Number(values.seconds);
const REPEATS = Number(values.repeats);
const RELAY_DIR = resolve(values['relay-dir']);
const SECRET = 'zJhfwgL4koM-SORpuEIEtoJKnptEzCxA95FNM6B6g6A';
const KEY = new Uint8Array(Buffer.from(SECRET, values['secret-encoding'] === 'utf8' ? 'utf8' : 'base64url'));
const PROBE_INTERVAL_MS = 20;
const ATTACKS = ['step1', 'awareness-ids', 'query', 'frames'] as const;
/** Whether processes can be pinned to cores (util-linux's taskset). */
const CAN_PIN = spawnSync('taskset', ['-cp', '0', String(process.pid)]).status === 0;

/** `command args…`, pinned to `cpu` when pinning works. */
function pinned(cpu: 0 | 1, command: string, args: readonly string[]): [string, string[]] {
  return CAN_PIN ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, [...args]];
}
/** A document of this many characters answers every sync step 1 of the step1 attack. */
const LARGE_DOC_CHARS = 8_000_000;

interface Phase {
  readonly name: string;
  readonly probe: LatencyStats;
  readonly lostProbes: number;
  readonly relayRssPeakMb: number;
  readonly relayRssAfterMb: number;
  readonly relayCpuPercent: number;
  readonly attacker: unknown;
}

function roomUrl(port: number, room: string): string {
  const docId = parseDocId(room);
  if (!docId) throw new Error(`bad room ${room}`);
  return `ws://127.0.0.1:${port}/${room}?token=${signToken({ key: KEY, docId, role: 'editor', issuedAt: Date.now() })}`;
}

/** A stock client in `room`, counted by the relay as the client at `address`. */
function connect(port: number, room: string, address: string): WebsocketProvider {
  const url = roomUrl(port, room);
  const [base, query] = [url.slice(0, url.lastIndexOf('/')), new URLSearchParams(url.split('?')[1])];
  return new WebsocketProvider(base, room, new Y.Doc(), {
    WebSocketPolyfill: webSocketFrom(address),
    params: Object.fromEntries(query),
    disableBc: true,
  });
}

function synced(provider: WebsocketProvider): Promise<void> {
  return new Promise((resolveSync) => (provider.synced ? resolveSync() : provider.once('sync', () => resolveSync())));
}

async function startRelay(dataDir: string, port: number): Promise<ChildProcess> {
  // FLOOD_RELAY_FLAGS: extra Node flags for the relay, e.g. --cpu-prof to see where a flood's time goes.
  const extraFlags = (process.env.FLOOD_RELAY_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(...pinned(0, process.execPath, [...serverNodeFlags(), ...extraFlags, join(RELAY_DIR, 'dist/server/main.js')]), {
    cwd: RELAY_DIR,
    env: { ...process.env, COLLAB_PORT: String(port), COLLAB_DATA_DIR: dataDir, COLLAB_SECRET: SECRET, COLLAB_TRUSTED_PROXIES: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolveReady, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) resolveReady();
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}: ${output.slice(-400)}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

/** Runs the probe for `seconds` while `during` runs; returns the probe's latencies and the relay's use. */
async function measurePhase(name: string, relay: ChildProcess, probe: { writer: WebsocketProvider; reader: WebsocketProvider }, during: () => Promise<unknown>): Promise<Phase> {
  const pid = relay.pid!;
  const latencies: number[] = [];
  let sent = 0;
  const onChange = (): void => {
    const at = probe.reader.doc.getMap('probe').get('t');
    if (typeof at === 'number') latencies.push(performance.timeOrigin + performance.now() - at);
  };
  probe.reader.doc.getMap('probe').observe(onChange);
  const writerTimer = setInterval(() => {
    probe.writer.doc.getMap('probe').set('t', performance.timeOrigin + performance.now());
    sent += 1;
  }, PROBE_INTERVAL_MS);
  let rssPeak = rssBytes(pid);
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(pid))), 100);
  const cpuAtStart = cpuSeconds(pid);
  const startedAt = performance.now();
  const attacker = await during();
  const cpuPercent = ((cpuSeconds(pid) - cpuAtStart) / ((performance.now() - startedAt) / 1000)) * 100;
  clearInterval(writerTimer);
  // The last probes in flight get a moment to arrive before they count as lost.
  await new Promise((resolveWait) => setTimeout(resolveWait, 2_000));
  clearInterval(sampler);
  probe.reader.doc.getMap('probe').unobserve(onChange);
  const mb = (bytes: number): number => Math.round(bytes / 1024 / 102.4) / 10;
  return {
    name,
    probe: summarize(latencies),
    lostProbes: Math.max(0, sent - latencies.length),
    relayRssPeakMb: mb(rssPeak),
    relayRssAfterMb: mb(rssBytes(pid)),
    relayCpuPercent: Math.round(cpuPercent * 10) / 10,
    attacker,
  };
}

function startBystanders(url: string): Promise<ChildProcess> {
  const child = spawn(...pinned(1, process.execPath, ['--import', 'tsx', 'bench/flood-bystanders.ts', url, '5']), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolveReady, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolveReady(child);
    });
    child.once('exit', (code) => reject(new Error(`bystanders exited with ${code}`)));
  });
}

function runAttacker(mode: string, url: string): Promise<unknown> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(...pinned(1, process.execPath, ['--import', 'tsx', 'bench/flood-attacker.ts', mode, url, String(SECONDS * 1000)]), {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolveRun(JSON.parse(output.trim().split('\n').pop() ?? '{}')) : reject(new Error(`attacker ${mode} exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'inkwell-flood-'));
  // The large document the step 1 attack asks for, written as earlier sessions would have left it.
  const seed = await openLevelStore({ dir: join(dataDir, 'leveldb') });
  const chunk = 'abcdefghij'.repeat(LARGE_DOC_CHARS / 10 / 8);
  await seed.appendUpdates(parseDocId('big')!, appendedText(Array(8).fill(chunk)).updates);
  await seed.close();

  const port = await freePort();
  const relay = await startRelay(dataDir, port);
  const providers: WebsocketProvider[] = [];
  let bystanders: ChildProcess | null = null;
  try {
    // Each party is a client of its own (X-Forwarded-For from the trusted loopback proxy), as on a network.
    const writer = connect(port, 'probe', '198.51.100.1');
    const reader = connect(port, 'probe', '198.51.100.2');
    // Someone has the large document open, so the attack meets it loaded (its first load and
    // compaction are a cost of opening a large document, not of the attack).
    const reading = connect(port, 'big', '198.51.100.3');
    providers.push(writer, reader, reading);
    await Promise.all(providers.map(synced));
    // The attacked room has people in it, so what the relay forwards is real fan-out.
    bystanders = await startBystanders(roomUrl(port, 'victim'));
    const attacks = ATTACKS.filter((attack) => values.attacks.split(',').includes(attack));
    // Rounds of (unloaded, each attack): a phase's p99 is a handful of probes, so each
    // attack is judged by its median over the rounds, against the unloaded runs' median.
    const phases: Phase[] = [];
    for (let round = 1; round <= REPEATS; round++) {
      phases.push(await measurePhase('unloaded', relay, { writer, reader }, () => new Promise((done) => setTimeout(() => done(null), SECONDS * 1000))));
      for (const mode of attacks) {
        const target = mode === 'step1' ? 'big' : 'victim';
        const phase = await measurePhase(mode, relay, { writer, reader }, () => runAttacker(mode, roomUrl(port, target)));
        phases.push(phase);
        console.error(`[flood] round ${round} ${mode}: probe p99 ${phase.probe.p99} ms, RSS peak ${phase.relayRssPeakMb} MB`);
      }
    }
    const medianOf = (name: string, pick: (phase: Phase) => number): number => median(phases.filter((phase) => phase.name === name).map(pick));
    const unloadedP99 = medianOf('unloaded', (phase) => phase.probe.p99);
    const summaryRows = ['unloaded', ...attacks].map(
      (name) =>
        `| ${name} | ${medianOf(name, (phase) => phase.probe.p50)} | ${medianOf(name, (phase) => phase.probe.p99)} | ${(medianOf(name, (phase) => phase.probe.p99) / unloadedP99).toFixed(2)}× | ${Math.max(...phases.filter((phase) => phase.name === name).map((phase) => phase.relayRssPeakMb))} | ${medianOf(name, (phase) => phase.relayCpuPercent)} |`,
    );
    const rows = phases.map(
      (phase) =>
        `| ${phase.name} | ${phase.probe.p50} | ${phase.probe.p99} | ${phase.lostProbes} | ${phase.relayRssPeakMb} | ${phase.relayRssAfterMb} | ${phase.relayCpuPercent} | \`${JSON.stringify(phase.attacker)}\` |`,
    );
    const table = [
      `Flood isolation (${values.label}, ${REPEATS} rounds of ${SECONDS} s phases${CAN_PIN ? '; relay and probe on CPU 0, attacker and bystanders on CPU 1' : '; unpinned'}): another room's edit latency and the relay's size`,
      '',
      '| phase | probe p50 ms (median) | probe p99 ms (median) | p99 × unloaded | relay RSS peak MB (max) | relay CPU % (median) |',
      '|---|---|---|---|---|---|',
      ...summaryRows,
      '',
      'Every phase, in the order run:',
      '',
      '| phase | probe p50 ms | probe p99 ms | probes lost | relay RSS peak MB | RSS after MB | relay CPU % | attacker |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n');
    console.log(table);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    await mkdir('bench/results', { recursive: true });
    await writeFile(`bench/results/flood-${values.label}-${stamp}.json`, `${JSON.stringify({ label: values.label, seconds: SECONDS, repeats: REPEATS, phases }, null, 2)}\n`);
    await writeFile(`bench/results/flood-${values.label}-${stamp}.md`, `${table}\n`);
  } finally {
    for (const provider of providers) provider.destroy();
    bystanders?.kill('SIGKILL');
    // SIGTERM lets a profiled relay write its profile; one still buggy with a flood's backlog gets SIGKILL.
    relay.kill('SIGTERM');
    const killer = setTimeout(() => relay.kill('SIGKILL'), 10_000);
    if (relay.exitCode === null && relay.signalCode === null) await new Promise((done) => relay.once('exit', done));
    clearTimeout(killer);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
