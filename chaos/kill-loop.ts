/**
 * Campaign `kill-loop`: the relay is killed with SIGKILL at random moments while
 * three writers share one document and a fourth has another, all asking for
 * `saved` acknowledgements (SPEC P9). Each kill is followed by:
 *
 * 1. a read of the documents straight from the dead relay's LevelDB: every token
 *    acknowledged as saved must be there, exactly once, and nothing else but
 *    whole tokens the writers wrote (writers keep typing offline meanwhile);
 * 2. a restart on the same port and data dir, the writers reconnecting by
 *    themselves: all writers and a fresh reader must converge on one text that
 *    holds every token ever written, each once. The time that takes is a figure.
 *
 * A last kill comes once every writer is fully acknowledged, so a relay that loses
 * the last batch it acknowledged fails too.
 */
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

import type { Campaign, CampaignReport, ChaosScale } from './campaign';
import { ChaosRelay } from './chaos-relay';
import { Findings } from './findings';
import { progress } from './progress';
import { SeededRandom, chooseSeed } from './random';
import { readStoredTexts, type StoredText } from './stored-doc';
import { inventoryOf } from './token-text';
import { TokenWriter, tokenOf } from './token-writer';
import { docChanges, pause, providerChanges, waitFor, type ChangeSource } from './wait';

const NAME = 'kill-loop';

const SCALES = {
  ci: { kills: 5, killAfterMs: { min: 150, max: 1_200 } },
  long: { kills: 20, killAfterMs: { min: 150, max: 3_000 } },
} as const satisfies Record<ChaosScale, { kills: number; killAfterMs: { min: number; max: number } }>;

const SHARED_DOC = 'chaos-kill-shared';
const SOLO_DOC = 'chaos-kill-solo';
const WRITERS = [
  { name: 'w1', docId: SHARED_DOC },
  { name: 'w2', docId: SHARED_DOC },
  { name: 'w3', docId: SHARED_DOC },
  { name: 'w4', docId: SOLO_DOC },
] as const;
const DOC_IDS = [SHARED_DOC, SOLO_DOC] as const;

/** Each writer writes a token on about 70% of these ticks: a fast typist, well inside the default budgets. */
const WRITE_TICK_MS = 20;
const CONVERGE_TIMEOUT_MS = 20_000;
const DISCONNECT_TIMEOUT_MS = 5_000;
const SAVED_TIMEOUT_MS = 10_000;

const RELAY_ENV = {
  // Compact every 300 updates, so some kills land while the log is folded into a snapshot.
  COLLAB_COMPACT_UPDATES: '300',
  // Every client here is 127.0.0.1, and each kill brings all of them back at once.
  COLLAB_MAX_CONNECT_ATTEMPTS_PER_MINUTE: '100000',
} as const;

/** Totals over the whole run. */
interface KillLoopTally {
  kills: number;
  ackedChecked: number;
  unackedPresent: number;
  restartMs: number[];
  convergeMs: number[];
}

export const killLoop: Campaign = {
  name: NAME,
  title: 'SIGKILL at random moments under saved-acknowledged writers: acknowledged writes survive, nothing doubles, everyone converges',
  run: runKillLoop,
};

async function runKillLoop(scale: ChaosScale): Promise<CampaignReport> {
  const findings = new Findings(NAME);
  const settings = SCALES[scale];
  const seed = chooseSeed();
  const random = new SeededRandom(seed);
  findings.figure('seed', seed);
  progress(NAME, `scale ${scale}, ${settings.kills} kills, seed ${seed}`);
  const relay = await ChaosRelay.create(RELAY_ENV);
  const writers: TokenWriter[] = [];
  const tally: KillLoopTally = { kills: 0, ackedChecked: 0, unackedPresent: 0, restartMs: [], convergeMs: [] };
  try {
    await relay.start();
    for (const { name, docId } of WRITERS) {
      writers.push(new TokenWriter(name, { baseUrl: relay.process.url, docId, params: { token: relay.process.tokenFor(docId), saved: '1' } }));
    }
    await waitFor({
      check: () => writers.every((writer) => writer.provider.synced),
      changes: writers.map((writer) => providerChanges(writer.provider)),
      timeoutMs: CONVERGE_TIMEOUT_MS,
      what: 'the writers to sync',
    });
    for (let kill = 1; kill <= settings.kills; kill++) {
      const stopWriting = startWriting(writers, random);
      await pause(random.integer(settings.killAfterMs.min, settings.killAfterMs.max));
      await killAndCheckDisk({ relay, writers, findings, tally, label: `kill ${kill}` });
      stopWriting();
      await restartAndConverge({ relay, writers, findings, tally, label: `kill ${kill}` });
      progress(NAME, `kill ${kill}/${settings.kills}: ${totalWritten(writers)} tokens written, converged in ${tally.convergeMs.at(-1)} ms`);
    }
    // The quiet kill: everything written is acknowledged first, so all of it must be on disk.
    await waitFor({
      check: () => writers.every((writer) => writer.isAllSaved),
      changes: writers.map((writer) => writer.savedChanges),
      timeoutMs: SAVED_TIMEOUT_MS,
      what: 'every token to be acknowledged as saved',
    });
    await killAndCheckDisk({ relay, writers, findings, tally, label: 'final kill (all acknowledged)' });
  } catch (error) {
    findings.fail(`aborted: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    for (const writer of writers) writer.destroy();
    await relay.dispose();
  }
  for (const crash of relay.crashes) findings.fail(crash);
  for (const line of relay.errorLines) findings.fail(`relay logged an error: ${line}`, 'relay logged an error');
  findings.figure('kills (at random moments, plus one once all was acknowledged)', tally.kills);
  findings.figure('tokens written', totalWritten(writers));
  findings.figure('acknowledged tokens checked on disk (sum over kills)', tally.ackedChecked);
  findings.figure('unacknowledged tokens found on disk (sum over kills)', tally.unackedPresent);
  findings.figure('restart to listening, max ms', Math.max(0, ...tally.restartMs));
  findings.figure('convergence after restart, max ms', Math.max(0, ...tally.convergeMs));
  findings.figure('convergence after restart, median ms', median(tally.convergeMs));
  findings.figure('relay error log lines', relay.errorLines.length);
  return findings.report();
}

/** Starts the writers typing; returns the stop. */
function startWriting(writers: readonly TokenWriter[], random: SeededRandom): () => void {
  const timer = setInterval(() => {
    for (const writer of writers) if (random.next() < 0.7) writer.write();
  }, WRITE_TICK_MS);
  return () => clearInterval(timer);
}

/** What one kill, and the restart after it, work on. */
interface KillCycle {
  readonly relay: ChaosRelay;
  readonly writers: readonly TokenWriter[];
  readonly findings: Findings;
  readonly tally: KillLoopTally;
  readonly label: string;
}

async function killAndCheckDisk(options: KillCycle): Promise<void> {
  const { relay, writers, findings, tally, label } = options;
  await relay.stop('SIGKILL');
  tally.kills += 1;
  // Once every writer has seen its socket close, no `saved` from the dead relay is still on its way.
  await waitFor({
    check: () => writers.every((writer) => !writer.provider.wsconnected),
    changes: writers.map((writer) => providerChanges(writer.provider)),
    timeoutMs: DISCONNECT_TIMEOUT_MS,
    what: 'the writers to notice the kill',
  });
  const acknowledged = new Map(writers.map((writer) => [writer.name, writer.acknowledgedCount]));
  const written = new Map(writers.map((writer) => [writer.name, writer.writtenCount]));
  const stored = await readStoredTexts(relay.dataDir, DOC_IDS);
  for (const docId of DOC_IDS) {
    const onDoc = writers.filter((writer) => writer.provider.roomname === docId);
    checkStoredDoc({ docId, stored: stored.get(docId)!, onDoc, acknowledged, written, findings, tally, label });
  }
}

function checkStoredDoc(options: {
  docId: string;
  stored: StoredText;
  onDoc: readonly TokenWriter[];
  acknowledged: ReadonlyMap<string, number>;
  written: ReadonlyMap<string, number>;
  findings: Findings;
  tally: KillLoopTally;
  label: string;
}): void {
  const { docId, stored, onDoc, acknowledged, written, findings, tally, label } = options;
  const where = `${label}, ${docId} on disk`;
  findings.expect(stored.loadError === null, () => `${where}: the stored updates do not apply: ${stored.loadError}`);
  findings.expect(!stored.hasMissingDependencies, () => `${where}: stored updates wait for dependencies that were never stored`);
  const inventory = inventoryOf(stored.text);
  findings.expect(inventory.garbageAt === null, () => `${where}: not a text of tokens at ${inventory.garbageAt?.index}: ${inventory.garbageAt?.excerpt}`);
  findings.expect(inventory.duplicates.length === 0, () => `${where}: ${inventory.duplicates.length} tokens stored more than once, e.g. ${inventory.duplicates.slice(0, 3).join(' ')}`);
  let known = 0;
  for (const writer of onDoc) {
    const acked = acknowledged.get(writer.name) ?? 0;
    const missing: string[] = [];
    for (let seq = 0; seq < acked; seq++) if (!inventory.counts.has(tokenOf(writer.name, seq))) missing.push(tokenOf(writer.name, seq));
    findings.expect(missing.length === 0, () => `${where}: ${missing.length} of ${writer.name}'s ${acked} acknowledged tokens are missing, e.g. ${missing.slice(0, 3).join(' ')}`);
    tally.ackedChecked += acked;
    const writtenCount = written.get(writer.name) ?? 0;
    for (let seq = acked; seq < writtenCount; seq++) if (inventory.counts.has(tokenOf(writer.name, seq))) tally.unackedPresent += 1;
    for (let seq = 0; seq < writtenCount; seq++) if (inventory.counts.has(tokenOf(writer.name, seq))) known += 1;
  }
  findings.expect(known === inventory.counts.size, () => `${where}: ${inventory.counts.size - known} stored tokens were never written by this document's writers`);
}

async function restartAndConverge(options: KillCycle): Promise<void> {
  const { relay, writers, findings, tally, label } = options;
  const startedAt = performance.now();
  await relay.start();
  const listeningAt = performance.now();
  tally.restartMs.push(Math.round(listeningAt - startedAt));
  const readers = DOC_IDS.map((docId) => openReader(relay, docId));
  try {
    const clientsOf = (docId: string): { provider: WebsocketProvider; doc: Y.Doc }[] => [
      ...writers.filter((writer) => writer.provider.roomname === docId),
      readers.find((reader) => reader.provider.roomname === docId)!,
    ];
    const isConverged = (): boolean =>
      DOC_IDS.every((docId) => {
        const clients = clientsOf(docId);
        const text = clients[0]!.doc.getText('t').toString();
        return clients.every(({ provider, doc }) => provider.synced && provider.wsconnected && doc.getText('t').toString() === text);
      });
    const all = [...writers, ...readers];
    const changes: ChangeSource[] = [...all.map(({ doc }) => docChanges(doc)), ...all.map(({ provider }) => providerChanges(provider))];
    await waitFor({ check: isConverged, changes, timeoutMs: CONVERGE_TIMEOUT_MS, what: `${label}: writers and a fresh reader to converge` });
    tally.convergeMs.push(Math.round(performance.now() - listeningAt));
    for (const reader of readers) checkConvergedDoc({ reader, writers, findings, label });
  } finally {
    for (const reader of readers) {
      reader.provider.destroy();
      reader.doc.destroy();
    }
  }
}

/** The converged text holds every token its writers ever wrote, each once, and nothing else. */
function checkConvergedDoc(options: { reader: { provider: WebsocketProvider; doc: Y.Doc }; writers: readonly TokenWriter[]; findings: Findings; label: string }): void {
  const { reader, writers, findings, label } = options;
  const docId = reader.provider.roomname;
  const where = `${label}, ${docId} after restart`;
  const inventory = inventoryOf(reader.doc.getText('t').toString());
  findings.expect(inventory.garbageAt === null, () => `${where}: not a text of tokens at ${inventory.garbageAt?.index}: ${inventory.garbageAt?.excerpt}`);
  findings.expect(inventory.duplicates.length === 0, () => `${where}: ${inventory.duplicates.length} tokens occur more than once, e.g. ${inventory.duplicates.slice(0, 3).join(' ')}`);
  const onDoc = writers.filter((writer) => writer.provider.roomname === docId);
  const expected = onDoc.reduce((sum, writer) => sum + writer.writtenCount, 0);
  let present = 0;
  for (const writer of onDoc) for (let seq = 0; seq < writer.writtenCount; seq++) if (inventory.counts.has(tokenOf(writer.name, seq))) present += 1;
  findings.expect(present === expected && inventory.counts.size === expected, () => `${where}: ${present} of ${expected} written tokens present, ${inventory.counts.size} distinct tokens in all`);
}

function openReader(relay: ChaosRelay, docId: string): { provider: WebsocketProvider; doc: Y.Doc } {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(relay.process.url, docId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token: relay.process.tokenFor(docId) },
    disableBc: true,
    connect: false,
  });
  provider.awareness.setLocalState(null);
  provider.connect();
  return { provider, doc };
}

function totalWritten(writers: readonly TokenWriter[]): number {
  return writers.reduce((sum, writer) => sum + writer.writtenCount, 0);
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
