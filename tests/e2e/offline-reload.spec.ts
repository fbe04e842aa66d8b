/** A visited document reloads and stays editable with the network gone (service worker + IndexedDB). */
import { bodyText, createDoc, expect, localCopyWritten, newPerson, openDocument, test } from './fixtures';

test('reloading a visited document while offline shows the local copy, and edits sync later', async ({ browser, app }) => {
  const doc = await createDoc(app.baseUrl);
  const writer = await newPerson(browser, 'Wanda', '#2b8a3e');
  await openDocument(writer, app.baseUrl, doc);
  // The page keeps itself for offline use once the service worker is active.
  await expect
    .poll(() => writer.page.evaluate(async () => (await caches.open('inkwell-pages')).keys().then((keys) => keys.length)))
    .toBeGreaterThan(0);
  await writer.page.getByLabel('Document body').click();
  await writer.page.keyboard.type('Written online.');
  await expect(writer.page.getByTestId('save-status')).toHaveText('All changes saved');
  // Saved on the relay is not yet written on this device: a reload aborts what is still on its way.
  expect(await localCopyWritten(writer, doc)).toBeGreaterThan(0);

  await writer.context.setOffline(true);
  await writer.page.reload();
  await expect(writer.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'offline');
  await expect.poll(() => bodyText(writer)).toBe('Written online.');
  await writer.page.getByLabel('Document body').click();
  await writer.page.keyboard.press('End');
  await writer.page.keyboard.type(' And offline.');
  await expect(writer.page.getByTestId('save-status')).toHaveText('Saving…');

  await writer.context.setOffline(false);
  await expect(writer.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
  await expect(writer.page.getByTestId('save-status')).toHaveText('All changes saved');
  const reader = await newPerson(browser, 'Rita', '#9c36b5');
  await openDocument(reader, app.baseUrl, doc);
  await expect.poll(() => bodyText(reader)).toBe('Written online. And offline.');
  await writer.context.close();
  await reader.context.close();
});
