/**
 * The service worker: precaches the app shell and keeps visited pages (network
 * first), so a visited document opens and is editable offline; its content
 * comes from IndexedDB and syncs when the network returns. Built by @serwist/next.
 */
import { defaultCache } from '@serwist/next/worker';
import { ExpirationPlugin, NetworkFirst, Serwist, type PrecacheEntry, type SerwistGlobalConfig } from 'serwist';

import { OFFLINE_PAGES_CACHE } from '../lib/collab/offline-pages';

declare global {
  interface WorkerGlobalScope extends SerwistGlobalConfig {
    __SW_MANIFEST: (PrecacheEntry | string)[] | undefined;
  }
}

declare const self: ServiceWorkerGlobalScope;

const serwist = new Serwist({
  precacheEntries: self.__SW_MANIFEST,
  skipWaiting: true,
  clientsClaim: true,
  navigationPreload: true,
  runtimeCaching: [
    // Page navigations (documents, home): network first, the last good copy when offline.
    {
      matcher: ({ request, sameOrigin }) => sameOrigin && request.mode === 'navigate',
      handler: new NetworkFirst({
        cacheName: OFFLINE_PAGES_CACHE,
        networkTimeoutSeconds: 5,
        plugins: [new ExpirationPlugin({ maxEntries: 200, maxAgeSeconds: 60 * 60 * 24 * 30 })],
      }),
    },
    ...defaultCache,
  ],
});

serwist.addEventListeners();
