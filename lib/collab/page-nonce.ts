/**
 * The CSP nonce the current document was served with, for code that must add a
 * <style> element at run time (TipTap's base styles). Read from the page itself,
 * not passed down from the server: after a client-side navigation the server
 * renders with a new request's nonce, but the browser still enforces the first one.
 */

/** The nonce Next.js stamped on this document's scripts, or undefined outside a browser or without one. */
export function currentPageNonce(): string | undefined {
  if (typeof document === 'undefined') return undefined;
  // Browsers blank the nonce attribute once parsed (so CSS selectors cannot read it) and keep it in `.nonce`.
  const script = document.querySelector<HTMLScriptElement>('script[nonce]');
  return script?.nonce || undefined;
}
