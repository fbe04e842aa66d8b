/** Finds share-link tokens in text (logs), to prove none ever leaks into one. */

/** `v1.<claims>.<signature>`: the shape of every share-link token (lib/tokens.ts). */
const TOKEN_SHAPE = /v1\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g;

/** Every token-shaped string in `text`. */
export function findTokens(text: string): string[] {
  return text.match(TOKEN_SHAPE) ?? [];
}
