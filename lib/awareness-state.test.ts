import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';

import { DOCUMENT_BODY_FIELD, checkAwarenessState, isSafeColor } from './awareness-state';

/** A caret as y-tiptap publishes it: Y.RelativePosition objects, serialized by JSON. */
function realCursor(): unknown {
  const doc = new Y.Doc();
  const body = doc.getXmlFragment(DOCUMENT_BODY_FIELD);
  const paragraph = new Y.XmlElement('paragraph');
  body.insert(0, [paragraph]);
  paragraph.insert(0, [new Y.XmlText('hello')]);
  const text = paragraph.get(0) as Y.XmlText;
  const anchor = Y.createRelativePositionFromTypeIndex(text, 2);
  const head = Y.createRelativePositionFromTypeIndex(body, 1);
  return JSON.parse(JSON.stringify({ anchor, head }));
}

const VALID = { user: { name: 'Ada', color: '#1971c2' }, role: 'editor', cursor: realCursor() };

describe('checkAwarenessState', () => {
  it('accepts what the app publishes, exactly', () => {
    expect(checkAwarenessState(VALID)).toEqual({ ok: true, state: VALID, isExact: true });
    expect(checkAwarenessState({})).toMatchObject({ ok: true, isExact: true });
    expect(checkAwarenessState({ user: VALID.user, cursor: null })).toMatchObject({ ok: true, isExact: true });
  });

  it('drops unknown top-level fields and says the state changed', () => {
    const result = checkAwarenessState({ ...VALID, avatar: 'x'.repeat(100), __proto__x: 1 });
    expect(result).toEqual({ ok: true, state: VALID, isExact: false });
  });

  it.each([
    ['a cursor whose anchor is null', { cursor: { anchor: null, head: null } }],
    ['a cursor naming no position', { cursor: { anchor: { assoc: 0 }, head: { assoc: 0 } } }],
    ['a cursor in another root type', { cursor: { anchor: { tname: 'title' }, head: { tname: 'title' } } }],
    ['a cursor with extra fields', { cursor: { anchor: { tname: 'content', x: 1 }, head: { tname: 'content' } } }],
    ['a colour that injects CSS', { user: { name: 'Eve', color: '#000;position:fixed;inset:0' } }],
    ['a named colour', { user: { name: 'Eve', color: 'red' } }],
    ['a name of 65 characters', { user: { name: 'x'.repeat(65), color: '#000000' } }],
    ['a name with control characters', { user: { name: 'Eve\u202eeviL', color: '#000000' } }],
    ['a user with extra fields', { user: { name: 'Eve', color: '#000000', html: '<b>' } }],
    ['an unknown role', { role: 'admin' }],
    ['an array', [1, 2]],
    ['a string', 'hello'],
    ['a number', 7],
  ])('refuses %s', (_name, state) => {
    expect(checkAwarenessState(state)).toMatchObject({ ok: false, reason: expect.any(String) });
  });

  it('accepts a name of 64 emoji (characters, not UTF-16 units)', () => {
    expect(checkAwarenessState({ user: { name: '🙂'.repeat(64), color: '#abcdef' } })).toMatchObject({ ok: true });
  });
});

describe('isSafeColor', () => {
  it.each(['#000000', '#ABCdef'])('accepts %s', (color) => expect(isSafeColor(color)).toBe(true));
  it.each(['#000', 'red', '#0000000', '#00000g', ' #000000', '#000000;x', 7])('refuses %s', (color) => expect(isSafeColor(color)).toBe(false));
});
