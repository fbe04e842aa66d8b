/**
 * A compaction that crashes between its steps (SPEC M4), as a process of its
 * own: joins the cluster, compacts one document under the lease, and SIGKILLs
 * itself once the snapshot is stored, before the log is trimmed. Exits 1 if
 * the compaction ends without reaching that step.
 *
 *   node --import tsx tests/helpers/compact-until-killed.ts <redis url> <database url> <doc id>
 */
import { openCluster } from '../../collab-server/cluster/cluster';
import { createSilentLogger } from '../../collab-server/logger';
import { parseDocId } from '../../lib/ids';

const [redisUrl, databaseUrl, rawDocId] = process.argv.slice(2);
const docId = parseDocId(rawDocId);
if (!redisUrl || !databaseUrl || !docId) {
  console.error('usage: compact-until-killed.ts <redis url> <database url> <doc id>');
  process.exit(2);
}
const cluster = await openCluster({
  redisUrl,
  databaseUrl,
  logger: createSilentLogger(),
  // Only the compaction asked for below.
  compactAfterUpdates: Number.MAX_SAFE_INTEGER,
  compactAfterBytes: Number.MAX_SAFE_INTEGER,
  onCompactionStep: (_docId, step) => {
    if (step === 'snapshot-stored') process.kill(process.pid, 'SIGKILL');
  },
});
const outcome = await cluster.store.compactor.compactNow(docId);
console.error(`the compaction ended without storing a snapshot: ${JSON.stringify(outcome)}`);
process.exit(1);
