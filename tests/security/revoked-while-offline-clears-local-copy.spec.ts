/**
 * Attack: stay offline through a reset to keep the document. The relay refuses
 * the old link at the upgrade when the browser returns, without any 4403; the
 * session must ask why and delete its copy then.
 */
import { createDoc, expect, newPerson, openDocument, resetLinks, test } from '../e2e/fixtures';
import { localTraces, NO_TRACES, storedTraces } from './local-traces';

test('a browser that was offline during a reset deletes its copy once it is back online and refused', async ({ browser, app }) => {
  const doc = await createDoc(app.baseUrl);
  const person = await newPerson(browser, 'Rhea Returning', '#2b8a3e');
  await openDocument(person, app.baseUrl, doc);
  await person.page.getByLabel('Document body').click();
  await person.page.keyboard.type('Synced before going offline.');
  await expect(person.page.getByTestId('save-status')).toHaveText('All changes saved');
  await expect.poll(() => localTraces(person.page, doc)).toMatchObject(storedTraces(doc.editorToken));

  await person.context.setOffline(true);
  const badge = person.page.getByTestId('connection-status');
  await expect(badge).toHaveAttribute('data-state', 'offline');
  await resetLinks(app.baseUrl, doc);
  // Nothing can reach an offline browser: it still has everything, and keeps working.
  await expect(person.page.getByLabel('Document body')).toContainText('Synced before going offline.');
  expect(await localTraces(person.page, doc)).toMatchObject(storedTraces(doc.editorToken));

  await person.context.setOffline(false);
  await expect(person.page.getByTestId('access-message')).toHaveText('This link was reset; ask the owner for a new one.');
  await expect.poll(() => localTraces(person.page, doc)).toEqual(NO_TRACES);
  await person.context.close();
});
