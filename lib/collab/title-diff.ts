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
  // Y.Text counts UTF-16 code units: never split a surrogate pair (emoji) across the splice.
  if (start > 0 && isHighSurrogate(previous.charCodeAt(start - 1))) start -= 1;
  if (endPrevious < previous.length && isLowSurrogate(previous.charCodeAt(endPrevious))) {
    endPrevious += 1;
    endNext += 1;
  }
  text.doc?.transact(() => {
    if (endPrevious > start) text.delete(start, endPrevious - start);
    if (endNext > start) text.insert(start, next.slice(start, endNext));
  });
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
