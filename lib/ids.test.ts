/**
 * Unit tests of doc id validation: `parseDocId` is the only way to mint a `DocId`,
 * so it must reject anything unsafe in a URL path segment or a storage key.
 */
import { describe, expect, it } from 'vitest';

import { NEW_DOCUMENT_ID_LENGTH, newDocumentId } from './collab/new-document-id';
import { parseDocId } from './ids';

const MAX_DOC_ID_LENGTH = 128;

describe('parseDocId', () => {
  it.each([
    ['one character', 'a'],
    ['letters of both cases and digits', 'AbC123xyz'],
    ['underscores and hyphens', 'team_notes-2024'],
    ['only punctuation from the alphabet', '-_-'],
    ['exactly 128 characters', 'a'.repeat(MAX_DOC_ID_LENGTH)],
  ])('accepts %s', (_description, value) => {
    expect(parseDocId(value)).toBe(value);
  });

  it.each([
    ['the empty string', ''],
    ['129 characters', 'a'.repeat(MAX_DOC_ID_LENGTH + 1)],
    ['a slash', 'notes/2024'],
    ['a leading slash', '/etc'],
    ['a backslash', 'notes\\2024'],
    ['a dot', 'notes.md'],
    ['a single dot', '.'],
    ['a parent directory segment', '..'],
    ['a percent-encoded slash', '%2F'],
    ['a percent-encoded parent segment', '%2E%2E'],
    ['a space', 'my notes'],
    ['a trailing newline', 'notes\n'],
    ['a NUL byte', 'notes\u0000'],
    ['an accented letter', 'café'],
    ['a Cyrillic look-alike letter', 'n\u043etes'],
    ['a full-width letter', 'ｎotes'],
    ['an emoji', 'notes🚀'],
    ['a query string', 'notes?x=1'],
  ])('rejects %s', (_description, value) => {
    expect(parseDocId(value)).toBeNull();
  });

  it.each([
    ['a number', 123],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
    ['an object', { id: 'abc' }],
    ['an array holding a valid id', ['abc']],
    ['a String object', new String('abc')],
  ])('rejects a non-string: %s', (_description, value) => {
    expect(parseDocId(value)).toBeNull();
  });
});

describe('newDocumentId', () => {
  it(`returns ${NEW_DOCUMENT_ID_LENGTH} characters that pass parseDocId`, () => {
    const id = newDocumentId();
    expect(id).toHaveLength(22);
    expect(parseDocId(id)).toBe(id);
  });

  it('returns 1000 distinct ids that all pass parseDocId', () => {
    const ids = Array.from({ length: 1_000 }, () => newDocumentId());
    expect(new Set(ids).size).toBe(1_000);
    for (const id of ids) {
      expect(id).toHaveLength(NEW_DOCUMENT_ID_LENGTH);
      expect(parseDocId(id)).toBe(id);
    }
  });
});
