/** In-process relays in cluster mode over test Redis and PostgreSQL servers; closed at teardown. */
import { randomBytes } from 'node:crypto';

import { openCluster, type Cluster, type ClusterOptions } from '../../collab-server/cluster/cluster';
import { createSilentLogger } from '../../collab-server/logger';
import { createRelay, type CreateRelayOptions } from '../../collab-server/server';
import type { ClusterServers } from './cluster';
import { tokenIssuer, type Teardown, type TestRelay } from './relay';

/** A relay in cluster mode, with its part of the cluster. */
export type ClusterTestRelay = TestRelay & { readonly cluster: Cluster };

/** Starts a relay on 127.0.0.1:0 sharing `servers` with every other relay started so. */
export async function startClusterRelay(
  teardown: Teardown,
  servers: ClusterServers,
  options: { secret: Uint8Array; cluster?: Partial<ClusterOptions> } & Omit<Partial<CreateRelayOptions>, 'store' | 'feed' | 'secret'>,
): Promise<ClusterTestRelay> {
  const { cluster: clusterOptions, secret, ...relayOptions } = options;
  const cluster = await openCluster({
    redisUrl: servers.redis.url,
    databaseUrl: servers.postgres.url,
    logger: relayOptions.logger ?? createSilentLogger(),
    compactAfterUpdates: relayOptions.compactAfterUpdates ?? 10_000,
    compactAfterBytes: relayOptions.compactAfterBytes ?? 4 * 1024 * 1024,
    ...clusterOptions,
  });
  const relay = await createRelay({ heartbeatIntervalMs: 60_000, ...relayOptions, secret, store: cluster.store, feed: cluster.feed, host: '127.0.0.1', port: 0 });
  teardown.add(() => relay.close());
  return Object.assign(relay, { secret, tokenFor: tokenIssuer(secret), cluster });
}

/** A fresh signing key shared by the relays of one test. */
export function clusterSecret(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}
