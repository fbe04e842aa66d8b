/**
 * Reads a kill-loop text back: it must be nothing but whole tokens
 * (`<writer>-<6 digits>;`), each at most once. Writers only append at the end
 * of what they see, so no insert ever lands inside another token.
 */

/** What a text holds, token by token. */
export interface TokenInventory {
  /** How often each token occurs. */
  readonly counts: ReadonlyMap<string, number>;
  /** Tokens that occur more than once. */
  readonly duplicates: readonly string[];
  /** Where the text stops being tokens (null when it is tokens all through), with what follows. */
  readonly garbageAt: { readonly index: number; readonly excerpt: string } | null;
}

const TOKEN = /[a-z]\d+-\d{6};/y;

/** Splits `text` into tokens and counts them. */
export function inventoryOf(text: string): TokenInventory {
  const counts = new Map<string, number>();
  let index = 0;
  let garbageAt: TokenInventory['garbageAt'] = null;
  while (index < text.length) {
    TOKEN.lastIndex = index;
    const match = TOKEN.exec(text);
    if (!match) {
      garbageAt = { index, excerpt: JSON.stringify(text.slice(index, index + 30)) };
      break;
    }
    counts.set(match[0], (counts.get(match[0]) ?? 0) + 1);
    index = TOKEN.lastIndex;
  }
  const duplicates = [...counts].filter(([, count]) => count > 1).map(([token]) => token);
  return { counts, duplicates, garbageAt };
}
