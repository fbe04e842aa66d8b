/**
 * The Node flags the compiled servers run with: package.json's
 * `config.serverNodeFlags`, which `npm start` and `npm run relay` pass to node.
 * Launchers outside npm scripts (the benchmark, the tests) read them here, so
 * they run the servers as shipped.
 *
 * `--max-semi-space-size=4` caps V8's young generation at a quarter of its
 * default (16 MiB per semi-space). Each socket's handshake allocates a burst of
 * short-lived objects; with the default, a burst of connections grows the young
 * generation to its maximum and the relay keeps those pages. Measured in
 * `bench/` (S3, RSS per idle connection at 2,000 connections): 25.3 KB with the
 * default, 16.7-19.8 KB with 8 MiB, 13.8-14.3 KB with 4 MiB (three interleaved
 * pairs of 8 and 4). CPU under load in those pairs: S1 20.9-25.0% at 8 MiB,
 * 22.1-25.2% at 4; S5 21.1-22.8% and 20.5-22.2%.
 */
import { readFileSync } from 'node:fs';

export function serverNodeFlags(): string[] {
  const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    config?: { serverNodeFlags?: unknown };
  };
  const flags = packageJson.config?.serverNodeFlags;
  if (typeof flags !== 'string') throw new Error('package.json has no config.serverNodeFlags');
  return splitFlags(flags);
}

/** Node flags written as one space-separated string (package.json, an environment variable), as arguments. */
export function splitFlags(flags: string | undefined): string[] {
  return (flags ?? '').split(' ').filter(Boolean);
}
