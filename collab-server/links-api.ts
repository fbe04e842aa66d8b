/**
 * The small HTTP API behind share links, next to the relay because the relay
 * owns the signing key and each document's link state:
 *
 *   POST <prefix>/api/documents      {}                 → 201 { docId, token }   (a new doc, editor link)
 *   POST <prefix>/api/links          { docId, token }   → 200 { role, editorToken?, viewerToken }
 *   POST <prefix>/api/links/reset    { docId, token }   → 200 { editorToken, viewerToken }   (editors only)
 *   POST <prefix>/api/links/check    { docId, token }   → 200 { ok, reason?, role? }
 *
 * Tokens travel in request bodies, never in URLs, so no access log records them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { newDocumentId } from '../lib/collab/new-document-id';
import { parseDocId, type DocId } from '../lib/ids';
import { API_SECURITY_HEADERS } from '../lib/security-headers';
import { verifyToken, type Role, type TokenCheck } from '../lib/tokens';
import { signToken } from '../lib/tokens.server';
import type { AbuseLimits } from './abuse-limits';
import type { Logger } from './logger';
import type { DocStore } from './storage/doc-store';

const MAX_BODY_BYTES = 8 * 1024;

/** Options of `createLinksApi`. */
export interface LinksApiOptions {
  readonly store: DocStore;
  readonly key: Uint8Array;
  readonly pathPrefix: string;
  readonly logger: Logger;
  readonly limits: AbuseLimits;
  /** Called once storage holds a reset of `docId`'s links at `resetAt`: links issued until then are void. */
  readonly onLinksReset: (docId: DocId, resetAt: number) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Builds the request handler; `handle` returns false for paths it does not own. */
export function createLinksApi(options: LinksApiOptions): {
  handle(request: IncomingMessage, response: ServerResponse, path: string): boolean;
} {
  const { store, key, pathPrefix, logger, limits } = options;

  const mint = (docId: DocId, role: Role, issuedAt: number): string => signToken({ key, docId, role, issuedAt });

  // Tokens minted now must postdate the last reset, even if the clock is coarse.
  const issueTime = async (docId: DocId): Promise<number> => Math.max(Date.now(), (await store.loadLinksResetAt(docId)) + 1);

  const checkToken = async (body: unknown): Promise<{ docId: DocId; check: TokenCheck }> => {
    const { docId: rawDocId, token } = (body ?? {}) as { docId?: unknown; token?: unknown };
    const docId = parseDocId(rawDocId);
    if (!docId) throw new HttpError(400, 'docId is missing or invalid');
    if (typeof token !== 'string') throw new HttpError(401, 'token is missing');
    const linksResetAt = await store.loadLinksResetAt(docId);
    return { docId, check: verifyToken(token, { key, docId, linksResetAt }) };
  };

  const requireValid = async (body: unknown): Promise<{ docId: DocId; role: Role }> => {
    const { docId, check } = await checkToken(body);
    if (!check.ok) throw new HttpError(check.reason === 'wrong-document' ? 403 : 401, check.reason);
    return { docId, role: check.claims.role };
  };

  const routes: Record<string, (body: unknown) => Promise<{ status: number; body: unknown }>> = {
    '/api/documents': async () => {
      const docId = parseDocId(newDocumentId());
      if (!docId) throw new Error('generated an invalid document id');
      return { status: 201, body: { docId, token: mint(docId, 'editor', await issueTime(docId)) } };
    },
    '/api/links': async (body) => {
      const { docId, role } = await requireValid(body);
      const issuedAt = await issueTime(docId);
      const editorToken = role === 'editor' ? mint(docId, 'editor', issuedAt) : undefined;
      return { status: 200, body: { role, editorToken, viewerToken: mint(docId, 'viewer', issuedAt) } };
    },
    '/api/links/reset': async (body) => {
      const { docId, role } = await requireValid(body);
      if (role !== 'editor') throw new HttpError(403, 'only editors can reset links');
      const resetAt = await issueTime(docId);
      await store.resetLinks(docId, resetAt);
      options.onLinksReset(docId, resetAt);
      logger.info({ docId }, 'share links reset');
      const issuedAt = resetAt + 1;
      return {
        status: 200,
        body: { editorToken: mint(docId, 'editor', issuedAt), viewerToken: mint(docId, 'viewer', issuedAt) },
      };
    },
    '/api/links/check': async (body) => {
      const { check } = await checkToken(body);
      return { status: 200, body: check.ok ? { ok: true, role: check.claims.role } : { ok: false, reason: check.reason } };
    },
  };

  return {
    handle(request, response, path) {
      if (!path.startsWith(`${pathPrefix}/api/`)) return false;
      const route = routes[path.slice(pathPrefix.length)];
      if (!route) return false;
      const reply = (status: number, body: unknown): void => {
        response.writeHead(status, { ...API_SECURITY_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        response.end(JSON.stringify(body));
      };
      if (request.method !== 'POST') {
        reply(405, { error: 'use POST' });
        return true;
      }
      if (!limits.tryAttempt(request.socket.remoteAddress ?? 'unknown')) {
        reply(429, { error: 'too many requests' });
        return true;
      }
      readJsonBody(request)
        .then(route)
        .then(
          (result) => reply(result.status, result.body),
          (error: unknown) => {
            if (error instanceof HttpError) return reply(error.status, { error: error.message });
            logger.error({ err: error }, 'links request failed');
            reply(500, { error: 'internal error' });
          },
        );
      return true;
    },
  };
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}
