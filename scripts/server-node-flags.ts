/**
 * The Node flags the compiled servers run with: package.json's
 * `config.serverNodeFlags`, which `npm start` and `npm run relay` pass to node.
 * Launchers outside npm scripts (the benchmark, the tests) read them here, so
 * they run the servers as shipped.
 *
 * `--max-semi-space-size=8` halves V8's young generation (16 MiB by default).
 * Each socket's handshake allocates a burst of short-lived objects; with the
 * default, a burst of connections grows the young generation to its maximum and
 * the relay keeps those pages. Measured in `bench/` (S3, RSS per idle
 * connection): 25.3 → 13.9 KB at 2,000 connections, with no CPU cost under load
 * in S1 and S5 (three interleaved pairs each, within the noise).
 */
import { readFileSync } from 'node:fs';

export function serverNodeFlags(): string[] {
  const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    config?: { serverNodeFlags?: unknown };
  };
  const flags = packageJson.config?.serverNodeFlags;
  if (typeof flags !== 'string') throw new Error('package.json has no config.serverNodeFlags');
  return flags.split(' ').filter(Boolean);
}
