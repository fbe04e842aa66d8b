import withSerwistInit from '@serwist/next';

const withSerwist = withSerwistInit({
  swSrc: 'app/sw.ts',
  swDest: 'public/sw.js',
  // Off: pages are kept by the worker's navigation route (as a page loads) and by
  // the page itself (lib/collab/offline-pages.ts), which stops once its document's
  // copy is forgotten. This option's helper re-fetches the current page into a cache
  // of its own on every history change and every return online, so a page whose link
  // was just refused would be stored again (lib/collab/local-copy.ts).
  cacheOnNavigation: false,
  // Never reload the page when the network returns: the editor reconnects by itself.
  reloadOnOnline: false,
});

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
};

export default withSerwist(nextConfig);
