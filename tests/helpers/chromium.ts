/** How tests and benchmarks launch Chromium here: Debian's build when present, with a quiet network. */
import { existsSync } from 'node:fs';

/** Flags that keep Chromium from calling home on a machine without internet. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `CHROMIUM_PATH` or /usr/bin/chromium if it exists; otherwise undefined (Playwright's own browser). */
export function chromiumExecutablePath(): string | undefined {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return existsSync(path) ? path : undefined;
}
