/** Calls to the relay's share-link API (see collab-server/links-api.ts); tokens go in bodies, never URLs. */
import type { Role } from '../roles';

const API_BASE = '/collab/api';

async function post<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${API_BASE}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    cache: 'no-store',
  });
  const json = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(json.error ?? `request failed with ${response.status}`);
  return json;
}

/** Creates a document; returns its id and the creator's owner token. */
export function createDocument(): Promise<{ docId: string; token: string }> {
  return post('/documents', {});
}

/** Tokens of the links a role may share: owners get all three, editors editor and viewer, viewers viewer. */
export interface ShareTokens {
  readonly ownerToken?: string;
  readonly editorToken?: string;
  readonly viewerToken: string;
}

/** The links this token may share, and the role it carries. */
export function fetchShareTokens(docId: string, token: string): Promise<ShareTokens & { role: Role }> {
  return post('/links', { docId, token });
}

/** Resets every link of the document (owners only); returns the new links. */
export function resetShareLinks(docId: string, token: string): Promise<Required<ShareTokens>> {
  return post('/links/reset', { docId, token });
}

/** Why a token does not open the document, or `ok`. */
export function checkShareToken(docId: string, token: string): Promise<{ ok: boolean; reason?: string; role?: Role }> {
  return post('/links/check', { docId, token });
}
