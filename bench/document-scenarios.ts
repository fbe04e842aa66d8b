/**
 * The document-level scenarios, where what matters is the whole document rather
 * than a stream of deliveries:
 *   S4 cold load: a document built from many small updates, the server restarted
 *      (when it persists), then the time from connect to the complete document.
 *   S6 ingest: the whole editing trace pushed by one client as fast as the server
 *      acknowledges it (on disk for Inkwell), then cold-loaded and checked.
 * Both push real edits from the `automerge-paper` trace (CC BY 4.0, Martin
 * Kleppmann; tests/fixtures/README.md), one update per patch.
 */
import * as Y from 'yjs';

import type { TracePatch } from '../tests/helpers/editing-trace';
import { readClusterLog, type ClusterLogState } from './cluster-log';
import { DocClient, type AckMode, type DocEndpoint } from './doc-client';
import { startServer, type ServerSetup, type ServerUnderTest } from './servers';

/** How long a peer gets to write after its last client leaves, before it is restarted. */
const SETTLE_BEFORE_RESTART_MS = 2_000;
/** How long a load may take before the document counts as incomplete. */
const LOAD_TIMEOUT_MS = 5_000;
const ROOM = 'doc-scenario';

/** One client's load of the document. */
export interface LoadTiming {
  /** Connect → complete document, or NaN when it never completed. */
  readonly ms: number;
  readonly receivedChars: number;
  readonly isExact: boolean;
}

/** S4's result for one server. */
export interface ColdLoadResult {
  readonly updates: number;
  /** Whether the server was restarted between writing and loading (it persists). */
  readonly restarted: boolean;
  readonly expectedChars: number;
  readonly first: LoadTiming;
  readonly later: readonly LoadTiming[];
  /** Cluster kinds: what Redis and PostgreSQL held when the relay came back (the log folded into the snapshot row, or not). */
  readonly storedBeforeLoad?: ClusterLogState;
}

/** S6's result for one server. */
export interface IngestResult {
  readonly updates: number;
  readonly seconds: number;
  readonly updatesPerSecond: number;
  /** Acknowledged on disk (Inkwell's `saved`) rather than merely processed. */
  readonly isDurable: boolean;
  readonly restarted: boolean;
  readonly load: LoadTiming;
}

function ackModeOf(server: ServerUnderTest): AckMode {
  return server.acksSaved ? 'saved' : 'processed';
}

function endpointOf(server: ServerUnderTest): DocEndpoint {
  return { protocol: server.protocol, url: server.roomUrl(ROOM), room: ROOM };
}

async function timeLoad(server: ServerUnderTest, expected: string): Promise<LoadTiming> {
  const startedAt = performance.now();
  const client = await DocClient.open(endpointOf(server));
  let ms = NaN;
  try {
    await client.whenTextLength(expected.length, LOAD_TIMEOUT_MS);
    ms = performance.now() - startedAt;
  } catch {
    // Incomplete: reported through receivedChars.
  }
  const received = client.text.toString();
  client.close();
  return { ms: Math.round(ms * 100) / 100, receivedChars: received.length, isExact: received === expected };
}

// The client is the measuring instrument: its own first decode of a large update
// runs unoptimised code, which would charge whichever server happens to go first.
function warmUpClient(doc: Y.Doc): void {
  const state = Y.encodeStateAsUpdate(doc);
  for (let i = 0; i < 5; i++) Y.applyUpdate(new Y.Doc(), state);
}

/** What `writeThenRestart` leaves running. */
interface WrittenDocument {
  readonly server: ServerUnderTest;
  readonly expected: string;
  readonly updates: number;
  readonly pushSeconds: number;
  readonly isDurable: boolean;
  /** Cluster kinds: what Redis and PostgreSQL held when the server came back. */
  readonly storedBeforeLoad?: ClusterLogState;
  /** Stops the server, and the writer if it was kept connected. */
  stop(): Promise<void>;
}

/**
 * Pushes `patches`, then restarts the server if it persists. A server that only
 * keeps documents in memory may drop one when its last client leaves, so there
 * the writer stays connected while others load.
 */
async function writeThenRestart(setup: ServerSetup, patches: readonly TracePatch[], window: number): Promise<WrittenDocument> {
  let server = await startServer(setup);
  const isDurable = ackModeOf(server) === 'saved';
  const writer = await DocClient.open(endpointOf(server), ackModeOf(server));
  const startedAt = performance.now();
  const updates = await writer.push(patches, window);
  const pushSeconds = (performance.now() - startedAt) / 1000;
  const expected = writer.text.toString();
  warmUpClient(writer.doc);
  if (!server.persists) {
    const inMemory = server;
    const stop = async (): Promise<void> => {
      writer.close();
      await inMemory.stop();
    };
    return { server, expected, updates, pushSeconds, isDurable, stop };
  }
  writer.close();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_BEFORE_RESTART_MS));
  await server.stop();
  const storedBeforeLoad = setup.backing?.postgres ? await readClusterLog(setup.backing, ROOM) : undefined;
  server = await startServer(setup);
  const restarted = server;
  return { server, expected, updates, pushSeconds, isDurable, storedBeforeLoad, stop: () => restarted.stop() };
}

/** S4: build the document from `patches`, restart, time a first and `laterClients` later loads. */
export async function measureColdLoad(setup: ServerSetup, options: { patches: readonly TracePatch[]; laterClients: number }): Promise<ColdLoadResult> {
  const { laterClients } = options;
  const written = await writeThenRestart(setup, options.patches, 2_000);
  const { server, expected, updates, storedBeforeLoad } = written;
  try {
    const first = await timeLoad(server, expected);
    const later: LoadTiming[] = [];
    // When the first load came back incomplete, the document is lost; later clients would only wait out the timeout too.
    for (let i = 0; i < laterClients && first.isExact; i++) later.push(await timeLoad(server, expected));
    return { updates, restarted: server.persists, expectedChars: expected.length, first, later, ...(storedBeforeLoad && { storedBeforeLoad }) };
  } finally {
    await written.stop();
  }
}

/** S6: push every patch as fast as acknowledged, then restart and check the loaded text. */
export async function measureIngest(setup: ServerSetup, options: { patches: readonly TracePatch[]; expectedEnd: string }): Promise<IngestResult> {
  const written = await writeThenRestart(setup, options.patches, 2_000);
  const { server, expected, updates, pushSeconds, isDurable } = written;
  try {
    if (expected !== options.expectedEnd) throw new Error('the pushed trace does not end at endContent');
    const load = await timeLoad(server, expected);
    return {
      updates,
      seconds: Math.round(pushSeconds * 100) / 100,
      updatesPerSecond: Math.round(updates / pushSeconds),
      isDurable,
      restarted: server.persists,
      load,
    };
  } finally {
    await written.stop();
  }
}
