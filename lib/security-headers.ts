/**
 * Security headers shared by the web app (proxy.ts, app-main) and the relay's
 * own HTTP endpoints, so both sides send the same values. Pure: no Node-only
 * imports, because Next.js's proxy imports it too.
 *
 * Rules (tests/security/ names each test after the one it checks):
 *   H1 Every response, page, static file or relay endpoint, carries Referrer-Policy: no-referrer,
 *      X-Content-Type-Options: nosniff and a Permissions-Policy denying every feature but clipboard-write.
 *   H2 The relay's data endpoints (/healthz, /metrics, <prefix>/api/*, refused upgrades) carry
 *      Content-Security-Policy: default-src 'none'; frame-ancestors 'none'.
 *   C1 Every HTML page carries a CSP whose nonce is new on every response and is on each of its scripts.
 *   C2 A script without that nonce (injected inline script, inline event handler, stale nonce) does not run,
 *      and the browser reports the violation.
 *   C3 No other page can frame the app's pages (frame-ancestors 'none').
 *   C4 A page served offline from the service worker's cache is still under its CSP.
 */

/** A header set as name → value, ready for `setHeader` or `Headers.set`. */
export type SecurityHeaders = Readonly<Record<string, string>>;

// Browser features the app never uses are denied to it and to any frame (only names Chromium
// knows: it logs an error for each unknown one, and tests/security checks there is none). The
// Share dialog copies links with navigator.clipboard.writeText, so clipboard-write
// stays allowed for the app's own origin; nothing reads the clipboard.
const PERMISSIONS_POLICY = [
  'accelerometer=()',
  'autoplay=()',
  'camera=()',
  'clipboard-read=()',
  'clipboard-write=(self)',
  'display-capture=()',
  'encrypted-media=()',
  'fullscreen=()',
  'geolocation=()',
  'gyroscope=()',
  'hid=()',
  'idle-detection=()',
  'magnetometer=()',
  'microphone=()',
  'midi=()',
  'payment=()',
  'picture-in-picture=()',
  'publickey-credentials-get=()',
  'screen-wake-lock=()',
  'serial=()',
  'usb=()',
  'xr-spatial-tracking=()',
].join(', ');

/** Sent on every response, pages, static files and relay endpoints alike. */
export const BASE_SECURITY_HEADERS: SecurityHeaders = {
  // Share tokens live in the URL fragment, which browsers never put in a Referer; this also keeps doc ids out of it.
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Permissions-Policy': PERMISSIONS_POLICY,
};

/** The policy of responses that are data, never documents: nothing may load, nothing may frame them. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** Headers of the relay's JSON and text endpoints (/healthz, /metrics, /collab/api/*). */
export const API_SECURITY_HEADERS: SecurityHeaders = {
  ...BASE_SECURITY_HEADERS,
  'Content-Security-Policy': API_CONTENT_SECURITY_POLICY,
};

/**
 * The Content-Security-Policy of an HTML page served with `nonce`. Next.js reads
 * the nonce back from this header on the request and stamps it on its own scripts.
 */
export function pageContentSecurityPolicy(nonce: string): string {
  const directives: Record<string, string> = {
    'default-src': "'none'",
    // Same-origin bundles plus the inline bootstrap scripts Next.js marks with this request's nonce.
    // No 'strict-dynamic': every script the app loads is its own, so nonce'd scripts need not load others from elsewhere.
    'script-src': `'self' 'nonce-${nonce}'`,
    // <style> and <link> elements: the app's stylesheets and TipTap's injected base styles (it is given the nonce).
    'style-src': `'self' 'nonce-${nonce}'`,
    // Style attributes must stay open: ProseMirror writes remote selections as style="background-color: …",
    // and server-rendered React style props (avatars, colour swatches) arrive as attributes. CSS alone cannot
    // send data anywhere, because images, fonts and connections below are same-origin only.
    'style-src-attr': "'unsafe-inline'",
    'img-src': "'self'",
    'font-src': "'self'",
    // 'self' covers ws:/wss: to the same host and port (CSP3), which is where the relay socket lives.
    'connect-src': "'self'",
    'worker-src': "'self'",
    'manifest-src': "'self'",
    'object-src': "'none'",
    'base-uri': "'none'",
    'form-action': "'self'",
    'frame-ancestors': "'none'",
  };
  return Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');
}

/** A fresh nonce: 128 random bits, base64 (the alphabet Next.js accepts in `'nonce-…'`). */
export function createNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}
