/**
 * Playwright fixtures: one real app server (relay + web, LevelDB in a temp dir) per worker,
 * and a watch that fails any test during which a page reported a CSP violation.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';

import { startApp, type AppProcess } from '../helpers/app-process';
import { findTokens } from '../helpers/token-leaks';
import { watchCspViolations } from '../helpers/csp-violations';

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

/** A document made through the app's API, with a token of every role. */
export interface SharedDoc {
  readonly docId: string;
  readonly ownerToken: string;
  readonly editorToken: string;
  readonly viewerToken: string;
}

/** POSTs JSON to the links API, as the app does. */
export async function postLinksApi<T>(baseUrl: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}/collab/api${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return (await response.json()) as T;
}

/** Creates a document the way the New document button does, and fetches its other links too. */
export async function createDoc(baseUrl: string): Promise<SharedDoc> {
  const created = await postLinksApi<{ docId: string; token: string }>(baseUrl, '/documents', {});
  const links = await postLinksApi<{ editorToken: string; viewerToken: string }>(baseUrl, '/links', { docId: created.docId, token: created.token });
  return { docId: created.docId, ownerToken: created.token, editorToken: links.editorToken, viewerToken: links.viewerToken };
}

/** Resets the links of `doc` through the API, as the owner's *Reset links* does: every link issued so far stops working. */
export async function resetLinks(baseUrl: string, doc: SharedDoc): Promise<void> {
  await postLinksApi(baseUrl, '/links/reset', { docId: doc.docId, token: doc.ownerToken });
}

/** The share link of `doc` for `role`. */
export function linkOf(baseUrl: string, doc: SharedDoc, role: 'owner' | 'editor' | 'viewer' = 'editor'): string {
  return `${baseUrl}/d/${doc.docId}#k=${doc[`${role}Token`]}`;
}

/** Opens a document by its link and waits until it is live. */
export async function openDocument(
  person: Person,
  baseUrl: string,
  doc: SharedDoc,
  role: 'owner' | 'editor' | 'viewer' = 'editor',
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

/** Per-test fixtures. */
export interface TestFixtures {
  /** Opt-out, for tests that provoke CSP violations on purpose: `test.use({ allowCspViolations: true })`. */
  allowCspViolations: boolean;
  /** Every CSP violation reported so far in this test, by any page of any browser context. */
  cspViolations: readonly string[];
  /** Fails the test if the app logged a share-link token while it ran (its access log is on). */
  noTokensInLogs: void;
}

export const test = base.extend<TestFixtures, { app: AppProcess; dataDir: string }>({
  allowCspViolations: [false, { option: true }],
  cspViolations: [
    async ({ browser, allowCspViolations }, use) => {
      const watch = watchCspViolations(browser);
      await use(watch.violations);
      watch.stop();
      if (!allowCspViolations && watch.violations.length > 0) {
        throw new Error(`the page reported Content Security Policy violations:\n${watch.violations.join('\n')}`);
      }
    },
    // Automatic: every test is watched, whether or not it asks for the list.
    { auto: true },
  ],
  noTokensInLogs: [
    async ({ app }, use) => {
      const before = app.output.length;
      await use();
      const leaked = findTokens(app.output.slice(before).join(''));
      if (leaked.length > 0) throw new Error(`the app logged ${leaked.length} share-link token(s), e.g. ${leaked[0]!.slice(0, 12)}…`);
    },
    { auto: true },
  ],
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
