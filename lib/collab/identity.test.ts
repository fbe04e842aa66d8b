/**
 * Unit tests of the local identity: initials for avatars, the random default,
 * and load/save against an in-memory `localStorage` stubbed onto globalThis.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { MemoryStorage } from '../../tests/helpers/memory-storage';
import { IDENTITY_COLORS, initialsOf, loadIdentity, randomIdentity, saveIdentity } from './identity';

const STORAGE_KEY = 'inkwell:identity';
const MAX_NAME_LENGTH = 40;


/** True when `value` contains a surrogate that is not part of a pair. */
function hasLoneSurrogate(value: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);
}

describe('initialsOf', () => {
  it('takes the first letters of the first and last words, upper-cased', () => {
    expect(initialsOf('Ada Lovelace')).toBe('AL');
    expect(initialsOf('grace brewster murray hopper')).toBe('GH');
  });

  it('takes one letter from a single word', () => {
    expect(initialsOf('cher')).toBe('C');
  });

  it('ignores surrounding and repeated whitespace', () => {
    expect(initialsOf('  swift \t  otter  ')).toBe('SO');
    expect(initialsOf('  robin ')).toBe('R');
  });

  it('falls back to "?" for an empty or blank name', () => {
    expect(initialsOf('')).toBe('?');
    expect(initialsOf('   ')).toBe('?');
  });

  it('handles non-ASCII letters', () => {
    expect(initialsOf('émile zola')).toBe('ÉZ');
  });

  // Source bug: initials are taken by UTF-16 index ([0]), so a name starting with an astral
  // character (emoji, many CJK extension letters) yields half a surrogate pair. Remove `.fails` once fixed.
  it('never returns half of a surrogate pair', () => {
    expect(hasLoneSurrogate(initialsOf('🦊'))).toBe(false);
    expect(hasLoneSurrogate(initialsOf('🦊 Fox'))).toBe(false);
  });
});

describe('randomIdentity', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('offers a two-word name and one of the identity colours', () => {
    for (let round = 0; round < 50; round += 1) {
      const identity = randomIdentity();
      expect(identity.name).toMatch(/^\S+ \S+$/);
      expect(IDENTITY_COLORS).toContain(identity.color);
    }
  });

  it('stays within its word and colour lists at both ends of the random range', () => {
    for (const value of [0, 1 - Number.EPSILON]) {
      vi.spyOn(Math, 'random').mockReturnValue(value);
      const identity = randomIdentity();
      expect(identity.name).toMatch(/^\S+ \S+$/);
      expect(identity.name).not.toContain('undefined');
      expect(IDENTITY_COLORS).toContain(identity.color);
      vi.restoreAllMocks();
    }
  });
});

describe('loadIdentity and saveIdentity', () => {
  let storage: MemoryStorage;

  beforeEach(() => {
    storage = new MemoryStorage();
    vi.stubGlobal('localStorage', storage);
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('loads null when nothing was saved', () => {
    expect(loadIdentity()).toBeNull();
  });

  it('round-trips a saved identity', () => {
    saveIdentity({ name: 'Ada Lovelace', color: '#1971c2' });
    expect(loadIdentity()).toEqual({ name: 'Ada Lovelace', color: '#1971c2' });
  });

  it('trims the name and keeps at most 40 characters', () => {
    saveIdentity({ name: '   Grace Hopper   ', color: '#2b8a3e' });
    expect(loadIdentity()).toEqual({ name: 'Grace Hopper', color: '#2b8a3e' });

    const longName = 'x'.repeat(60);
    saveIdentity({ name: `  ${longName}  `, color: '#2b8a3e' });
    expect(loadIdentity()?.name).toBe('x'.repeat(MAX_NAME_LENGTH));
    expect(JSON.parse(storage.getItem(STORAGE_KEY)!)).toEqual({ name: 'x'.repeat(MAX_NAME_LENGTH), color: '#2b8a3e' });
  });

  it('trims and caps a name that was stored by hand', () => {
    storage.setItem(STORAGE_KEY, JSON.stringify({ name: `  ${'y'.repeat(45)}`, color: '#ABCDEF' }));
    expect(loadIdentity()).toEqual({ name: 'y'.repeat(MAX_NAME_LENGTH), color: '#ABCDEF' });
  });

  it.each([
    ['text that is not JSON', '{name:'],
    ['JSON null', 'null'],
    ['a JSON number', '42'],
    ['a JSON array', '["Ada", "#1971c2"]'],
    ['a missing name', JSON.stringify({ color: '#1971c2' })],
    ['a numeric name', JSON.stringify({ name: 7, color: '#1971c2' })],
    ['a blank name', JSON.stringify({ name: '   ', color: '#1971c2' })],
    ['a missing colour', JSON.stringify({ name: 'Ada' })],
    ['a colour name instead of hex', JSON.stringify({ name: 'Ada', color: 'red' })],
    ['a three-digit hex colour', JSON.stringify({ name: 'Ada', color: '#fff' })],
    ['a hex colour with a bad digit', JSON.stringify({ name: 'Ada', color: '#12345g' })],
    ['a colour without #', JSON.stringify({ name: 'Ada', color: '1971c2' })],
    ['a colour with a CSS payload', JSON.stringify({ name: 'Ada', color: '#1971c2;background:url(x)' })],
  ])('loads null for %s', (_description, raw) => {
    storage.setItem(STORAGE_KEY, raw);
    expect(loadIdentity()).toBeNull();
  });

  it('loads null when storage itself throws', () => {
    vi.stubGlobal('localStorage', {
      getItem: () => {
        throw new Error('SecurityError: storage is disabled');
      },
    });
    expect(loadIdentity()).toBeNull();
  });
});
