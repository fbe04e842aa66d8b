/**
 * `npm run share -- <docId> --role owner|editor|viewer [--json]`: prints a working
 * share link for a document, signed with the same secret as the relay
 * (COLLAB_SECRET, or the secret file in COLLAB_DATA_DIR). Base URL: PUBLIC_URL.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

import { parseDocId } from '../lib/ids';
import { isRole, ROLES } from '../lib/tokens';
import { shareLink, signToken } from '../lib/tokens.server';
import { ConfigError, parseRelayEnv } from './config';
import { loadOrCreateSecret } from './secret';

const USAGE = `usage: npm run share -- <docId> --role ${Object.keys(ROLES).join('|')} [--json]`;

function fail(message: string): never {
  console.error(`inkwell share: ${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs<{ options: { role: { type: 'string' }; json: { type: 'boolean' } }; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ options: { role: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const [rawDocId, ...extra] = parsed.positionals;
  if (!rawDocId || extra.length > 0) fail('give exactly one document id');
  const docId = parseDocId(rawDocId);
  if (!docId) fail(`invalid document id ${JSON.stringify(rawDocId)} (1–128 of A-Z a-z 0-9 _ -)`);
  const role = parsed.values.role;
  if (!isRole(role)) fail(`--role must be one of ${Object.keys(ROLES).join(', ')}`);

  let env: ReturnType<typeof parseRelayEnv>;
  try {
    env = parseRelayEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const publicUrl = z.url({ protocol: /^https?$/ }).safeParse(process.env.PUBLIC_URL || 'http://localhost:3000');
  if (!publicUrl.success) fail(`PUBLIC_URL=${JSON.stringify(process.env.PUBLIC_URL)}: must be an http(s) URL`);

  const dataDir = resolve(env.COLLAB_DATA_DIR);
  // With COLLAB_SECRET set (always, in cluster mode) the data dir is never read: don't leave an empty one behind.
  if (!env.COLLAB_SECRET) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = await loadOrCreateSecret({ dataDir, fromEnv: env.COLLAB_SECRET });
  // Issued now: after any earlier reset of this document's links, so it works until the next one.
  const token = signToken({ key, docId, role, issuedAt: Date.now() });
  const url = shareLink({ baseUrl: publicUrl.data, docId, token });
  console.log(parsed.values.json ? JSON.stringify({ url, token, role }) : url);
}

main().catch((error: unknown) => {
  console.error('inkwell share:', error instanceof Error ? error.message : error);
  process.exit(1);
});
