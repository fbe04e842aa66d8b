/** Probes for the security tests: what a browser still holds of one document. */
import type { Page } from '@playwright/test';

import { expect, type SharedDoc } from '../e2e/fixtures';

/** Everything of `docId` the page's browser keeps: its content, its page and its link. */
export interface LocalTraces {
  /** `indexedDB.databases()` lists the document's y-indexeddb database. */
  readonly hasDatabase: boolean;
  /** Cached requests for the document's page, in any cache, as `<cache name>: <url>`. */
  readonly cachedPages: readonly string[];
  /** The token the home page's recent list holds for the document. */
  readonly rememberedToken: string | null;
}

/** What is left once a document is forgotten. */
export const NO_TRACES: LocalTraces = { hasDatabase: false, cachedPages: [], rememberedToken: null };

/** Reads the traces of `doc` from inside `page` (the same origin as the app). */
export function localTraces(page: Page, doc: SharedDoc): Promise<LocalTraces> {
  return page.evaluate(async (docId) => {
    const databases = await indexedDB.databases();
    // The page itself and anything under or beside it (RSC payloads), whatever the query.
    const pagePath = new RegExp(`^/d/${docId}(?:[/.]|$)`);
    const cachedPages: string[] = [];
    for (const cacheName of await caches.keys()) {
      for (const request of await (await caches.open(cacheName)).keys()) {
        if (pagePath.test(new URL(request.url).pathname)) cachedPages.push(`${cacheName}: ${request.url}`);
      }
    }
    const recent = JSON.parse(localStorage.getItem('inkwell:recent-documents') ?? '[]') as { id?: unknown; token?: unknown }[];
    const token = recent.find((entry) => entry.id === docId)?.token;
    return {
      hasDatabase: databases.some((database) => database.name === `inkwell:${docId}`),
      cachedPages,
      rememberedToken: typeof token === 'string' ? token : null,
    };
  }, doc.docId);
}

/**
 * What `toMatchObject` expects once the page opened its document with `token`
 * and stored it for offline use: the database, the page in the app's own page
 * cache (other caches may hold it too) and the link.
 */
export function storedTraces(token: string): Record<keyof LocalTraces, unknown> {
  return {
    hasDatabase: true,
    cachedPages: expect.arrayContaining([expect.stringMatching(/^inkwell-pages: /)]),
    rememberedToken: token,
  };
}
