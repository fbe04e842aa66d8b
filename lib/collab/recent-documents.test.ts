/**
 * Unit tests of the recent-documents list against an in-memory `localStorage`
 * stubbed onto globalThis. `Date.now` is stubbed so "when" is exact without timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { MemoryStorage } from '../../tests/helpers/memory-storage';
import { forgetDocument, loadRecentDocuments, rememberDocument, renameRememberedDocument } from './recent-documents';

const STORAGE_KEY = 'inkwell:recent-documents';
const MAX_RECENT = 50;


let storage: MemoryStorage;
let nowMs: number;

/** Remembers `id` as opened at `atMs`. */
function rememberAt(atMs: number, id: string, title: string): void {
  nowMs = atMs;
  rememberDocument(id, title);
}

beforeEach(() => {
  storage = new MemoryStorage();
  vi.stubGlobal('localStorage', storage);
  nowMs = 1_000;
  vi.spyOn(Date, 'now').mockImplementation(() => nowMs);
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('recent documents', () => {
  it('starts empty', () => {
    expect(loadRecentDocuments()).toEqual([]);
  });

  it('remembers documents newest first, with the time they were opened', () => {
    rememberAt(1_000, 'alpha', 'Alpha');
    rememberAt(2_000, 'beta', 'Beta');
    rememberAt(3_000, 'gamma', 'Gamma');
    expect(loadRecentDocuments()).toEqual([
      { id: 'gamma', title: 'Gamma', openedAt: 3_000 },
      { id: 'beta', title: 'Beta', openedAt: 2_000 },
      { id: 'alpha', title: 'Alpha', openedAt: 1_000 },
    ]);
  });

  it('keeps one entry per document, moved to the front when it is opened again', () => {
    rememberAt(1_000, 'alpha', 'Alpha');
    rememberAt(2_000, 'beta', 'Beta');
    rememberAt(3_000, 'alpha', 'Alpha v2');
    expect(loadRecentDocuments()).toEqual([
      { id: 'alpha', title: 'Alpha v2', openedAt: 3_000 },
      { id: 'beta', title: 'Beta', openedAt: 2_000 },
    ]);
  });

  it('keeps newest-first order for documents opened in the same millisecond', () => {
    rememberAt(5_000, 'alpha', 'Alpha');
    rememberAt(5_000, 'beta', 'Beta');
    expect(loadRecentDocuments().map((entry) => entry.id)).toEqual(['beta', 'alpha']);
  });

  it('renames a document without changing when it was opened or its position', () => {
    rememberAt(1_000, 'alpha', 'Alpha');
    rememberAt(2_000, 'beta', 'Beta');
    nowMs = 9_000;
    renameRememberedDocument('alpha', 'Renamed');
    expect(loadRecentDocuments()).toEqual([
      { id: 'beta', title: 'Beta', openedAt: 2_000 },
      { id: 'alpha', title: 'Renamed', openedAt: 1_000 },
    ]);
  });

  it('ignores a rename of a document it does not remember', () => {
    rememberAt(1_000, 'alpha', 'Alpha');
    renameRememberedDocument('missing', 'Ghost');
    expect(loadRecentDocuments()).toEqual([{ id: 'alpha', title: 'Alpha', openedAt: 1_000 }]);
  });

  it('forgets only the given document', () => {
    rememberAt(1_000, 'alpha', 'Alpha');
    rememberAt(2_000, 'beta', 'Beta');
    forgetDocument('alpha');
    expect(loadRecentDocuments()).toEqual([{ id: 'beta', title: 'Beta', openedAt: 2_000 }]);
    forgetDocument('missing');
    expect(loadRecentDocuments()).toEqual([{ id: 'beta', title: 'Beta', openedAt: 2_000 }]);
    forgetDocument('beta');
    expect(loadRecentDocuments()).toEqual([]);
  });

  it(`keeps only the ${MAX_RECENT} most recently opened documents`, () => {
    for (let index = 0; index < MAX_RECENT + 10; index += 1) {
      rememberAt(1_000 + index, `doc-${index}`, `Doc ${index}`);
    }
    const ids = loadRecentDocuments().map((entry) => entry.id);
    expect(ids).toHaveLength(MAX_RECENT);
    expect(ids[0]).toBe(`doc-${MAX_RECENT + 9}`);
    expect(ids.at(-1)).toBe('doc-10');
    expect(JSON.parse(storage.getItem(STORAGE_KEY)!)).toHaveLength(MAX_RECENT);
  });

  it('sorts entries by when they were opened, whatever order they were stored in', () => {
    storage.setItem(
      STORAGE_KEY,
      JSON.stringify([
        { id: 'old', title: 'Old', openedAt: 1 },
        { id: 'new', title: 'New', openedAt: 3 },
        { id: 'mid', title: 'Mid', openedAt: 2 },
      ]),
    );
    expect(loadRecentDocuments().map((entry) => entry.id)).toEqual(['new', 'mid', 'old']);
  });

  it.each([
    ['text that is not JSON', '[{"id":'],
    ['JSON null', 'null'],
    ['a JSON object', JSON.stringify({ id: 'alpha', title: 'Alpha', openedAt: 1 })],
    ['a JSON string', JSON.stringify('alpha')],
  ])('loads [] when storage holds %s', (_description, raw) => {
    storage.setItem(STORAGE_KEY, raw);
    expect(loadRecentDocuments()).toEqual([]);
  });

  it('drops malformed entries and keeps valid ones', () => {
    storage.setItem(
      STORAGE_KEY,
      JSON.stringify([
        null,
        7,
        'alpha',
        { id: 'no-title', openedAt: 1 },
        { id: 'string-time', title: 'T', openedAt: '2' },
        { id: 42, title: 'Numeric id', openedAt: 3 },
        { id: 'good', title: 'Good', openedAt: 4 },
      ]),
    );
    expect(loadRecentDocuments()).toEqual([{ id: 'good', title: 'Good', openedAt: 4 }]);
  });

  it('starts a fresh list when remembering over corrupt storage', () => {
    storage.setItem(STORAGE_KEY, 'not json');
    rememberAt(1_000, 'alpha', 'Alpha');
    expect(loadRecentDocuments()).toEqual([{ id: 'alpha', title: 'Alpha', openedAt: 1_000 }]);
  });

  it('loads [] when storage itself throws', () => {
    vi.stubGlobal('localStorage', {
      getItem: () => {
        throw new Error('SecurityError: storage is disabled');
      },
    });
    expect(loadRecentDocuments()).toEqual([]);
  });
});
