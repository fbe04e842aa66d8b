/**
 * Next.js proxy: gives every page request its own CSP nonce. The policy goes on
 * the request too, because that is where Next.js reads the nonce it stamps on its
 * inline scripts, and on the response, where the browser enforces it.
 */
import { NextResponse, type NextRequest } from 'next/server';

import { BASE_SECURITY_HEADERS, createNonce, pageContentSecurityPolicy } from './lib/security-headers';

export function proxy(request: NextRequest): NextResponse {
  const policy = pageContentSecurityPolicy(createNonce());
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('Content-Security-Policy', policy);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set('Content-Security-Policy', policy);
  // app-main sets these on every response already; repeating them keeps pages covered under a bare `next start`.
  for (const [name, value] of Object.entries(BASE_SECURITY_HEADERS)) response.headers.set(name, value);
  return response;
}

export const config = {
  // Everything that may be an HTML page, including 404s for any path. Left out: built assets,
  // which need no nonce, and the service worker scripts, which a page policy would bind.
  matcher: ['/((?!_next/static/|_next/image|sw\\.js$|swe-worker-[^/]*\\.js$).*)'],
};
