/**
 * Attack: on a shared computer, the next person opens what the last one removed
 * from the home page. Removing a document must leave nothing of it behind.
 */
import { createDoc, expect, newPerson, openDocument, test } from '../e2e/fixtures';
import { localTraces, NO_TRACES, storedTraces } from './local-traces';

test("removing a document from the home page's list deletes its offline copy, cached page and link", async ({ browser, app }) => {
  const doc = await createDoc(app.baseUrl);
  const person = await newPerson(browser, 'Sam Shared', '#5f3dc4');
  await openDocument(person, app.baseUrl, doc);
  await person.page.getByLabel('Document title').fill('Private notes');
  await person.page.getByLabel('Document body').click();
  await person.page.keyboard.type('Not for the next person at this desk.');
  await expect(person.page.getByTestId('save-status')).toHaveText('All changes saved');
  await expect.poll(() => localTraces(person.page, doc)).toMatchObject(storedTraces(doc.editorToken));

  await person.page.goto(app.baseUrl);
  await expect(person.page.locator('.recent-list li')).toHaveCount(1);
  await person.page.getByRole('button', { name: 'Remove Private notes from the list' }).click();
  await expect(person.page.getByText('Documents you open appear here.')).toBeVisible();
  await expect.poll(() => localTraces(person.page, doc)).toEqual(NO_TRACES);
  await person.context.close();
});
