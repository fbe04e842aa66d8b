/**
 * The server secret that signs share links: `COLLAB_SECRET` when set, otherwise
 * one generated on first start and kept in the data dir (mode 0600), so links
 * survive restarts.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const SECRET_FILE = 'secret';
const SECRET_BYTES = 32;

/** Returns the signing key for `dataDir`, creating and saving one if none exists. */
export async function loadOrCreateSecret(options: { dataDir: string; fromEnv?: string }): Promise<Uint8Array> {
  if (options.fromEnv) return new Uint8Array(Buffer.from(options.fromEnv, 'utf8'));
  const path = join(options.dataDir, SECRET_FILE);
  try {
    const stored = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
    if (stored.length >= SECRET_BYTES) return new Uint8Array(stored);
    throw new Error(`${path} holds fewer than ${SECRET_BYTES} bytes`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(SECRET_BYTES);
  // `wx`: never overwrite a secret another process wrote meanwhile.
  await writeFile(path, `${secret.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
  return new Uint8Array(secret);
}
