/**
 * Attack: wipe someone's offline copy (and any edits not yet sent) with a link.
 * Anyone can craft `/d/<docId>#k=<junk>` for a document they know the id of; the
 * refusal must not delete what this browser opened with a working link.
 */
import { bodyText, createDoc, expect, localCopyWritten, newPerson, openDocument, test } from '../e2e/fixtures';
import { localTraces, storedTraces } from './local-traces';

test('a crafted link to a document this browser keeps is refused, and the copy still opens offline', async ({ browser, app }) => {
  const doc = await createDoc(app.baseUrl);
  const person = await newPerson(browser, 'Vera Victim', '#c2255c');
  await openDocument(person, app.baseUrl, doc);
  await person.page.getByLabel('Document title').fill('Field notes');
  await person.page.getByLabel('Document body').click();
  await person.page.keyboard.type('Written with a working link.');
  await expect(person.page.getByTestId('save-status')).toHaveText('All changes saved');
  expect(await localCopyWritten(person, doc)).toBeGreaterThan(0);
  await expect.poll(() => localTraces(person.page, doc)).toMatchObject(storedTraces(doc.editorToken));

  // Home first: the crafted link differs only in its fragment, and must load as a page of its own.
  await person.page.goto(app.baseUrl);
  await person.page.goto(`${app.baseUrl}/d/${doc.docId}#k=v1.e30.bm90LWEtc2lnbmF0dXJl`);
  await expect(person.page.getByTestId('access-message')).toHaveText(
    'This link does not open this document. Check that you copied all of it.',
  );

  // The working link is still the remembered one, and it opens the copy with no network at all.
  await person.context.setOffline(true);
  await person.page.goto(app.baseUrl);
  await person.page.getByRole('link', { name: 'Field notes' }).click();
  await expect(person.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'offline');
  await expect.poll(() => bodyText(person)).toBe('Written with a working link.');
  expect(await localTraces(person.page, doc)).toMatchObject(storedTraces(doc.editorToken));
  await person.context.close();
});
