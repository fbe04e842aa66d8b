/**
 * Capability tokens carried by share links. A token names one document and a
 * role and is signed by the server (HMAC-SHA256); no accounts are involved.
 *
 * Format: `v1.<base64url JSON claims>.<base64url HMAC-SHA256 of "v1.<claims>">`.
 * Claims: `{ d: docId, r: role, iat: issued-at ms }`. A document's links can be
 * reset: tokens issued at or before its `linksResetAt` stop working.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import { parseDocId, type DocId } from './ids';
import { isRole, type Role } from './roles';

export { ROLES, isRole, type Role } from './roles';

/** The claims inside a valid token. */
export interface TokenClaims {
  readonly docId: DocId;
  readonly role: Role;
  /** Issued-at, milliseconds since the epoch. */
  readonly issuedAt: number;
}

/** Why a token was refused; each maps to one HTTP status at the edge. */
export type TokenRefusal = 'missing' | 'malformed' | 'bad-signature' | 'wrong-document' | 'reset';

/** The result of checking a token for one document. */
export type TokenCheck = { readonly ok: true; readonly claims: TokenClaims } | { readonly ok: false; readonly reason: TokenRefusal };

export const TOKEN_VERSION = 'v1';

/** The HMAC of a token's signed part. */
export function signaturePart(signedPart: string, key: Uint8Array): string {
  return createHmac('sha256', key).update(signedPart).digest('base64url');
}

/**
 * Checks a token for `docId`: format, signature (constant time), document and,
 * when `linksResetAt` is given, reset generation. Without it the caller checks
 * `isVoidedByReset` once it knows the reset time: the relay learns it with the
 * document, which it loads only for a token that passed the other checks.
 * Pure apart from hashing; the key is passed in.
 */
export function verifyToken(
  token: string | null | undefined,
  options: { key: Uint8Array; docId: DocId; linksResetAt?: number },
): TokenCheck {
  if (!token) return { ok: false, reason: 'missing' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== TOKEN_VERSION) return { ok: false, reason: 'malformed' };
  const [version, payload, signature] = parts as [string, string, string];
  const expected = Buffer.from(signaturePart(`${version}.${payload}`, options.key), 'base64url');
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  const claims = parseClaims(payload);
  if (!claims) return { ok: false, reason: 'malformed' };
  if (claims.docId !== options.docId) return { ok: false, reason: 'wrong-document' };
  if (options.linksResetAt !== undefined && isVoidedByReset(claims, options.linksResetAt)) return { ok: false, reason: 'reset' };
  return { ok: true, claims };
}

/** True when a reset of the document's links at `linksResetAt` (ms) voids the token with `claims`. */
export function isVoidedByReset(claims: TokenClaims, linksResetAt: number): boolean {
  return claims.issuedAt <= linksResetAt;
}

function parseClaims(payload: string): TokenClaims | null {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const { d, r, iat } = raw as { d?: unknown; r?: unknown; iat?: unknown };
  const docId = parseDocId(d);
  if (!docId || !isRole(r) || typeof iat !== 'number' || !Number.isSafeInteger(iat)) return null;
  return { docId, role: r, issuedAt: iat };
}
