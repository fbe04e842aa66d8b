/**
 * Reconnect storm (issue 13 §3): a crowd of people spread over many documents
 * is connected when the relay restarts. Every one of them writes while it is
 * down; when it is back, all must reconnect, send what they wrote and receive
 * what the others wrote. Run once with the app's own session (full-jitter
 * backoff, saved acknowledgements), then with stock y-websocket clients (fixed
 * exponential backoff, no jitter: everyone knocks at the same moments), which
 * the relay must survive.
 *
 * Measured: time from the relay listening again until every client is live,
 * synced and holds every change of its document (for the app session, also
 * saved); the relay's peak RSS meanwhile; connection attempts and how many were
 * refused. Checked: the relay exits 0 on SIGTERM and stays healthy; a fresh
 * reader of each document sees the same text as each of its clients, with
 * every token written exactly once.
 */
import { setTimeout as delay } from 'node:timers/promises';

import { makeTempDir, Teardown } from '../tests/helpers/relay';
import type { RelayProcess } from '../tests/helpers/relay-process';
import { AttemptTally, diffCounts, sumRefused } from './attempt-tally';
import type { Campaign, CampaignReport, ChaosScale } from './campaign';
import { mergeStateVectors, readStateVector, waitForConvergence, withDeadline, type StateVector } from './convergence';
import { appendParagraph, readBody, waitUntilCaughtUp, openAppSession, openStockClient, type StormClient } from './storm-clients';
import { isRelayHealthy, toMegabytes, RssSampler, startStormRelay, stopRelay, readUpgradesRefused } from './storm-relay';
import { findTokenFailures, TokenLedger } from './token-ledger';

/** Size of one run. */
interface StormScale {
  readonly clients: number;
  readonly documents: number;
  /**
   * How long the relay stays down after it exited, beyond its own stop and start (about 2 s):
   * the longer, the higher the clients' backoff has climbed when it returns.
   */
  readonly outageMs: number;
  /**
   * The bound every wait must meet (connecting, seeding, recovering). Full jitter draws the
   * next attempt from up to the 30 s cap, so recovery may take that long: this is a hang
   * detector above it, not the figure.
   */
  readonly deadlineMs: number;
}

const SCALES = {
  ci: { clients: 200, documents: 20, outageMs: 0, deadlineMs: 35_000 },
  long: { clients: 1_000, documents: 50, outageMs: 5_000, deadlineMs: 120_000 },
} as const satisfies Record<ChaosScale, StormScale>;

/** Paragraphs each document starts with, so every reconnect syncs real content (about 3 KB). */
const SEED_PARAGRAPHS = 40;
/** Clients connected at once before the storm; the first connection is not what is measured. */
const CONNECT_BATCH = 100;

/** The kinds of client a round is run with. */
type ClientKind = 'session' | 'stock';

/** What one round measured. */
interface RoundResult {
  readonly relay: RelayProcess;
  readonly figures: Record<string, number | string>;
  readonly failures: string[];
}

/** Shared by the rounds of one run. */
interface StormContext {
  readonly scale: StormScale;
  readonly teardown: Teardown;
  readonly dataDir: string;
  readonly docIds: readonly string[];
  readonly ledger: TokenLedger;
}

/** Address number `index` of `group` (one /16 per group), sent as X-Forwarded-For. */
function makeAddress(group: number, index: number): string {
  return `10.${group}.${(index >> 8) & 255}.${index & 255}`;
}

const ADDRESS_GROUPS = { seeders: 1, readers: 2, session: 3, stock: 4 } as const;

async function seedDocuments(context: StormContext, relay: RelayProcess): Promise<void> {
  const tally = new AttemptTally();
  const seeders = context.docIds.map((docId, index) => {
    const seeder = openAppSession({ relayUrl: relay.url, docId, token: relay.tokenFor(docId), address: makeAddress(ADDRESS_GROUPS.seeders, index), tally, name: 'Seeder' });
    for (let paragraph = 0; paragraph < SEED_PARAGRAPHS; paragraph++) {
      appendParagraph(seeder.doc, `Paragraph ${paragraph} of ${docId}, there from the start, as a document someone wrote earlier.`);
    }
    const token = `[seed-${docId}]`;
    appendParagraph(seeder.doc, token);
    context.ledger.add(docId, token);
    return seeder;
  });
  try {
    await withDeadline(Promise.all(seeders.map(waitUntilCaughtUp)), { deadlineMs: context.scale.deadlineMs, what: 'seeding every document' });
  } finally {
    for (const seeder of seeders) seeder.destroy();
  }
}

function openClients(context: StormContext, options: { kind: ClientKind; relay: RelayProcess; tally: AttemptTally; from: number; to: number }): StormClient[] {
  const { kind, relay, tally } = options;
  const clients: StormClient[] = [];
  for (let index = options.from; index < options.to; index++) {
    const docId = context.docIds[index % context.docIds.length]!;
    const common = { relayUrl: relay.url, docId, token: relay.tokenFor(docId), address: makeAddress(ADDRESS_GROUPS[kind], index), tally };
    clients.push(kind === 'session' ? openAppSession({ ...common, name: `Person ${index}` }) : openStockClient(common));
  }
  return clients;
}

/** The text each document has for someone who opens it now. */
async function readDocuments(context: StormContext, relay: RelayProcess): Promise<Map<string, string>> {
  const tally = new AttemptTally();
  const readers = context.docIds.map((docId, index) =>
    openStockClient({ relayUrl: relay.url, docId, token: relay.tokenFor(docId, 'viewer'), address: makeAddress(ADDRESS_GROUPS.readers, index), tally }),
  );
  try {
    await withDeadline(Promise.all(readers.map(waitUntilCaughtUp)), { deadlineMs: context.scale.deadlineMs, what: 'fresh readers syncing' });
    return new Map(readers.map((reader) => [reader.docId, readBody(reader.doc)]));
  } finally {
    for (const reader of readers) reader.destroy();
  }
}

/** Every document as a fresh reader sees it must hold its tokens once, and every client must see exactly that. */
function verifyDocuments(context: StormContext, options: { clients: readonly StormClient[]; texts: ReadonlyMap<string, string> }): string[] {
  const failures: string[] = [];
  for (const [docId, text] of options.texts) {
    failures.push(...findTokenFailures({ where: `fresh read of ${docId}`, text, tokens: context.ledger.tokensOf(docId) }));
  }
  const differing = options.clients.filter((client) => readBody(client.doc) !== options.texts.get(client.docId));
  if (differing.length > 0) failures.push(`${differing.length} clients differ from a fresh read of their document, e.g. in ${differing[0]!.docId}`);
  return failures;
}

/** Connects the crowd, restarts the relay under it, and measures the way back. */
async function runRound(context: StormContext, options: { kind: ClientKind; relay: RelayProcess }): Promise<RoundResult> {
  const { kind } = options;
  const { scale } = context;
  let relay = options.relay;
  const failures: string[] = [];
  const tally = new AttemptTally();
  const clients: StormClient[] = [];
  try {
    for (let from = 0; from < scale.clients; from += CONNECT_BATCH) {
      const batch = openClients(context, { kind, relay, tally, from, to: Math.min(scale.clients, from + CONNECT_BATCH) });
      clients.push(...batch);
      await withDeadline(Promise.all(batch.map(waitUntilCaughtUp)), { deadlineMs: scale.deadlineMs, what: `${kind} clients connecting` });
    }
    const before = tally.counts();
    const downAt = performance.now();
    const exit = await stopRelay(relay);
    if (exit.code !== 0) failures.push(`the relay exited with ${exit.code ?? exit.signal} on SIGTERM`);

    // Everyone writes while the relay is down: only a reconnect can carry it.
    clients.forEach((client, index) => {
      const token = `[${kind}-${index}]`;
      appendParagraph(client.doc, token);
      context.ledger.add(client.docId, token);
    });
    const expected = new Map<string, StateVector>();
    for (const docId of context.docIds) {
      expected.set(docId, mergeStateVectors(clients.filter((client) => client.docId === docId).map((client) => readStateVector(client.doc))));
    }
    await delay(scale.outageMs);

    relay = await startStormRelay({ teardown: context.teardown, dataDir: context.dataDir, port: relay.port });
    const upAt = performance.now();
    const rss = new RssSampler(relay.child.pid!);
    let recoverySeconds: number | string = 'none';
    try {
      await waitForConvergence({ clients, expected, deadlineMs: scale.deadlineMs });
      recoverySeconds = Math.round(performance.now() - upAt) / 1000;
    } catch (error) {
      failures.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const peakRssBytes = rss.stop();
    const storm = diffCounts(before, tally.counts());
    const refusedByRelay = await readUpgradesRefused(relay);
    if (!(await isRelayHealthy(relay))) failures.push(`${kind}: the relay is not healthy after the storm`);
    failures.push(...verifyDocuments(context, { clients, texts: await readDocuments(context, relay) }).map((failure) => `${kind}: ${failure}`));
    return {
      relay,
      failures,
      figures: {
        [`${kind}RecoverySeconds`]: recoverySeconds,
        [`${kind}OutageSeconds`]: Math.round(upAt - downAt) / 1000,
        [`${kind}PeakRssMb`]: toMegabytes(peakRssBytes),
        [`${kind}Attempts`]: storm.attempts,
        [`${kind}Refused`]: sumRefused(storm),
        [`${kind}RefusedByStatus`]: JSON.stringify(storm.refusedByStatus),
        [`${kind}RefusedByNewRelay`]: JSON.stringify(refusedByRelay),
        [`${kind}Unreachable`]: storm.unreachable,
      },
    };
  } finally {
    for (const client of clients) client.destroy();
  }
}

async function runStorm(scale: ChaosScale): Promise<CampaignReport> {
  const size = SCALES[scale];
  const teardown = new Teardown();
  const figures: Record<string, number | string> = { clients: size.clients, documents: size.documents };
  const failures: string[] = [];
  // y-websocket adds a process 'exit' listener per provider; a crowd of them is expected here.
  const maxListeners = process.getMaxListeners();
  process.setMaxListeners(maxListeners + size.clients + 2 * size.documents);
  try {
    const dataDir = await makeTempDir(teardown);
    const docIds = Array.from({ length: size.documents }, (_, index) => `storm-${index}`);
    const context: StormContext = { scale: size, teardown, dataDir, docIds, ledger: new TokenLedger() };
    let relay = await startStormRelay({ teardown, dataDir, port: 0 });
    await seedDocuments(context, relay);
    for (const kind of ['session', 'stock'] as const) {
      const round = await runRound(context, { kind, relay });
      relay = round.relay;
      Object.assign(figures, round.figures);
      failures.push(...round.failures);
    }
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  } finally {
    await teardown.run();
    process.setMaxListeners(maxListeners);
  }
  return { name: reconnectStorm.name, passed: failures.length === 0, figures, failures };
}

/** The campaign: restart the relay under every client at once, with the app's session and with stock clients. */
export const reconnectStorm: Campaign = {
  name: 'reconnect-storm',
  title: 'Relay restart under 1,000 connected clients (app session, then stock y-websocket)',
  run: runStorm,
};
