/**
 * Unit tests of the title splice: the result equals the new value locally and on
 * a replica, the change is one minimal delete/insert, and concurrent edits from
 * two docs merge instead of one overwriting the other.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';

import { applyTextChange } from './title-diff';

const docs: Y.Doc[] = [];
afterEach(() => {
  for (const doc of docs.splice(0)) doc.destroy();
});

function createTitle(initial: string): Y.Text {
  const doc = new Y.Doc();
  docs.push(doc);
  const text = doc.getText('title');
  if (initial) text.insert(0, initial);
  return text;
}

/** The title as a freshly synced peer sees it, so corruption hidden by the local copy shows up. */
function replicaOf(text: Y.Text): string {
  const replica = new Y.Doc();
  docs.push(replica);
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(text.doc!));
  return replica.getText('title').toString();
}

/** Exchanges missing updates in both directions. */
function syncBoth(a: Y.Doc, b: Y.Doc): void {
  const toB = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b));
  const toA = Y.encodeStateAsUpdate(b, Y.encodeStateVector(a));
  Y.applyUpdate(b, toB);
  Y.applyUpdate(a, toA);
}

const EDITS: readonly { readonly name: string; readonly previous: string; readonly next: string }[] = [
  { name: 'insert at start', previous: 'Plan', next: 'Q3 Plan' },
  { name: 'insert in the middle', previous: 'Q3 Plan', next: 'Q3 Roadmap Plan' },
  { name: 'insert at end', previous: 'Plan', next: 'Plan draft' },
  { name: 'delete at start', previous: 'Q3 Plan', next: 'Plan' },
  { name: 'delete in the middle', previous: 'Q3 Roadmap Plan', next: 'Q3 Plan' },
  { name: 'delete at end', previous: 'Plan draft', next: 'Plan' },
  { name: 'replace at start', previous: 'Q3 Plan', next: 'Q4 Plan' },
  { name: 'replace in the middle', previous: 'The quick fox', next: 'The slow fox' },
  { name: 'replace at end', previous: 'Plan draft', next: 'Plan final' },
  { name: 'replace everything', previous: 'abc', next: 'xyz' },
  { name: 'fill an empty title', previous: '', next: 'Untitled' },
  { name: 'clear the title', previous: 'Untitled', next: '' },
  { name: 'repeat a letter', previous: 'aa', next: 'aaa' },
  { name: 'insert accented letters', previous: 'Cafe', next: 'Café crème' },
  { name: 'edit CJK text', previous: '日本語', next: '日本の語' },
  { name: 'insert an emoji', previous: 'Launch', next: 'Launch 🚀' },
  { name: 'insert an emoji in the middle', previous: 'ab', next: 'a😀b' },
  { name: 'delete an emoji', previous: 'a😀b', next: 'ab' },
  { name: 'replace an emoji by one with a different lead surrogate', previous: 'Go 😀', next: 'Go 🎉' },
  { name: 'insert after a skin-tone emoji', previous: '👍🏽', next: '👍🏽 ok' },
];

describe('applyTextChange', () => {
  it.each(EDITS)('leaves the text equal to the new value: $name', ({ previous, next }) => {
    const text = createTitle(previous);
    applyTextChange(text, next);
    expect(text.toString()).toBe(next);
    expect(replicaOf(text)).toBe(next);
  });

  it('makes no change, and emits no update, when the value is unchanged', () => {
    const text = createTitle('Plan');
    let updateCount = 0;
    text.doc!.on('update', () => {
      updateCount += 1;
    });
    applyTextChange(text, 'Plan');
    expect(updateCount).toBe(0);
  });

  it('applies a middle edit as one transaction that keeps the common prefix and suffix', () => {
    const text = createTitle('The quick fox');
    const deltas: unknown[] = [];
    let updateCount = 0;
    text.observe((event) => deltas.push(event.delta));
    text.doc!.on('update', () => {
      updateCount += 1;
    });

    applyTextChange(text, 'The slow fox');

    expect(updateCount).toBe(1);
    expect(deltas).toEqual([[{ retain: 4 }, { delete: 5 }, { insert: 'slow' }]]);
  });

  it('inserts without deleting when text is only added', () => {
    const text = createTitle('Plan');
    const deltas: unknown[] = [];
    text.observe((event) => deltas.push(event.delta));
    applyTextChange(text, 'Plan draft');
    expect(deltas).toEqual([[{ retain: 4 }, { insert: ' draft' }]]);
  });

  it('deletes without inserting when text is only removed', () => {
    const text = createTitle('Q3 Plan');
    const deltas: unknown[] = [];
    text.observe((event) => deltas.push(event.delta));
    applyTextChange(text, 'Plan');
    expect(deltas).toEqual([[{ delete: 3 }]]);
  });

  it('keeps both of two concurrent non-overlapping renames', () => {
    const left = createTitle('Plan');
    const right = createTitle('');
    syncBoth(left.doc!, right.doc!);
    expect(right.toString()).toBe('Plan');

    applyTextChange(left, 'Q3 Plan');
    applyTextChange(right, 'Plan draft');
    syncBoth(left.doc!, right.doc!);

    expect(left.toString()).toBe('Q3 Plan draft');
    expect(right.toString()).toBe('Q3 Plan draft');
  });

  it('keeps a concurrent middle edit alongside a concurrent edit at the end', () => {
    const left = createTitle('Quarterly plan');
    const right = createTitle('');
    syncBoth(left.doc!, right.doc!);

    applyTextChange(left, 'Quarterly roadmap plan');
    applyTextChange(right, 'Quarterly plan v2');
    syncBoth(left.doc!, right.doc!);

    expect(left.toString()).toBe('Quarterly roadmap plan v2');
    expect(right.toString()).toBe(left.toString());
  });

  it('leaves the text equal to any new value, locally and on a replica', () => {
    // Mixed widths: ASCII, two-byte, three-byte and one astral (surrogate-pair) character.
    const unit = fc.constantFrom('a', 'b', ' ', 'é', '中', '🚀');
    const title = fc.string({ unit, maxLength: 16 });
    fc.assert(
      fc.property(title, title, (previous, next) => {
        const text = createTitle(previous);
        applyTextChange(text, next);
        expect(text.toString()).toBe(next);
        expect(replicaOf(text)).toBe(next);
      }),
      { numRuns: 500 },
    );
  });

  // Source bug: the prefix/suffix scan compares UTF-16 code units, so two emoji sharing a lead
  // surrogate (😀 U+1F600 → 😁 U+1F601) are spliced between the surrogates, and Yjs replaces the
  // orphaned lead surrogate with U+FFFD. Remove `.fails` once the splice respects code points.
  it('replaces an emoji by one that shares its lead surrogate', () => {
    const text = createTitle('Mood 😀');
    applyTextChange(text, 'Mood 😁');
    expect(text.toString()).toBe('Mood 😁');
    expect(replicaOf(text)).toBe('Mood 😁');
  });
});
