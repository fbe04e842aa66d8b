/**
 * The small HTTP API behind share links, next to the relay because the relay
 * owns the signing key and each document's link state:
 *
 *   POST <prefix>/api/documents      {}                 → 201 { docId, token }          (a new doc, owner link)
 *   POST <prefix>/api/links          { docId, token }   → 200 { role, ownerToken?, editorToken?, viewerToken }
 *   POST <prefix>/api/links/reset    { docId, token }   → 200 { ownerToken, editorToken, viewerToken }   (owners only)
 *   POST <prefix>/api/links/check    { docId, token }   → 200 { ok, reason?, role? }
 *
 * Tokens travel in request bodies, never in URLs, so no access log records them.
 * Only `Content-Type: application/json` is accepted: a browser sends that type
 * cross-site only after a CORS preflight, which this API never grants, so no
 * other site can make a visitor's browser spend the visitor's budget.
 *
 * Minting and resetting the links of one document run one at a time, on a
 * clock that never goes back: a token minted before a reset is issued no later
 * than the reset time and so is void, whatever the order the requests finish in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { newDocumentId } from '../lib/collab/new-document-id';
import { parseDocId, type DocId } from '../lib/ids';
import { ROLES, type Role } from '../lib/roles';
import { API_SECURITY_HEADERS } from '../lib/security-headers';
import { verifyToken, type TokenCheck } from '../lib/tokens';
import { signToken } from '../lib/tokens.server';
import type { ClientKeyResolver } from './client-address';
import { KeyedLock } from './keyed-lock';
import type { KeyedRateLimiter } from './abuse-limits';
import type { Logger } from './logger';
import type { DocStore } from './storage/doc-store';

const MAX_BODY_BYTES = 8 * 1024;

/** Options of `createLinksApi`. */
export interface LinksApiOptions {
  readonly store: DocStore;
  readonly key: Uint8Array;
  readonly pathPrefix: string;
  readonly logger: Logger;
  /** This API's own per-client budget, apart from the upgrades'. */
  readonly limiter: KeyedRateLimiter;
  readonly clientKeyOf: ClientKeyResolver;
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

type Route = (body: unknown) => Promise<{ status: number; body: unknown }>;

/** Builds the request handler; `handle` returns false for paths it does not own. */
export function createLinksApi(options: LinksApiOptions): {
  handle(request: IncomingMessage, response: ServerResponse, path: string): boolean;
} {
  const { store, key, pathPrefix, logger, limiter, clientKeyOf } = options;
  const docLocks = new KeyedLock<DocId>();
  const clock = monotonicClock();

  const mint = (docId: DocId, role: Role, issuedAt: number): string => signToken({ key, docId, role, issuedAt });

  const mintAll = (docId: DocId, roles: readonly Role[], issuedAt: number): Partial<Record<`${Role}Token`, string>> =>
    Object.fromEntries(roles.map((role) => [`${role}Token`, mint(docId, role, issuedAt)]));

  // Checked inside the document's lock, so a reset queued before cannot be missed.
  const requireValid = async (docId: DocId, token: string): Promise<{ role: Role; linksResetAt: number }> => {
    const linksResetAt = await store.loadLinksResetAt(docId);
    const check = verifyToken(token, { key, docId, linksResetAt });
    if (!check.ok) throw new HttpError(check.reason === 'wrong-document' ? 403 : 401, check.reason);
    return { role: check.claims.role, linksResetAt };
  };

  const routes: Record<string, Route> = {
    '/api/documents': async () => {
      const docId = parseDocId(newDocumentId());
      if (!docId) throw new Error('generated an invalid document id');
      return { status: 201, body: { docId, token: mint(docId, 'owner', clock.now()) } };
    },
    '/api/links': async (body) => {
      const { docId, token } = parseTokenBody(body);
      return docLocks.run(docId, async () => {
        const { role, linksResetAt } = await requireValid(docId, token);
        const issuedAt = Math.max(clock.now(), linksResetAt + 1);
        return { status: 200, body: { role, ...mintAll(docId, ROLES[role].mayShare, issuedAt) } };
      });
    },
    '/api/links/reset': async (body) => {
      const { docId, token } = parseTokenBody(body);
      const resetAt = await docLocks.run(docId, async () => {
        const { role, linksResetAt } = await requireValid(docId, token);
        if (!ROLES[role].canResetLinks) throw new HttpError(403, 'only the owner can reset links');
        // Not before any token minted so far (the clock never goes back), and never back in time.
        return store.resetLinks(docId, Math.max(clock.now(), linksResetAt + 1));
      });
      options.onLinksReset(docId, resetAt);
      logger.info({ docId }, 'share links reset');
      return { status: 200, body: mintAll(docId, ROLES.owner.mayShare, resetAt + 1) };
    },
    '/api/links/check': async (body) => {
      const { docId, token } = parseTokenBody(body);
      const check: TokenCheck = verifyToken(token, { key, docId, linksResetAt: await store.loadLinksResetAt(docId) });
      return { status: 200, body: check.ok ? { ok: true, role: check.claims.role } : { ok: false, reason: check.reason } };
    },
  };

  return {
    handle(request, response, path) {
      if (!path.startsWith(`${pathPrefix}/api/`)) return false;
      const route = routes[path.slice(pathPrefix.length)];
      if (!route) return false;
      const reply = (status: number, body: unknown): void => {
        response.writeHead(status, { ...API_SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
        response.end(JSON.stringify(body));
      };
      if (request.method !== 'POST') {
        reply(405, { error: 'use POST' });
        return true;
      }
      if (!isJsonContentType(request.headers['content-type'])) {
        reply(415, { error: 'send Content-Type: application/json' });
        return true;
      }
      if (!limiter.tryTake(clientKeyOf(request))) {
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

function parseTokenBody(body: unknown): { docId: DocId; token: string } {
  const { docId: rawDocId, token } = (body ?? {}) as { docId?: unknown; token?: unknown };
  const docId = parseDocId(rawDocId);
  if (!docId) throw new HttpError(400, 'docId is missing or invalid');
  if (typeof token !== 'string' || token.length === 0) throw new HttpError(401, 'token is missing');
  return { docId, token };
}

/** `application/json`, with or without parameters such as `charset=utf-8`. */
function isJsonContentType(header: string | undefined): boolean {
  return header?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

// Milliseconds since the epoch, never less than any value it returned before,
// so a reset cannot be dated before a token this process already minted.
function monotonicClock(): { now(): number } {
  let last = 0;
  return {
    now() {
      last = Math.max(last, Date.now());
      return last;
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
    return JSON.parse(Buffer.from(Buffer.concat(chunks)).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}
