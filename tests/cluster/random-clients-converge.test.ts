/**
 * A property over three relay processes sharing Redis and PostgreSQL. Rule
 * (SPEC M2, with M1): whatever random edits clients attached to random relays
 * make, interleaved at random with the traffic between them, every client
 * ends with the same text and state vector, every edit is acknowledged, and
 * storage holds exactly that document.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { lazyClusterServers } from '../helpers/cluster';
import { clientContent, haveConverged, loadStoredContent, openTestCluster, spawnClusterRelay } from '../helpers/cluster-process';
import { Teardown, connectClient, waitForSaved, waitForSync, waitUntil, type TestClient } from '../helpers/relay';
import type { RelayProcess } from '../helpers/relay-process';

const RELAY_COUNT = 3;
/** Few runs: each opens a document on real processes; the seed fast-check prints replays a failure. */
const RUNS = 20;

const servers = lazyClusterServers();
const fileTeardown = new Teardown();
let relays: RelayProcess[] = [];
beforeAll(async () => {
  const started = await servers.get();
  relays = await Promise.all(Array.from({ length: RELAY_COUNT }, () => spawnClusterRelay(fileTeardown, started)));
});
afterAll(async () => {
  await fileTeardown.run();
  await servers.dispose();
});

/** One edit: by client `client` (modulo the clients there are), at a fraction of the text, then some turns of the event loop. */
interface Edit {
  readonly client: number;
  readonly kind: 'insert' | 'delete';
  readonly at: number;
  readonly text: string;
  readonly turns: number;
}

const editArbitrary: fc.Arbitrary<Edit> = fc.record({
  client: fc.nat({ max: 9 }),
  kind: fc.constantFrom('insert' as const, 'delete' as const),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  text: fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', 'é', '🙂'), minLength: 1, maxLength: 4 }),
  turns: fc.nat({ max: 3 }),
});

/** A client: the relay it attaches to, and after how many edits it joins (the first joins at once). */
interface ClientPlan {
  readonly relay: number;
  readonly joinsAfter: number;
}

const scenarioArbitrary = fc.record({
  clients: fc.array(fc.record({ relay: fc.nat({ max: RELAY_COUNT - 1 }), joinsAfter: fc.oneof(fc.constant(0), fc.nat({ max: 40 })) }), { minLength: 2, maxLength: 5 }),
  edits: fc.array(editArbitrary, { minLength: 1, maxLength: 40 }),
});

function applyEdit(client: TestClient, edit: Edit): void {
  const length = client.text.length;
  const at = Math.min(length, Math.floor(edit.at * (length + 1)));
  if (edit.kind === 'insert' || length === at) client.text.insert(at, edit.text);
  else client.text.delete(at, Math.min(edit.text.length, length - at));
}

/** Lets the sockets deliver what arrived, `turns` times, between two edits. */
async function yieldTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('[M2] random clients on random relay processes', () => {
  it('[M2][M1] converge to one text and state vector, all acknowledged and stored', async () => {
    const reader = await openTestCluster(fileTeardown, await servers.get());
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async ({ clients: plans, edits }) => {
        const docId = `random-${(run += 1)}`;
        const teardown = new Teardown();
        const clients: TestClient[] = [];
        // Late joiners open the document on relays that may not have it open yet, while the others edit.
        const join = (joining: readonly ClientPlan[]): void => {
          for (const plan of joining) clients.push(connectClient(teardown, relays[plan.relay]!, docId, { savedAcks: true }));
        };
        try {
          join([{ ...plans[0]!, joinsAfter: 0 }, ...plans.slice(1).filter((plan) => plan.joinsAfter === 0)]);
          await Promise.all(clients.map((client) => waitForSync(client)));
          for (const [index, edit] of edits.entries()) {
            if (index > 0) join(plans.slice(1).filter((plan) => plan.joinsAfter === index));
            applyEdit(clients[edit.client % clients.length]!, edit);
            await yieldTurns(edit.turns);
          }
          join(plans.slice(1).filter((plan) => plan.joinsAfter >= Math.max(1, edits.length)));
          await Promise.all(clients.map((client) => waitForSaved(client, 10_000)));
          await waitUntil(() => haveConverged(clients), { timeoutMs: 10_000, what: `${docId} converged` });
          expect(await loadStoredContent(reader, docId)).toEqual(clientContent(clients[0]!));
        } finally {
          await teardown.run();
        }
      }),
      { numRuns: RUNS },
    );
  }, 60_000);
});
