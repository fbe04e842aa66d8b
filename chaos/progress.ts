/** Progress lines of a chaos run, on stderr so they never mix with a report printed on stdout. */

/** Writes `[campaign] message` to stderr. */
export function progress(campaign: string, message: string): void {
  process.stderr.write(`[${campaign}] ${message}\n`);
}
