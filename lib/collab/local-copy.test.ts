/**
 * Unit tests of forgetting a document's local copy, against in-memory stand-ins
 * for `localStorage`, Cache Storage and IndexedDB stubbed onto globalThis.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { MemoryStorage } from '../../tests/helpers/memory-storage';
import { forgetLocalCopy, isPageOfDocument, localDatabaseName } from './local-copy';
import { loadRecentDocuments, rememberDocument } from './recent-documents';

const DOC = 'AbCdEfGhIjKlMnOpQrStUv';
const OTHER = 'AbCdEfGhIjKlMnOpQrStUvX';
const ORIGIN = 'http://127.0.0.1:3000';

/** Cache Storage as a map of cache name to request URLs; deletion by exact URL. */
class MemoryCaches {
  readonly caches = new Map<string, string[]>();
  failOpen = false;

  async keys(): Promise<string[]> {
    return [...this.caches.keys()];
  }

  async open(name: string): Promise<{ keys(): Promise<Request[]>; delete(request: Request): Promise<boolean> }> {
    if (this.failOpen) throw new Error('cache storage is unavailable');
    const urls = this.caches.get(name) ?? [];
    this.caches.set(name, urls);
    return {
      keys: async () => urls.map((url) => new Request(url)),
      delete: async (request) => {
        const index = urls.indexOf(request.url);
        if (index >= 0) urls.splice(index, 1);
        return index >= 0;
      },
    };
  }
}

/** IndexedDB reduced to a set of database names; requests succeed on the next microtask. */
class MemoryIndexedDb {
  readonly names = new Set<string>();

  deleteDatabase(name: string): { onsuccess: (() => void) | null; onerror: (() => void) | null; error: null } {
    const request = { onsuccess: null as (() => void) | null, onerror: null as (() => void) | null, error: null };
    queueMicrotask(() => {
      this.names.delete(name);
      request.onsuccess?.();
    });
    return request;
  }
}

let memoryCaches: MemoryCaches;
let memoryIndexedDb: MemoryIndexedDb;

beforeEach(() => {
  vi.stubGlobal('localStorage', new MemoryStorage());
  memoryCaches = new MemoryCaches();
  memoryIndexedDb = new MemoryIndexedDb();
  vi.stubGlobal('caches', memoryCaches);
  vi.stubGlobal('indexedDB', memoryIndexedDb);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('isPageOfDocument', () => {
  it('matches the page with or without a query, and its RSC payloads', () => {
    for (const url of [
      `${ORIGIN}/d/${DOC}`,
      `${ORIGIN}/d/${DOC}?_rsc=1x2y3`,
      `${ORIGIN}/d/${DOC}/`,
      `${ORIGIN}/d/${DOC}.rsc`,
      `${ORIGIN}/d/${DOC}.txt?_rsc=abc`,
      `${ORIGIN}/d/${DOC}/__PAGE__.segment.rsc`,
      `${ORIGIN}/d/${DOC}#k=v1.a.b`,
      `${ORIGIN}/d/%41bCdEfGhIjKlMnOpQrStUv`,
    ]) {
      expect(isPageOfDocument(url, DOC), url).toBe(true);
    }
  });

  it('does not match other documents or other pages', () => {
    for (const url of [
      `${ORIGIN}/d/${OTHER}`,
      `${ORIGIN}/d/${DOC.slice(0, -1)}`,
      `${ORIGIN}/`,
      `${ORIGIN}/?d=${DOC}`,
      `${ORIGIN}/x/d/${DOC}`,
      `${ORIGIN}/_next/static/chunks/app/d/${DOC}.js`,
      `${ORIGIN}/d/%E0%A4%A`,
    ]) {
      expect(isPageOfDocument(url, DOC), url).toBe(false);
    }
  });
});

describe('forgetLocalCopy', () => {
  it('forgets the remembered token before it returns its promise', () => {
    rememberDocument(DOC, 'Plans', 'v1.token.sig');
    rememberDocument(OTHER, 'Other', 'v1.other.sig');
    const forgetting = forgetLocalCopy(DOC);
    expect(loadRecentDocuments().map((entry) => entry.id)).toEqual([OTHER]);
    return forgetting;
  });

  it("deletes the document's database and its pages in every cache, and nothing else", async () => {
    memoryIndexedDb.names.add(localDatabaseName(DOC));
    memoryIndexedDb.names.add(localDatabaseName(OTHER));
    memoryCaches.caches.set('inkwell-pages', [`${ORIGIN}/`, `${ORIGIN}/d/${DOC}`, `${ORIGIN}/d/${OTHER}`]);
    memoryCaches.caches.set('pages-rsc', [`${ORIGIN}/d/${DOC}?_rsc=abc`, `${ORIGIN}/d/${DOC}?_rsc=def`]);
    memoryCaches.caches.set('others', [`${ORIGIN}/d/${DOC}`, `${ORIGIN}/manifest.json`]);
    await forgetLocalCopy(DOC);
    expect([...memoryIndexedDb.names]).toEqual([localDatabaseName(OTHER)]);
    expect(Object.fromEntries(memoryCaches.caches)).toEqual({
      'inkwell-pages': [`${ORIGIN}/`, `${ORIGIN}/d/${OTHER}`],
      'pages-rsc': [],
      others: [`${ORIGIN}/manifest.json`],
    });
  });

  it('still deletes the database and the token when the caches fail, then rejects', async () => {
    rememberDocument(DOC, 'Plans', 'v1.token.sig');
    memoryIndexedDb.names.add(localDatabaseName(DOC));
    memoryCaches.caches.set('inkwell-pages', [`${ORIGIN}/d/${DOC}`]);
    memoryCaches.failOpen = true;
    await expect(forgetLocalCopy(DOC)).rejects.toThrow(AggregateError);
    expect(memoryIndexedDb.names.size).toBe(0);
    expect(loadRecentDocuments()).toEqual([]);
  });

  it('does nothing but forget the token where the browser has no IndexedDB or Cache Storage', async () => {
    vi.stubGlobal('caches', undefined);
    vi.stubGlobal('indexedDB', undefined);
    rememberDocument(DOC, 'Plans', 'v1.token.sig');
    await forgetLocalCopy(DOC);
    expect(loadRecentDocuments()).toEqual([]);
  });
});
