/**
 * Campaign `fuzz`: fast-check generated frames (fuzz-frames.ts), each on a fresh
 * raw socket from a pool, against a live relay whose budgets are lifted so it
 * judges every frame rather than rate-limiting the fuzzer. The frame oracle
 * (frame-oracle.ts) sends frames the relay must refuse into a room where two
 * honest peers edit, and the rest into the batch's sandbox room. Checked:
 *
 * - every must-refuse frame is refused: the socket closed with a refusal code,
 *   the probe behind it never answered; no frame at all meets 1011 or a socket
 *   dropped without a close frame;
 * - the relay never dies and /healthz stays ok;
 * - after each batch an edit still crosses the honest pair in the attacked room
 *   and a pair in a room left alone, and no honest socket was ever closed;
 * - at the end (checkNothingSlippedIn): the honest rooms, on disk and loaded
 *   fresh, hold exactly the honest peers' tokens and client ids; every sandbox
 *   room holds on disk all that its `saved` answer covered, applies to a fresh
 *   document, and after a restart still takes an honest edit and saves it.
 *
 * Reproduce a failure with CHAOS_SEED=<seed>: batch b samples `fc.sample(fuzzFrame, { seed: seed + b })`.
 */
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

import { UNLIMITED_RATE_ENV } from '../tests/helpers/relay-process';
import type { Campaign, CampaignReport, ChaosScale } from './campaign';
import { ChaosRelay } from './chaos-relay';
import { Findings } from './findings';
import { judgeMessage, type Verdict } from './frame-oracle';
import { FUZZ_FAMILIES, fuzzFrame, type FuzzFamily, type FuzzFrame } from './fuzz-frames';
import { HonestPair } from './honest-pair';
import { progress } from './progress';
import { chooseSeed } from './random';
import { clientFrame, OPCODES, sendOnFreshSocket, type SocketOutcome } from './raw-ws-client';
import { readStoredTexts } from './stored-doc';
import { inventoryOf } from './token-text';
import { TokenWriter } from './token-writer';
import { providerChanges, waitFor } from './wait';

const NAME = 'fuzz';

const SCALES = {
  ci: { frames: 20_000, batchSize: 1_000 },
  long: { frames: 200_000, batchSize: 2_000 },
} as const satisfies Record<ChaosScale, { frames: number; batchSize: number }>;

/** Sockets in flight at once. */
const POOL_SIZE = 32;
const SOCKET_TIMEOUT_MS = 10_000;
const EXCHANGE_TIMEOUT_MS = 5_000;
const SAVED_TIMEOUT_MS = 10_000;
const RSS_SAMPLE_MS = 250;

const ATTACKED_ROOM = 'chaos-fuzz-attacked';
const QUIET_ROOM = 'chaos-fuzz-quiet';
/** Each batch's sandbox room: a frame that breaks a room then spoils one batch's sandbox, not the whole run's. */
const SANDBOX_ROOM_PREFIX = 'chaos-fuzz-sandbox-';
const sandboxRoomOf = (batch: number): string => `${SANDBOX_ROOM_PREFIX}${batch}`;
const SANDBOX_PROBE_TIMEOUT_MS = 3_000;

const RELAY_ENV = {
  ...UNLIMITED_RATE_ENV,
  // One client (127.0.0.1) opens every socket, a thousand a second: lift the per-client connection caps too.
  COLLAB_MAX_CONNECT_ATTEMPTS_PER_MINUTE: '1000000',
  COLLAB_MAX_CONNECTIONS_PER_IP: '1000000',
} as const;

/** Close codes that mean "refused", by how the frame is broken (SPEC close-code table; 1007 is ws's for a text frame that is not UTF-8). */
const REFUSAL_CODES: Record<FuzzFamily, readonly number[]> = {
  'random-bytes': [1002, 1003, 1008],
  truncated: [1002, 1003, 1008],
  mutated: [1002, 1003, 1008],
  'huge-varint': [1002, 1003, 1008],
  'corrupted-update': [1002, 1003, 1008],
  'broken-awareness': [1002, 1003, 1008],
  'unknown-type': [1002, 1003, 1008],
  'text-frame': [1003, 1007],
  'bad-framing': [1002, 1009],
};

/** Running totals. */
interface FuzzTally {
  sent: number;
  mustRefuse: number;
  accepted: number;
  byFamily: Map<FuzzFamily, number>;
  closesByCode: Map<number, number>;
  rssPeak: number;
}

export const fuzz: Campaign = {
  name: NAME,
  title: 'Fuzzed frames on raw sockets: bad frames refused, the relay alive, honest peers syncing, nothing stored from a refused frame',
  run: runFuzz,
};

async function runFuzz(scale: ChaosScale): Promise<CampaignReport> {
  const findings = new Findings(NAME);
  const settings = SCALES[scale];
  const seed = chooseSeed();
  findings.figure('seed', seed);
  progress(NAME, `scale ${scale}, ${settings.frames} frames, seed ${seed} (batch b uses seed ${seed} + b)`);
  const relay = await ChaosRelay.create(RELAY_ENV);
  const tally: FuzzTally = { sent: 0, mustRefuse: 0, accepted: 0, byFamily: new Map(), closesByCode: new Map(), rssPeak: 0 };
  const startedAt = performance.now();
  let sampler: NodeJS.Timeout | null = null;
  const pairs: HonestPair[] = [];
  try {
    await relay.start();
    sampler = setInterval(() => (tally.rssPeak = Math.max(tally.rssPeak, relay.rssIfRunning() ?? 0)), RSS_SAMPLE_MS);
    const attacked = await HonestPair.open({ relay, docId: ATTACKED_ROOM, names: ['p1', 'p2'], timeoutMs: EXCHANGE_TIMEOUT_MS });
    pairs.push(attacked);
    const quiet = await HonestPair.open({ relay, docId: QUIET_ROOM, names: ['q1', 'q2'], timeoutMs: EXCHANGE_TIMEOUT_MS });
    pairs.push(quiet);
    const batches = Math.ceil(settings.frames / settings.batchSize);
    const sandboxes = Array.from({ length: batches }, (_, batch) => sandboxRoomOf(batch));
    for (let batch = 0; batch < batches; batch++) {
      const paths = { 'must-refuse': pathOf(relay, ATTACKED_ROOM), 'may-apply': pathOf(relay, sandboxRoomOf(batch)) } as const;
      const frames = fc.sample(fuzzFrame, { seed: seed + batch, numRuns: Math.min(settings.batchSize, settings.frames - batch * settings.batchSize) });
      await sendBatch({ relay, frames, paths, findings, tally, where: (index) => `seed ${seed} + ${batch}, sample ${index}` });
      if (!relay.isRunning || !(await relay.isHealthy())) {
        findings.fail(`after batch ${batch}: the relay is ${relay.isRunning ? 'not healthy' : 'gone'}`);
        break;
      }
      for (const pair of pairs) {
        await pair.exchange(EXCHANGE_TIMEOUT_MS).catch((error: unknown) => findings.fail(`after batch ${batch}: ${describe(error)}`, `${pair.docId}: an honest edit did not arrive`));
      }
      if ((batch + 1) % 5 === 0 || batch === batches - 1) {
        progress(NAME, `${tally.sent} frames (${tally.mustRefuse} must-refuse), rss peak ${(tally.rssPeak / 2 ** 20).toFixed(0)} MiB, ${Math.round((performance.now() - startedAt) / 1000)} s`);
      }
    }
    for (const pair of pairs) findings.expect(pair.closesSeen === 0, () => `${pair.docId}: the relay closed honest sockets ${pair.closesSeen} times`);
    if (relay.isRunning) await checkNothingSlippedIn({ relay, pairs, sandboxes, findings });
  } catch (error) {
    findings.fail(`aborted: ${describe(error)}`);
  } finally {
    if (sampler) clearInterval(sampler);
    for (const pair of pairs) pair.destroy();
    await relay.dispose();
  }
  for (const crash of relay.crashes) findings.fail(crash);
  // In a sandbox the relay meets updates that break off halfway, and reloads the room (P5a), which it
  // logs as an error on purpose: those are counted. An error anywhere else is a failure.
  const sandboxErrors = relay.errorLines.filter((line) => logDocId(line)?.startsWith(SANDBOX_ROOM_PREFIX) === true);
  for (const line of relay.errorLines) if (!sandboxErrors.includes(line)) findings.fail(`relay logged an error: ${line}`, 'relay logged an error outside the sandboxes');
  findings.figure('frames sent', tally.sent);
  findings.figure('frames the relay must refuse (sent to the attacked room)', tally.mustRefuse);
  findings.figure('sandbox frames the relay read on from', tally.accepted);
  for (const family of FUZZ_FAMILIES) findings.figure(`frames: ${family}`, tally.byFamily.get(family) ?? 0);
  for (const [code, count] of [...tally.closesByCode].sort(([a], [b]) => a - b)) findings.figure(`sockets closed by the relay with ${code}`, count);
  findings.figure('relay RSS peak MiB', Math.round(tally.rssPeak / 2 ** 20));
  findings.figure('relay error log lines in sandbox rooms', sandboxErrors.length);
  findings.figure('relay error log lines elsewhere', relay.errorLines.length - sandboxErrors.length);
  findings.figure('duration s', Math.round((performance.now() - startedAt) / 1000));
  return findings.report();
}

/** Sends every frame of a batch on its own socket, `POOL_SIZE` at a time, and judges each outcome. */
async function sendBatch(options: {
  relay: ChaosRelay;
  frames: readonly FuzzFrame[];
  paths: Readonly<Record<Verdict, string>>;
  findings: Findings;
  tally: FuzzTally;
  where: (index: number) => string;
}): Promise<void> {
  const { relay, frames, paths, findings, tally, where } = options;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < frames.length) {
      const index = next++;
      const frame = frames[index]!;
      const verdict: Verdict = frame.kind === 'wire' ? 'must-refuse' : judgeMessage(frame.message);
      const bytes = frame.kind === 'wire' ? frame.bytes : clientFrame({ opcode: OPCODES.binary, payload: frame.message });
      const outcome = await sendOnFreshSocket({ port: relay.port, path: paths[verdict], bytes, withProbe: frame.kind === 'message', timeoutMs: SOCKET_TIMEOUT_MS });
      tally.sent += 1;
      tally.byFamily.set(frame.family, (tally.byFamily.get(frame.family) ?? 0) + 1);
      if (verdict === 'must-refuse') tally.mustRefuse += 1;
      judgeOutcome({ frame, verdict, outcome, findings, tally, where: () => where(index) });
    }
  };
  await Promise.all(Array.from({ length: POOL_SIZE }, worker));
}

function judgeOutcome(options: { frame: FuzzFrame; verdict: Verdict; outcome: SocketOutcome; findings: Findings; tally: FuzzTally; where: () => string }): void {
  const { frame, verdict, outcome, findings, tally, where } = options;
  const bytes = frame.kind === 'wire' ? frame.bytes : frame.message;
  const what = (): string => `${frame.family} frame (${verdict}, ${where()}, ${bytes.byteLength} bytes: ${hex(bytes)})`;
  switch (outcome.kind) {
    case 'closed':
      tally.closesByCode.set(outcome.code, (tally.closesByCode.get(outcome.code) ?? 0) + 1);
      if (verdict === 'must-refuse') {
        findings.expect(REFUSAL_CODES[frame.family].includes(outcome.code), () => `${what()}: closed with ${outcome.code}, not a refusal code`, `${frame.family} frame closed with ${outcome.code}`);
      } else {
        findings.expect(outcome.code !== 1011, () => `${what()}: internal error (1011)`, 'a sandbox frame met an internal error (1011)');
      }
      return;
    case 'answered':
      if (verdict === 'may-apply') tally.accepted += 1;
      else findings.fail(`${what()}: the relay read on past a frame it must refuse`, `the relay read on past a ${frame.family} frame it must refuse`);
      return;
    case 'dropped':
    case 'timed-out':
      findings.fail(`${what()}: ${outcome.kind} without a close frame`, `socket ${outcome.kind} without a close frame`);
      return;
    case 'upgrade-refused':
      findings.fail(`${what()}: upgrade refused with ${outcome.status}`, `upgrade refused with ${outcome.status}`);
      return;
    case 'socket-error':
      findings.fail(`${what()}: socket error ${outcome.message}`, 'socket error');
      return;
    default:
      assertNever(outcome);
  }
}

/**
 * The end. First everything the honest peers wrote is acknowledged as saved, and
 * the relay is asked what it holds of the sandbox as saved; then it is killed, so
 * only what is on disk counts:
 *
 * - the honest rooms hold exactly the honest tokens, from the honest client ids
 *   only (the peers' own documents are no oracle: they would have received any
 *   fuzz content the relay let in);
 * - the sandbox holds everything its last `saved` covered (P9): a frame applied
 *   in part, in memory only, would show here;
 * - restarted, the relay serves the same honest texts to fresh clients, and
 *   every sandbox still takes an honest edit and saves it; then it stops gracefully.
 */
async function checkNothingSlippedIn(options: { relay: ChaosRelay; pairs: readonly HonestPair[]; sandboxes: readonly string[]; findings: Findings }): Promise<void> {
  const { relay, pairs, sandboxes, findings } = options;
  const expectedTexts = new Map<string, string>();
  for (const pair of pairs) {
    await pair.whenSaved(SAVED_TIMEOUT_MS);
    const [first, second] = pair.texts;
    findings.expect(first === second, () => `${pair.docId}: the honest peers ended with different texts`);
    expectedTexts.set(pair.docId, first);
  }
  const claimedSaved = await mapWithConcurrency(sandboxes, (docId) =>
      savedStateVectorOf(relay, docId).catch((error: unknown) => {
        findings.fail(`${docId}: no 'saved' answer for a fresh client: ${describe(error)}`, 'a sandbox room gives a fresh client no saved answer');
        return null;
      }),
  );
  for (const pair of pairs) pair.destroy();
  await relay.stop('SIGKILL');
  const stored = await readStoredTexts(relay.dataDir, [...pairs.map((pair) => pair.docId), ...sandboxes]);
  for (const pair of pairs) {
    const expected = expectedTexts.get(pair.docId)!;
    const storedDoc = stored.get(pair.docId)!;
    findings.expect(storedDoc.loadError === null, () => `${pair.docId}: the stored document does not load: ${storedDoc.loadError}`);
    findings.expect(storedDoc.text === expected, () => `${pair.docId}: stored text differs from the honest peers' (${storedDoc.text.length} vs ${expected.length} characters)`);
    const strangers = [...storedDoc.stateVector.keys()].filter((id) => !pair.clientIds.includes(id));
    findings.expect(strangers.length === 0, () => `${pair.docId}: stored changes from client ids no honest peer has: ${strangers.slice(0, 5).join(', ')}`);
    const inventory = inventoryOf(storedDoc.text);
    const tokens = pair.tokens;
    findings.expect(
      inventory.garbageAt === null && inventory.duplicates.length === 0 && inventory.counts.size === tokens.length && tokens.every((token) => inventory.counts.has(token)),
      () => `${pair.docId}: stored text is not exactly the ${tokens.length} honest tokens`,
    );
  }
  sandboxes.forEach((docId, index) => {
    const claimed = claimedSaved[index];
    const sandbox = stored.get(docId)!;
    findings.expect(
      sandbox.loadError === null,
      () => `${docId}: the stored document does not apply to a fresh one: ${sandbox.loadError}`,
      'a sandbox document as stored does not apply to a fresh one',
    );
    const unsaved = [...(claimed ?? [])].filter(([client, clock]) => (sandbox.stateVector.get(client) ?? 0) < clock);
    findings.expect(
      unsaved.length === 0,
      () =>
        `${docId}: 'saved' covered changes that are not on disk (P9), clients ${unsaved
          .slice(0, 3)
          .map(([client, clock]) => `${client}: saved ${clock}, stored ${sandbox.stateVector.get(client) ?? 0}`)
          .join('; ')}`,
      "a sandbox room's 'saved' covers changes not on disk",
    );
  });
  await relay.start();
  for (const pair of pairs) {
    const expected = expectedTexts.get(pair.docId)!;
    const fresh = await loadFresh(relay, pair.docId, EXCHANGE_TIMEOUT_MS).catch((error: unknown) => `(${describe(error)})`);
    findings.expect(fresh === expected, () => `${pair.docId}: loaded fresh from the relay, the text differs from the honest peers' ${fresh.slice(0, 60)}`);
  }
  await mapWithConcurrency(sandboxes, (docId) =>
    checkStillEditable(relay, docId).catch((error: unknown) =>
      findings.fail(`${docId}, after a restart: ${describe(error)}`, 'a sandbox document is no longer editable after a restart'),
    ),
  );
  const exit = await relay.stop('SIGTERM');
  findings.expect(exit.code === 0, () => `graceful stop exited with code ${exit.code}, signal ${exit.signal}`);
}

/**
 * Whatever a document went through, an honest client must still be able to
 * open it and have an edit saved: a new client syncs, writes one token to a
 * text of its own, and must see it acknowledged without its socket being closed.
 */
async function checkStillEditable(relay: ChaosRelay, docId: string): Promise<void> {
  const writer = new TokenWriter('z1', { baseUrl: relay.process.url, docId, params: { token: relay.process.tokenFor(docId), saved: '1' }, textName: 'chaos-check' });
  let closes = 0;
  writer.provider.on('connection-close', () => (closes += 1));
  try {
    await waitFor({ check: () => writer.provider.synced, changes: [providerChanges(writer.provider)], timeoutMs: SANDBOX_PROBE_TIMEOUT_MS, what: 'a fresh client to sync' });
    writer.write();
    await waitFor({ check: () => writer.isAllSaved, changes: [writer.savedChanges], timeoutMs: SANDBOX_PROBE_TIMEOUT_MS, what: 'an honest edit to be saved' });
    if (closes > 0) throw new Error(`the honest client's socket was closed ${closes} times`);
  } finally {
    writer.destroy();
  }
}

/** Connects with `saved=1` and returns the state vector of the first `saved` message: what the relay holds, all of it on disk by its word. */
async function savedStateVectorOf(relay: ChaosRelay, docId: string): Promise<ReadonlyMap<number, number>> {
  const probe = new TokenWriter('s1', { baseUrl: relay.process.url, docId, params: { token: relay.process.tokenFor(docId), saved: '1' } });
  try {
    await waitFor({ check: () => probe.savedStateVector !== null, changes: [probe.savedChanges], timeoutMs: SANDBOX_PROBE_TIMEOUT_MS, what: `a saved message for ${docId}` });
    return probe.savedStateVector!;
  } finally {
    probe.destroy();
  }
}

/** Syncs a new stock client with `docId` and returns its text. */
async function loadFresh(relay: ChaosRelay, docId: string, timeoutMs: number): Promise<string> {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(relay.process.url, docId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token: relay.process.tokenFor(docId) },
    disableBc: true,
  });
  try {
    await waitFor({ check: () => provider.synced, changes: [providerChanges(provider)], timeoutMs, what: `a fresh client of ${docId} to sync` });
    return doc.getText('t').toString();
  } finally {
    provider.destroy();
    doc.destroy();
  }
}

/** Runs `task` over `items`, a few at a time (each stock provider adds a process exit listener), keeping the order of results. */
async function mapWithConcurrency<T, R>(items: readonly T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return results;
}

/** The `docId` field of a JSON log line, if it has one (lines are kept cut short, so not parsed whole). */
function logDocId(line: string): string | null {
  return /"docId":"([^"]+)"/.exec(line)?.[1] ?? null;
}

function pathOf(relay: ChaosRelay, docId: string): string {
  return `/${docId}?token=${relay.process.tokenFor(docId)}`;
}

function hex(bytes: Uint8Array): string {
  const shown = Buffer.from(bytes.subarray(0, 48)).toString('hex');
  return bytes.byteLength > 48 ? `${shown}…` : shown;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function assertNever(value: never): never {
  throw new Error(`unexpected outcome ${JSON.stringify(value)}`);
}
