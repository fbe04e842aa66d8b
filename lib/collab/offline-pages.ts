/**
 * Keeps the page the user is on available offline. The service worker caches
 * navigations it serves, but the very first visit happens before it controls
 * the page, so the page stores its own HTML once the worker is ready.
 */

/** Cache shared with the service worker (app/sw.ts) for page navigations. */
export const OFFLINE_PAGES_CACHE = 'inkwell-pages';

/**
 * Stores the current page for offline use, once a service worker is active.
 * `isWanted` is asked before and after storing: a document's link may be
 * refused while its page is fetched, and its copies deleted (see local-copy.ts).
 */
export async function keepCurrentPageOffline(options: { isWanted?: () => boolean } = {}): Promise<void> {
  const isWanted = options.isWanted ?? (() => true);
  if (typeof window === 'undefined' || !('serviceWorker' in navigator) || !('caches' in window)) return;
  if (!navigator.onLine) return;
  await navigator.serviceWorker.ready;
  const cache = await caches.open(OFFLINE_PAGES_CACHE);
  const url = window.location.href.split('#')[0] ?? window.location.href;
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok || response.redirected || !isWanted()) return;
  await cache.put(url, response);
  // The put lands only once the body is read: a deletion that began meanwhile may have
  // scanned the cache too early, so undo it here.
  if (!isWanted()) await cache.delete(url);
}
