/** Offline editing and merge, saved state through a relay crash, and no duplicated content. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startApp } from '../helpers/app-process';
import { bodyText, createDoc, expect, linkOf, newPerson, openDocument, paragraphTexts, test } from './fixtures';

test('both sides edit offline, then merge with nothing lost and nothing duplicated', async ({ browser, app }) => {
  const doc = await createDoc(app.baseUrl);
  const alice = await newPerson(browser, 'Alice', '#d9480f');
  const bob = await newPerson(browser, 'Bob', '#1971c2');
  await openDocument(alice, app.baseUrl, doc);
  await openDocument(bob, app.baseUrl, doc);
  await alice.page.getByLabel('Document body').click();
  await alice.page.keyboard.type('Shared start.');
  await expect.poll(() => bodyText(bob)).toBe('Shared start.');

  for (const person of [alice, bob]) {
    await person.context.setOffline(true);
    await expect(person.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'offline');
  }
  await alice.page.keyboard.press('Enter');
  await alice.page.keyboard.type('Alice wrote this offline.');
  await bob.page.getByLabel('Document body').click();
  await bob.page.keyboard.press('Control+Home');
  await bob.page.keyboard.type('Bob offline: ');
  await expect(alice.page.getByTestId('save-status')).toHaveText('Saving…');
  await expect(bob.page.getByTestId('save-status')).toHaveText('Saving…');
  expect(await bodyText(alice)).not.toContain('Bob offline');
  expect(await bodyText(bob)).not.toContain('Alice wrote');

  for (const person of [alice, bob]) await person.context.setOffline(false);
  for (const person of [alice, bob]) {
    await expect(person.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
  }
  await expect.poll(() => bodyText(bob)).toContain('Alice wrote this offline.');
  await expect.poll(() => bodyText(alice)).toContain('Bob offline: ');
  expect(await bodyText(alice)).toBe(await bodyText(bob));
  for (const person of [alice, bob]) await expect(person.page.getByTestId('save-status')).toHaveText('All changes saved');

  const carol = await newPerson(browser, 'Carol', '#2b8a3e');
  await openDocument(carol, app.baseUrl, doc);
  await expect.poll(() => bodyText(carol)).toBe(await bodyText(alice));
  expect(await paragraphTexts(carol)).toEqual(['Bob offline: Shared start.', 'Alice wrote this offline.']);
  for (const person of [alice, bob, carol]) await person.context.close();
});

test('opening the same new document in 5 tabs leaves it empty', async ({ browser, app }) => {
  const doc = await createDoc(app.baseUrl);
  const person = await newPerson(browser, 'Tabby', '#5f3dc4');
  const pages = [person.page, ...(await Promise.all([1, 2, 3, 4].map(() => person.context.newPage())))];
  await Promise.all(pages.map((page) => page.goto(linkOf(app.baseUrl, doc))));
  for (const page of pages) {
    await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live');
    await expect(page.locator('.prose p')).toHaveCount(1);
    await expect(page.locator('.prose')).toHaveText('');
    await expect(page.locator('.prose p.is-editor-empty')).toHaveAttribute('data-placeholder', 'Start writing…');
  }
  const fresh = await newPerson(browser, 'Fresh', '#0c8599');
  await openDocument(fresh, app.baseUrl, doc);
  await expect(fresh.page.locator('.prose p')).toHaveCount(1);
  await expect(fresh.page.locator('.prose')).toHaveText('');
  await person.context.close();
  await fresh.context.close();
});

test('"All changes saved" survives kill -9 of the relay', async ({ browser }) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'inkwell-e2e-crash-'));
  const first = await startApp({ dataDir });
  try {
    const doc = await createDoc(first.baseUrl);
    const writer = await newPerson(browser, 'Writer', '#c2255c');
    await openDocument(writer, first.baseUrl, doc);
    await writer.page.getByLabel('Document title').fill('Crash-proof');
    await writer.page.getByLabel('Document body').click();
    await writer.page.keyboard.type('Every word of this is on disk. DROP');
    await expect(writer.page.getByTestId('save-status')).toHaveText('All changes saved');
    // A deletion leaves the state vector unchanged; "saved" must still wait for it.
    for (let i = 0; i < 5; i++) await writer.page.keyboard.press('Backspace');
    await expect(writer.page.getByTestId('save-status')).toHaveText('All changes saved');
    await writer.context.close();

    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startApp({ dataDir });
    try {
      const reader = await newPerson(browser, 'Reader', '#e67700');
      await openDocument(reader, second.baseUrl, doc);
      await expect.poll(() => bodyText(reader)).toBe('Every word of this is on disk.');
      await expect(reader.page.getByLabel('Document title')).toHaveValue('Crash-proof');
      await reader.context.close();
    } finally {
      await second.stop();
    }
  } finally {
    if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});
