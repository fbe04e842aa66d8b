/**
 * How remote carets and selections are drawn in the editor (CollaborationCaret's
 * `render` and `selectionRender`). Whatever a remote state holds, a caret shows
 * a name as plain text of bounded length and a colour that is exactly `#rrggbb`
 * (anything else gets a neutral grey), so no state can inject markup or CSS.
 */
import { MAX_USER_NAME_LENGTH, isSafeColor } from '../awareness-state';

/** The colour used for a person whose colour is missing or unsafe. */
export const FALLBACK_CARET_COLOR = '#868e96';

/** A remote person as CollaborationCaret hands them over: whatever their state said. */
export interface CaretUser {
  readonly name?: unknown;
  readonly color?: unknown;
}

/** The name to show: plain text, at most the allowed characters, never empty. */
export function caretName(user: CaretUser): string {
  const name = typeof user.name === 'string' ? [...user.name.trim()].slice(0, MAX_USER_NAME_LENGTH).join('') : '';
  return name || 'Someone';
}

/** The colour to draw with: the person's own if it is `#rrggbb`, else the fallback. */
export function caretColor(user: CaretUser): string {
  return isSafeColor(user.color) ? user.color : FALLBACK_CARET_COLOR;
}

/** The caret element: a coloured bar with the name above it, built from text nodes only. */
export function renderCaret(user: CaretUser): HTMLElement {
  const color = caretColor(user);
  const caret = document.createElement('span');
  caret.classList.add('collaboration-carets__caret');
  caret.style.borderColor = color;
  const label = document.createElement('div');
  label.classList.add('collaboration-carets__label');
  label.style.backgroundColor = color;
  label.textContent = caretName(user);
  caret.append(label);
  return caret;
}

/** The attributes of a remote selection: a translucent wash of the person's colour. */
export function renderSelection(user: CaretUser): { style: string; class: string } {
  // `33` is 20% alpha on a #rrggbb colour, light enough to read the text under it.
  return { style: `background-color: ${caretColor(user)}33`, class: 'collaboration-carets__selection' };
}
