/**
 * Attack: make the browser delete a document it may keep. A relay that is down,
 * or that turns the browser away for making too many requests, says nothing about
 * the link: the session must retry, never delete.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startApp, type AppProcess } from '../helpers/app-process';
import { upgradeStatus } from '../helpers/relay';
import { bodyText, createDoc, expect, localCopyWritten, newPerson, openDocument, test, type Person, type SharedDoc } from '../e2e/fixtures';
import { localTraces, storedTraces } from './local-traces';

/** Runs `body` against an app of its own in a temp data dir, so it may be killed or rate-limited. */
async function withOwnApp(body: (app: AppProcess, dataDir: string) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'inkwell-security-outage-'));
  const app = await startApp({ dataDir, env });
  try {
    await body(app, dataDir);
  } finally {
    if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Opens a new document, writes in it, and waits until the browser holds all of it. */
async function openAndStore(person: Person, baseUrl: string, text: string): Promise<SharedDoc> {
  const doc = await createDoc(baseUrl);
  await openDocument(person, baseUrl, doc);
  await person.page.getByLabel('Document body').click();
  await person.page.keyboard.type(text);
  await expect(person.page.getByTestId('save-status')).toHaveText('All changes saved');
  // Reloads abort IndexedDB writes still on their way; these tests reload.
  expect(await localCopyWritten(person, doc)).toBeGreaterThan(0);
  await expect.poll(() => localTraces(person.page, doc)).toMatchObject(storedTraces(doc.editorToken));
  return doc;
}

test('a relay that is down deletes nothing: the page opens from its copy, and goes live when the relay returns', async ({ browser }) => {
  await withOwnApp(async (first, dataDir) => {
    const person = await newPerson(browser, 'Ola Outage', '#e67700');
    const doc = await openAndStore(person, first.baseUrl, 'Kept through the outage.');
    first.child.kill('SIGKILL');
    await first.exited;

    // A fresh page has not synced, and its socket never opens: it asks about its link, the
    // question fails, and only then does the badge count down to the next attempt.
    await person.page.reload();
    const badge = person.page.getByTestId('connection-status');
    await expect(badge).toHaveAttribute('data-state', 'reconnecting');
    await expect.poll(() => bodyText(person)).toBe('Kept through the outage.');
    expect(await localTraces(person.page, doc)).toMatchObject(storedTraces(doc.editorToken));

    const second = await startApp({ dataDir, port: first.port });
    try {
      // Going offline and back reconnects at once instead of waiting out the backoff.
      await person.context.setOffline(true);
      await person.context.setOffline(false);
      await expect(badge).toHaveAttribute('data-state', 'live');
      expect(await localTraces(person.page, doc)).toMatchObject(storedTraces(doc.editorToken));
    } finally {
      await second.stop();
    }
    await person.context.close();
  });
});

test('a refused upgrade whose link check is answered 429 deletes nothing', async ({ browser }) => {
  await withOwnApp(async (app) => {
    const person = await newPerson(browser, 'Lim Limited', '#0c8599');
    const doc = await openAndStore(person, app.baseUrl, 'Kept through the rate limit.');
    await person.context.setOffline(true);
    const badge = person.page.getByTestId('connection-status');
    await expect(badge).toHaveAttribute('data-state', 'offline');

    // Spend this address's budgets for the minute, upgrades' and the links API's (separate):
    // the browser's next upgrade and its link check both get 429 (the check's token is valid;
    // only the limit answers).
    while ((await upgradeStatus(`ws://127.0.0.1:${app.port}/collab/${doc.docId}`)) !== 429);
    const check = { docId: doc.docId, token: doc.editorToken };
    let status = 200;
    while (status !== 429) {
      const response = await fetch(`${app.baseUrl}/collab/api/links/check`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(check),
      });
      status = response.status;
      await response.body?.cancel();
    }

    await person.context.setOffline(false);
    await expect(badge).toHaveAttribute('data-state', 'reconnecting');
    await expect(person.page.getByTestId('access-message')).toHaveCount(0);
    expect(await localTraces(person.page, doc)).toMatchObject(storedTraces(doc.editorToken));

    // Still limited: a reload cannot reach the relay either, and opens from the copy.
    await person.page.reload();
    await expect(badge).toHaveAttribute('data-state', 'reconnecting');
    await expect.poll(() => bodyText(person)).toBe('Kept through the rate limit.');
    expect(await localTraces(person.page, doc)).toMatchObject(storedTraces(doc.editorToken));
    await person.context.close();
    // Budgets that come back slowly (one request every 20 s), so none returns while the test looks.
  }, { COLLAB_MAX_CONNECT_ATTEMPTS_PER_MINUTE: '3', COLLAB_MAX_API_REQUESTS_PER_MINUTE: '3' });
});
