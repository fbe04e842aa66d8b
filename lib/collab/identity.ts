/** The local person: a name and a colour, remembered in this browser. */

export interface Identity {
  readonly name: string;
  readonly color: string;
}

const STORAGE_KEY = 'inkwell:identity';

/** Colours readable as caret labels on white, and as avatar backgrounds with white initials. */
export const IDENTITY_COLORS = ['#d9480f', '#2b8a3e', '#1971c2', '#9c36b5', '#c2255c', '#0c8599', '#5f3dc4', '#e67700'] as const;

const ADJECTIVES = ['Amber', 'Brisk', 'Clever', 'Daring', 'Eager', 'Gentle', 'Lucky', 'Quiet', 'Swift', 'Witty'];
const ANIMALS = ['Otter', 'Falcon', 'Badger', 'Heron', 'Lynx', 'Panda', 'Robin', 'Marten', 'Ibex', 'Koala'];

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/** A friendly random identity to offer as the default. */
export function randomIdentity(): Identity {
  return { name: `${pick(ADJECTIVES)} ${pick(ANIMALS)}`, color: pick(IDENTITY_COLORS) };
}

/** The remembered identity, or `null` when the person was never asked. */
export function loadIdentity(): Identity | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Identity>;
    if (typeof parsed.name !== 'string' || typeof parsed.color !== 'string') return null;
    const name = parsed.name.trim().slice(0, 40);
    return name && /^#[0-9a-f]{6}$/i.test(parsed.color) ? { name, color: parsed.color } : null;
  } catch {
    return null;
  }
}

/** Remembers the identity for every document opened in this browser. */
export function saveIdentity(identity: Identity): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify({ name: identity.name.trim().slice(0, 40), color: identity.color }));
}

/** Up to two initials of a name, for avatars. */
export function initialsOf(name: string): string {
  // Array.from splits by code point, so an emoji is never cut in half.
  const firstOf = (word: string): string => Array.from(word)[0] ?? '';
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [firstOf(words[0]!), firstOf(words[words.length - 1]!)] : [firstOf(name.trim())];
  return letters.join('').toUpperCase() || '?';
}
