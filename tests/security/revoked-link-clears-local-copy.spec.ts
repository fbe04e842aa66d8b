/**
 * Attack: keep reading a document after losing access. A viewer has it open when
 * the owner resets the links; the browser must not keep its copy for later.
 */
import { bodyText, createDoc, expect, newPerson, openDocument, resetLinks, test } from '../e2e/fixtures';
import { localTraces, NO_TRACES, storedTraces } from './local-traces';

test("resetting the links deletes an open viewer's offline copy, cached page and remembered link", async ({ browser, app }) => {
  const doc = await createDoc(app.baseUrl);
  const owner = await newPerson(browser, 'Olivia Owner', '#d9480f');
  await openDocument(owner, app.baseUrl, doc);
  await owner.page.getByLabel('Document body').click();
  await owner.page.keyboard.type('Only for people with the link.');
  await expect(owner.page.getByTestId('save-status')).toHaveText('All changes saved');

  const viewer = await newPerson(browser, 'Victor Viewer', '#1971c2');
  await openDocument(viewer, app.baseUrl, doc, 'viewer');
  await expect.poll(() => bodyText(viewer)).toBe('Only for people with the link.');
  await expect.poll(() => localTraces(viewer.page, doc)).toMatchObject(storedTraces(doc.viewerToken));

  await resetLinks(app.baseUrl, doc);
  await expect(viewer.page.getByTestId('access-message')).toHaveText('This link was reset; ask the owner for a new one.');
  await expect(viewer.page.getByLabel('Document body')).toHaveCount(0);
  await expect.poll(() => localTraces(viewer.page, doc)).toEqual(NO_TRACES);
  await owner.context.close();
  await viewer.context.close();
});
