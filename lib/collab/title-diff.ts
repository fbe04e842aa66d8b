/** Applies a text field's new value to a `Y.Text` as one minimal splice, so concurrent renames merge. */
import type * as Y from 'yjs';

/** Replaces only the changed middle of `text` with that of `next`. */
export function applyTextChange(text: Y.Text, next: string): void {
  const previous = text.toString();
  if (previous === next) return;
  let start = 0;
  while (start < previous.length && start < next.length && previous[start] === next[start]) start += 1;
  let endPrevious = previous.length;
  let endNext = next.length;
  while (endPrevious > start && endNext > start && previous[endPrevious - 1] === next[endNext - 1]) {
    endPrevious -= 1;
    endNext -= 1;
  }
  text.doc?.transact(() => {
    if (endPrevious > start) text.delete(start, endPrevious - start);
    if (endNext > start) text.insert(start, next.slice(start, endNext));
  });
}
