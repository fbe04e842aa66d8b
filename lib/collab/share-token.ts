/**
 * The share-link token in the browser. It lives in the URL fragment
 * (`/d/<id>#k=<token>`): browsers never send fragments to servers, so the
 * token stays out of request lines, `Referer` headers and access logs.
 */
import { isRole, type Role } from '../roles';

const FRAGMENT_KEY = 'k';

/** The token in the current page's fragment, or `null`. */
export function readTokenFromLocation(): string | null {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const token = params.get(FRAGMENT_KEY);
  return token && /^[A-Za-z0-9._-]+$/.test(token) ? token : null;
}

/** Puts `token` in the current URL's fragment without a navigation. */
export function writeTokenToLocation(token: string): void {
  const url = new URL(window.location.href);
  url.hash = `${FRAGMENT_KEY}=${token}`;
  window.history.replaceState(window.history.state, '', url);
}

/** The link to a document for a token, on this page's origin. */
export function documentLink(docId: string, token: string): string {
  return `${window.location.origin}/d/${docId}#${FRAGMENT_KEY}=${token}`;
}

/**
 * The role a token claims, for the UI only (read-only editor, "View only").
 * The relay verifies the signature and enforces the role whatever this says.
 */
export function roleOfToken(token: string): Role | null {
  try {
    const payload = token.split('.')[1] ?? '';
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { r?: unknown };
    return isRole(claims.r) ? claims.r : null;
  } catch {
    return null;
  }
}
