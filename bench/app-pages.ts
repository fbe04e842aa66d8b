/** Browser-bench helpers: a document made through the app's API, opened live by named people in Chromium. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';

import { startApp } from '../tests/helpers/app-process';
import { CHROMIUM_ARGS, chromiumExecutablePath } from '../tests/helpers/chromium';

/** Creates a document as the New document button does; returns its id and the owner's token. */
export async function createDocument(baseUrl: string): Promise<{ docId: string; token: string }> {
  const created = await fetch(`${baseUrl}/collab/api/documents`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  return (await created.json()) as { docId: string; token: string };
}

/**
 * Opens `url` in one browser context per name (each with that identity, so no
 * prompt appears, and `initScript` run before the app's own) and waits until
 * each page is live with its editor shown.
 */
export async function openAsPeople(browser: Browser, url: string, names: readonly string[], initScript?: () => void): Promise<Page[]> {
  const pages: Page[] = [];
  for (const name of names) {
    const context = await browser.newContext();
    await context.addInitScript((savedName) => {
      localStorage.setItem('inkwell:identity', JSON.stringify({ name: savedName, color: '#1971c2' }));
    }, name);
    if (initScript) await context.addInitScript(initScript);
    const page = await context.newPage();
    await page.goto(url);
    await page.getByTestId('connection-status').and(page.locator('[data-state="live"]')).waitFor();
    await page.getByLabel('Document body').waitFor();
    pages.push(page);
  }
  return pages;
}

/**
 * Starts the real app on a temp data dir, opens one new document as a typist
 * and a watcher, runs `measure`, and stops everything, whatever happens.
 */
export async function withTypistAndWatcher<T>(
  measure: (pages: { typist: Page; watcher: Page }) => Promise<T>,
  initScript?: () => void,
): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'inkwell-bench-'));
  const app = await startApp({ dataDir });
  const browser = await chromium.launch({ executablePath: chromiumExecutablePath(), args: CHROMIUM_ARGS });
  try {
    const { docId, token } = await createDocument(app.baseUrl);
    const [typist, watcher] = (await openAsPeople(browser, `${app.baseUrl}/d/${docId}#k=${token}`, ['Typist', 'Watcher'], initScript)) as [Page, Page];
    return await measure({ typist, watcher });
  } finally {
    await browser.close();
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
