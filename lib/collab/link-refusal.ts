/**
 * How the browser reads a share link the relay will not take. A refused upgrade
 * reaches the page as a bare close, so the session asks `links/check` why; only
 * an answer that no retry can change lets it forget its copy of the document.
 */
import type { TokenRefusal } from '../tokens';

/** What the page says once a link stopped working. */
export type RefusedAccess = 'link-reset' | 'denied';

// Every reason the relay gives: each is final for that token (a reset is never undone,
// a signature never starts matching). Keyed by `TokenRefusal`, so a new reason must be placed here.
const ACCESS_AFTER_REFUSAL = {
  missing: 'denied',
  malformed: 'denied',
  'bad-signature': 'denied',
  'wrong-document': 'denied',
  reset: 'link-reset',
} as const satisfies Record<TokenRefusal, RefusedAccess>;

/** What a session does after asking the relay about its link. */
export type LinkVerdict =
  /** The link is fine, or the answer says nothing: the close was an outage, a limit or a restart. */
  | { readonly kind: 'retry' }
  /** The link does not open the document. `isDefinite` when the reason is one known to be final. */
  | { readonly kind: 'refused'; readonly access: RefusedAccess; readonly isDefinite: boolean };

/** The verdict when the relay could not be asked (offline, unreachable, 5xx, 429). */
export const RETRY: LinkVerdict = { kind: 'retry' };

/** True when `reason` is a refusal that no retry changes. */
export function isDefiniteRefusal(reason: unknown): reason is TokenRefusal {
  return typeof reason === 'string' && Object.hasOwn(ACCESS_AFTER_REFUSAL, reason);
}

/**
 * Reads the body of a 200 answer from `links/check` (untrusted JSON). Only `ok: false`
 * is a refusal; a reason this client does not know still closes the page, but
 * is not taken as proof that the local copy must go.
 */
export function verdictOfCheck(answer: unknown): LinkVerdict {
  if (typeof answer !== 'object' || answer === null) return RETRY;
  const { ok, reason } = answer as { ok?: unknown; reason?: unknown };
  if (ok !== false) return RETRY;
  if (isDefiniteRefusal(reason)) return { kind: 'refused', access: ACCESS_AFTER_REFUSAL[reason], isDefinite: true };
  return { kind: 'refused', access: 'denied', isDefinite: false };
}

/**
 * Whether a close is worth asking the relay about. A socket that never opened may
 * have been refused at the upgrade, at any time in a session's life (a link reset
 * while the browser was offline is only found out on its return). One that opened
 * and synced was closed for another reason: a reset reaches it as 4403.
 */
export function shouldCheckLinkAfterClose(options: { hasSocketOpened: boolean; hasSynced: boolean }): boolean {
  return !options.hasSocketOpened || !options.hasSynced;
}

/**
 * Whether a refusal of `refusedToken` may delete this browser's copy of the document.
 * Not when the browser remembers another link for it: that link was accepted
 * later and may still work, and a crafted or mistyped link must not wipe a copy
 * (and any unsent offline edits) that a working link opened.
 */
export function mayForgetAfterRefusal(options: { refusedToken: string; rememberedToken: string | undefined }): boolean {
  return options.rememberedToken === undefined || options.rememberedToken === options.refusedToken;
}
