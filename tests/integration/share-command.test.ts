/** `npm run share`: prints working links signed with the relay's own secret. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

import { Teardown, connectClient, makeTempDir, upgradeStatus, waitForSync } from '../helpers/relay';
import { spawnRelay } from '../helpers/relay-process';

const teardown = new Teardown();
afterEach(() => teardown.run());
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runShare(args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'collab-server/share-main.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, COLLAB_SECRET: '', ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

it('prints editor and viewer links that the running relay accepts, also after a reset', async () => {
  const dataDir = await makeTempDir(teardown);
  const relay = await spawnRelay(teardown, { COLLAB_DATA_DIR: dataDir, COLLAB_SECRET: '' });
  const editor = runShare(['shared-doc', '--role', 'editor', '--json'], { COLLAB_DATA_DIR: dataDir, PUBLIC_URL: 'https://docs.example' });
  expect(editor.status).toBe(0);
  const printed = JSON.parse(editor.stdout) as { url: string; token: string; role: string };
  expect(printed.role).toBe('editor');
  expect(printed.url).toBe(`https://docs.example/d/shared-doc#k=${printed.token}`);
  const client = connectClient(teardown, relay, 'shared-doc', { params: { token: printed.token } });
  await waitForSync(client);

  const viewer = runShare(['shared-doc', '--role', 'viewer'], { COLLAB_DATA_DIR: dataDir });
  expect(viewer.status).toBe(0);
  expect(viewer.stdout.trim()).toMatch(/^http:\/\/localhost:3000\/d\/shared-doc#k=v1\.[\w-]+\.[\w-]+$/);
  const viewerToken = viewer.stdout.trim().split('#k=')[1]!;
  expect(await upgradeStatus(`${relay.url}/other-doc?token=${viewerToken}`)).toBe(403);

  // Only an owner resets links; an operator recovers a document whose owner lost the link.
  const resetWith = (token: string) =>
    fetch(`http://127.0.0.1:${relay.port}/api/links/reset`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ docId: 'shared-doc', token }),
    });
  expect((await resetWith(printed.token)).status).toBe(403);
  const owner = runShare(['shared-doc', '--role', 'owner', '--json'], { COLLAB_DATA_DIR: dataDir });
  expect(owner.status).toBe(0);
  expect((await resetWith((JSON.parse(owner.stdout) as { token: string }).token)).status).toBe(200);
  expect(await upgradeStatus(`${relay.url}/shared-doc?token=${printed.token}`)).toBe(401);
  const afterReset = runShare(['shared-doc', '--role', 'editor', '--json'], { COLLAB_DATA_DIR: dataDir });
  const fresh = connectClient(teardown, relay, 'shared-doc', { params: { token: (JSON.parse(afterReset.stdout) as { token: string }).token } });
  await waitForSync(fresh);
});

it.each([
  [['bad/id', '--role', 'viewer'], 'invalid document id'],
  [['doc', '--role', 'admin'], '--role must be one of'],
  [['doc'], '--role must be one of'],
  [[], 'exactly one document id'],
])('refuses %j with a usage message', async (args, message) => {
  const result = runShare(args, { COLLAB_DATA_DIR: await makeTempDir(teardown) });
  expect(result.status).toBe(2);
  expect(result.stderr).toContain(message);
  expect(result.stderr).toContain('usage: npm run share');
});
