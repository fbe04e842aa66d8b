/**
 * Attacks on the signing secret and the stored documents: a guessable
 * COLLAB_SECRET, a secret file or data dir other local users can read.
 * Rules (SPEC K1–K3): COLLAB_SECRET must be the base64url of at least 32
 * random bytes; a secret file readable by group or others stops start-up; the
 * data dir and LevelDB are created owner-only (0700).
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

import { Teardown, connectClient, makeTempDir, waitForSync } from '../helpers/relay';
import { runRelayExpectingFailure, spawnRelay } from '../helpers/relay-process';

const teardown = new Teardown();
afterEach(() => teardown.run());
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('[K1] COLLAB_SECRET', () => {
  it.each([
    ['a passphrase', 'correct horse battery staple and more words'],
    ['too few bytes', Buffer.alloc(31, 7).toString('base64url')],
    ['a repeated pattern', 'A'.repeat(64)],
    ['not base64url', `${'+/'.repeat(30)}==`],
  ])('refuses %s and says how to make a good one', async (_name, value) => {
    const { code, stderr } = await runRelayExpectingFailure({ COLLAB_SECRET: value, COLLAB_DATA_DIR: await makeTempDir(teardown) });
    expect(code).toBe(1);
    expect(stderr).toContain('COLLAB_SECRET');
    expect(stderr).toContain('npm run secret');
  });

  it('`npm run secret` prints a value the relay accepts', async () => {
    const printed = spawnSync(process.execPath, ['--import', 'tsx', 'collab-server/secret-main.ts'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(printed.status).toBe(0);
    const secret = printed.stdout.trim();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    const relay = await spawnRelay(teardown, { COLLAB_SECRET: secret, COLLAB_DATA_DIR: await makeTempDir(teardown) });
    expect(relay.url).toMatch(/^ws:/);
  });
});

describe('[K2] the secret file', () => {
  it('stops start-up when group or others can read it, naming the file and the fix', async () => {
    const dataDir = await makeTempDir(teardown);
    await writeFile(join(dataDir, 'secret'), `${Buffer.alloc(32, 9).toString('base64url')}\n`);
    await chmod(join(dataDir, 'secret'), 0o644);
    const { code, stderr } = await runRelayExpectingFailure({ COLLAB_SECRET: '', COLLAB_DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(stderr).toContain(join(dataDir, 'secret'));
    expect(stderr).toContain('chmod 600');
  });
});

describe('[K3] the data dir', () => {
  it('is created owner-only, LevelDB inside it too', async () => {
    const parent = await makeTempDir(teardown);
    const dataDir = join(parent, 'fresh', 'data');
    const relay = await spawnRelay(teardown, { COLLAB_DATA_DIR: dataDir });
    const client = connectClient(teardown, relay, 'private');
    await waitForSync(client);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, 'leveldb'))).mode & 0o777).toBe(0o700);
  });

  it('keeps an existing data dir as its owner set it', async () => {
    const dataDir = await makeTempDir(teardown);
    await mkdir(join(dataDir, 'leveldb'), { mode: 0o750 });
    await chmod(join(dataDir, 'leveldb'), 0o750);
    await spawnRelay(teardown, { COLLAB_DATA_DIR: dataDir });
    expect((await stat(join(dataDir, 'leveldb'))).mode & 0o777).toBe(0o750);
  });
});
