/**
 * Waiting for a crowd of replicas to converge, by events rather than polling:
 * each client is re-checked whenever its connection, save state or document
 * changes, and the wait ends the moment none is left behind.
 */
import * as Y from 'yjs';

import type { StormClient } from './storm-clients';

/** Client id → clock: how much of each writer's changes a replica holds. */
export type StateVector = ReadonlyMap<number, number>;

/** The state vector of `doc` as it is now. */
export function readStateVector(doc: Y.Doc): StateVector {
  return Y.decodeStateVector(Y.encodeStateVector(doc));
}

/** The smallest state vector covering all of `vectors`: every change any of them has seen. */
export function mergeStateVectors(vectors: Iterable<StateVector>): StateVector {
  const merged = new Map<number, number>();
  for (const vector of vectors) {
    for (const [clientId, clock] of vector) merged.set(clientId, Math.max(clock, merged.get(clientId) ?? 0));
  }
  return merged;
}

/** True when `doc` holds every change `expected` names. */
export function hasAllChanges(doc: Y.Doc, expected: StateVector): boolean {
  for (const [clientId, clock] of expected) {
    if (Y.getState(doc.store, clientId) < clock) return false;
  }
  return true;
}

/**
 * Resolves once every client is caught up and holds every change of its
 * document's `expected` state vector, all at the same moment; rejects after
 * `deadlineMs`, saying how many were left behind.
 */
export function waitForConvergence(options: {
  clients: readonly StormClient[];
  expected: ReadonlyMap<string, StateVector>;
  deadlineMs: number;
}): Promise<void> {
  const { clients, expected, deadlineMs } = options;
  const behind = new Set<StormClient>();
  const unwatchers: (() => void)[] = [];
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      for (const unwatch of unwatchers) unwatch();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => {
      const notLive = [...behind].filter((client) => !client.isCaughtUp()).length;
      finish(new Error(`${behind.size} of ${clients.length} clients not converged after ${deadlineMs} ms (${notLive} not live and saved)`));
    }, deadlineMs);
    const check = (client: StormClient): void => {
      const target = expected.get(client.docId);
      if (!target) throw new Error(`no expected state for ${client.docId}`);
      // A client may fall behind again (a second close) after it was counted: track both ways.
      if (client.isCaughtUp() && hasAllChanges(client.doc, target)) behind.delete(client);
      else behind.add(client);
    };
    for (const client of clients) {
      check(client);
      unwatchers.push(
        client.watch(() => {
          check(client);
          if (behind.size === 0) finish();
        }),
      );
    }
    if (behind.size === 0) finish();
  });
}

/** `promise`, or a rejection naming `what` after `deadlineMs`. */
export async function withDeadline<T>(promise: Promise<T>, options: { deadlineMs: number; what: string }): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${options.deadlineMs} ms: ${options.what}`)), options.deadlineMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
