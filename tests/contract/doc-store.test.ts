/** Runs the `DocStore` contract against every store: memory, and LevelDB in a fresh temp dir per test. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openLevelStore } from '../../collab-server/storage/leveldb';
import { createMemoryStore } from '../../collab-server/storage/memory';
import { registerDocStoreContract } from './doc-store.contract';

registerDocStoreContract(
  'memory',
  async () => ({
    open: async () => createMemoryStore(),
    dispose: async () => {},
  }),
  { isPersistent: false },
);

registerDocStoreContract(
  'leveldb',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inkwell-doc-store-'));
    return {
      open: () => openLevelStore({ dir }),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { isPersistent: true },
);
