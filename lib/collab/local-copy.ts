/**
 * This browser's copy of a document, kept so it opens offline: the share-link
 * token in the recent list, the content in IndexedDB (y-indexeddb) and the page
 * in Cache Storage (the service worker's caches and the page's own). Forgetting
 * removes all three, when a link is refused for good or the person removes the
 * document from the home page.
 */
import { forgetDocument } from './recent-documents';

/** The IndexedDB database y-indexeddb keeps `docId` in. */
export function localDatabaseName(docId: string): string {
  return `inkwell:${docId}`;
}

/**
 * True when a cached request for `url` is `docId`'s page, with any query: the
 * HTML, and the RSC payloads the Next router fetches (`?_rsc=…`, `.rsc`, `.txt`,
 * segment paths). Doc ids never contain `.` or `/`, so no other document matches.
 */
export function isPageOfDocument(url: string, docId: string): boolean {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url, 'http://page.invalid').pathname);
  } catch {
    return false;
  }
  const page = `/d/${docId}`;
  return pathname === page || pathname.startsWith(`${page}/`) || pathname.startsWith(`${page}.`);
}

/**
 * Forgets `docId` in this browser. The remembered token goes at once (before
 * this returns), so a list re-read right after no longer offers the link; the
 * database and cached pages follow. Rejects, after trying all, if any deletion failed.
 * A tab that still has the database open is closed out of it (lib0 closes on `versionchange`).
 */
export async function forgetLocalCopy(docId: string): Promise<void> {
  forgetDocument(docId);
  const results = await Promise.allSettled([deleteDatabase(localDatabaseName(docId)), deleteCachedPages(docId)]);
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (failures.length > 0) throw new AggregateError(failures, `could not forget every local copy of ${docId}`);
}

function deleteDatabase(name: string): Promise<void> {
  if (typeof indexedDB === 'undefined') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(`could not delete IndexedDB database ${name}`));
  });
}

// Every cache, not only the one app/sw.ts names: @serwist/next's default routes
// keep RSC payloads and other same-origin responses in caches of their own.
async function deleteCachedPages(docId: string): Promise<void> {
  if (typeof caches === 'undefined') return;
  for (const cacheName of await caches.keys()) {
    const cache = await caches.open(cacheName);
    const requests = (await cache.keys()).filter((request) => isPageOfDocument(request.url, docId));
    // ignoreVary: RSC responses vary on router headers; every variant of this page goes.
    await Promise.all(requests.map((request) => cache.delete(request, { ignoreVary: true })));
  }
}
