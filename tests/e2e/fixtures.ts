/** Playwright fixtures: one real app server (relay + web, LevelDB in a temp dir) per worker. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';

import { startApp, type AppProcess } from '../helpers/app-process';

export { expect };

export interface Person {
  readonly context: BrowserContext;
  readonly page: Page;
}

/** A new browser context with a remembered identity, so the name prompt does not appear. */
export async function newPerson(browser: Browser, name: string, color: string): Promise<Person> {
  const context = await browser.newContext();
  await context.addInitScript(
    ([savedName, savedColor]) => {
      if (!localStorage.getItem('inkwell:identity')) {
        localStorage.setItem('inkwell:identity', JSON.stringify({ name: savedName, color: savedColor }));
      }
    },
    [name, color],
  );
  const page = await context.newPage();
  return { context, page };
}

/** A document made through the app's API, with its editor and viewer tokens. */
export interface SharedDoc {
  readonly docId: string;
  readonly editorToken: string;
  readonly viewerToken: string;
}

/** Creates a document the way the New document button does, and fetches its viewer link too. */
export async function createDoc(baseUrl: string): Promise<SharedDoc> {
  const created = (await (await fetch(`${baseUrl}/collab/api/documents`, { method: 'POST' })).json()) as { docId: string; token: string };
  const links = (await (
    await fetch(`${baseUrl}/collab/api/links`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ docId: created.docId, token: created.token }),
    })
  ).json()) as { viewerToken: string };
  return { docId: created.docId, editorToken: created.token, viewerToken: links.viewerToken };
}

/** Resets the links of `doc` through the API, as an editor's *Reset links* does: every link issued so far stops working. */
export async function resetLinks(baseUrl: string, doc: SharedDoc): Promise<void> {
  const response = await fetch(`${baseUrl}/collab/api/links/reset`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ docId: doc.docId, token: doc.editorToken }),
  });
  if (!response.ok) throw new Error(`resetting the links failed with ${response.status}`);
}

/** The share link of `doc` for `role`. */
export function linkOf(baseUrl: string, doc: SharedDoc, role: 'editor' | 'viewer' = 'editor'): string {
  return `${baseUrl}/d/${doc.docId}#k=${role === 'editor' ? doc.editorToken : doc.viewerToken}`;
}

/** Opens a document by its link and waits until it is live. */
export async function openDocument(
  person: Person,
  baseUrl: string,
  doc: SharedDoc,
  role: 'editor' | 'viewer' = 'editor',
): Promise<void> {
  await person.page.goto(linkOf(baseUrl, doc, role));
  await expect(person.page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live');
  await expect(person.page.getByLabel('Document body')).toBeVisible();
}

/** The editor's text content, without remote carets' name labels. */
export function bodyText(person: Person): Promise<string> {
  return person.page.getByLabel('Document body').evaluate((element) => {
    const copy = element.cloneNode(true) as HTMLElement;
    for (const caret of copy.querySelectorAll('.collaboration-carets__caret')) caret.remove();
    return (copy.textContent ?? '').trim();
  });
}

/**
 * Resolves once the page's local copy (y-indexeddb) holds every change made so
 * far. A read-only transaction starts only after the read-write ones created
 * before it on the same store have committed, whichever connection made them;
 * a reload aborts writes that have not, so tests that reload wait for this first.
 */
export function localCopyWritten(person: Person, doc: SharedDoc): Promise<number> {
  return person.page.evaluate(
    (name) =>
      new Promise<number>((resolve, reject) => {
        const opening = indexedDB.open(name);
        opening.onerror = () => reject(opening.error);
        opening.onsuccess = () => {
          const db = opening.result;
          const counting = db.transaction('updates', 'readonly').objectStore('updates').count();
          counting.onerror = () => reject(counting.error);
          counting.onsuccess = () => {
            db.close();
            resolve(counting.result);
          };
        };
      }),
    `inkwell:${doc.docId}`,
  );
}

/** The text of each paragraph, without remote carets' name labels. */
export function paragraphTexts(person: Person): Promise<string[]> {
  return person.page.locator('.prose p').evaluateAll((elements) =>
    elements.map((element) => {
      const copy = element.cloneNode(true) as HTMLElement;
      for (const caret of copy.querySelectorAll('.collaboration-carets__caret')) caret.remove();
      return (copy.textContent ?? '').trim();
    }),
  );
}

export const test = base.extend<object, { app: AppProcess; dataDir: string }>({
  dataDir: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const dir = await mkdtemp(join(tmpdir(), 'inkwell-e2e-'));
      await use(dir);
      await rm(dir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
  app: [
    async ({ dataDir }, use) => {
      const app = await startApp({ dataDir });
      await use(app);
      await app.stop();
    },
    { scope: 'worker', timeout: 60_000 },
  ],
});
