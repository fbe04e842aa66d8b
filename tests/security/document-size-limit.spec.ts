/**
 * Attack: paste without end until the document (and the disk) fills. Rule
 * (SPEC P13): past COLLAB_MAX_DOC_BYTES the relay refuses the change, and the
 * app says so where the save state shows, instead of "Saving…" forever.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startApp } from '../helpers/app-process';
import { bodyText, createDoc, expect, newPerson, openDocument, test } from '../e2e/fixtures';

test('[P13] a paste past the size limit is refused, and the page says the document has reached its size limit', async ({ browser }) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'inkwell-e2e-limit-'));
  const app = await startApp({ dataDir, env: { COLLAB_MAX_DOC_BYTES: '16384' } });
  try {
    const doc = await createDoc(app.baseUrl);
    const writer = await newPerson(browser, 'Wanda', '#9c36b5');
    await openDocument(writer, app.baseUrl, doc);
    await writer.page.getByLabel('Document body').click();
    await writer.page.keyboard.type('Small and saved.');
    await expect(writer.page.getByTestId('save-status')).toHaveText('All changes saved');

    await writer.page.evaluate((text) => {
      const data = new DataTransfer();
      data.setData('text/plain', text);
      document.querySelector('[aria-label="Document body"]')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, 'x'.repeat(20_000));
    await expect(writer.page.getByTestId('save-status')).toHaveText('This document has reached its size limit: new changes are not saved');
    await expect(writer.page.getByTestId('save-status')).toHaveAttribute('role', 'alert');

    const reader = await newPerson(browser, 'Rex', '#0c8599');
    await openDocument(reader, app.baseUrl, doc, 'viewer');
    await expect.poll(() => bodyText(reader)).toBe('Small and saved.');
    for (const person of [writer, reader]) await person.context.close();
  } finally {
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
