/** Minting share-link tokens; server side only (the relay and the `share` command). */
import type { DocId } from './ids';
import { TOKEN_VERSION, signaturePart, type Role } from './tokens';

/** Signs a token for `docId` and `role`, issued at `issuedAt` (ms). */
export function signToken(options: { key: Uint8Array; docId: DocId; role: Role; issuedAt: number }): string {
  const payload = Buffer.from(JSON.stringify({ d: options.docId, r: options.role, iat: options.issuedAt })).toString('base64url');
  const signedPart = `${TOKEN_VERSION}.${payload}`;
  return `${signedPart}.${signaturePart(signedPart, options.key)}`;
}

/** The share link of a document for a token: the token rides in the fragment, which browsers never send. */
export function shareLink(options: { baseUrl: string; docId: DocId; token: string }): string {
  return `${options.baseUrl.replace(/\/+$/, '')}/d/${options.docId}#k=${options.token}`;
}
