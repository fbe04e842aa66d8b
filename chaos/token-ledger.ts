/**
 * The chaos campaigns' verdict on a document's text: every token someone typed
 * or wrote must be in it exactly once. A duplicated insert after a reconnect
 * shows as a count of two, a lost one as zero.
 */

/** Occurrences of `token` in `text`, overlapping ones included. */
export function countOccurrences(text: string, token: string): number {
  if (token === '') throw new Error('an empty token occurs everywhere');
  let count = 0;
  for (let at = text.indexOf(token); at !== -1; at = text.indexOf(token, at + 1)) count += 1;
  return count;
}

/** One failure line per token of `tokens` that `text` (the text of `where`) does not hold exactly once. */
export function findTokenFailures(options: { where: string; text: string; tokens: Iterable<string> }): string[] {
  const failures: string[] = [];
  for (const token of options.tokens) {
    const count = countOccurrences(options.text, token);
    if (count === 0) failures.push(`${options.where}: ${token} was lost`);
    else if (count > 1) failures.push(`${options.where}: ${token} appears ${count} times`);
  }
  return failures;
}

/** The tokens of each document, in the order they were written. */
export class TokenLedger {
  private readonly byDocument = new Map<string, string[]>();

  /** Records that `token` was written to `docId`. */
  add(docId: string, token: string): void {
    const tokens = this.byDocument.get(docId) ?? [];
    tokens.push(token);
    this.byDocument.set(docId, tokens);
  }

  /** Every token written to `docId` so far. */
  tokensOf(docId: string): readonly string[] {
    return this.byDocument.get(docId) ?? [];
  }
}
