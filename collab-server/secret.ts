/**
 * The server secret that signs share links: `COLLAB_SECRET` when set (the
 * base64url of at least 32 random bytes, checked by config.ts), otherwise one
 * generated on first start and kept in the data dir (mode 0600), so links
 * survive restarts. A secret file that others can read is refused: anyone who
 * reads it can mint an owner link to every document.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const SECRET_FILE = 'secret';

/** Bytes of a generated secret, and the least a configured one must have. */
export const SECRET_BYTES = 32;

/** Raised when the secret file is unsafe or unusable; start-up stops with its message. */
export class SecretFileError extends Error {
  readonly code = 'secret-file';

  constructor(message: string) {
    super(message);
    this.name = 'SecretFileError';
  }
}

/** A new secret, as `COLLAB_SECRET` and the secret file hold it. */
export function generateSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** Returns the signing key for `dataDir`, creating and saving one if none exists. */
export async function loadOrCreateSecret(options: { dataDir: string; fromEnv?: Uint8Array }): Promise<Uint8Array> {
  if (options.fromEnv) return options.fromEnv;
  const path = join(options.dataDir, SECRET_FILE);
  const existing = await readSecretFile(path);
  if (existing) return existing;
  const secret = generateSecret();
  // `wx`: never overwrite a secret another process wrote meanwhile.
  await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  // The mode given to writeFile is filtered by the umask; make sure it is exactly 0600.
  await chmod(path, 0o600);
  return new Uint8Array(Buffer.from(secret, 'base64url'));
}

async function readSecretFile(path: string): Promise<Uint8Array | null> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if ((mode & 0o077) !== 0) {
    throw new SecretFileError(
      `${path} can be read or written by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); ` +
        `anyone who reads it can open every document. Run: chmod 600 ${path}`,
    );
  }
  const stored = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
  if (stored.length < SECRET_BYTES) throw new SecretFileError(`${path} holds fewer than ${SECRET_BYTES} bytes`);
  return new Uint8Array(stored);
}
