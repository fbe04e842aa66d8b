import { describe, expect, it } from 'vitest';

import { FALLBACK_CARET_COLOR, caretColor, caretName, renderSelection } from './carets';

describe('carets', () => {
  it('draws only #rrggbb colours, whatever a state holds', () => {
    expect(caretColor({ color: '#1971c2' })).toBe('#1971c2');
    for (const color of ['#000;position:fixed;inset:0', 'red', 'url(x)', 7, undefined]) {
      expect(caretColor({ color })).toBe(FALLBACK_CARET_COLOR);
    }
    expect(renderSelection({ color: 'red;background:url(//evil)' })).toEqual({
      style: `background-color: ${FALLBACK_CARET_COLOR}33`,
      class: 'collaboration-carets__selection',
    });
  });

  it('shows a bounded plain-text name, never an empty one', () => {
    expect(caretName({ name: '  Ada  ' })).toBe('Ada');
    expect(caretName({ name: '<img src=x onerror=alert(1)>' })).toBe('<img src=x onerror=alert(1)>');
    expect([...caretName({ name: '🙂'.repeat(100) })]).toHaveLength(64);
    expect(caretName({ name: 42 })).toBe('Someone');
    expect(caretName({})).toBe('Someone');
  });
});
