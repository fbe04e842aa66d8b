import { defineConfig } from '@playwright/test';

import { CHROMIUM_ARGS, chromiumExecutablePath } from './tests/helpers/chromium';

export default defineConfig({
  testDir: 'tests',
  // User journeys, attacks on them (tests/security/, one file per attack), storage faults (tests/faults/)
  // and chaos (tests/chaos/). Files run in path order, whatever the order here.
  testMatch: ['e2e/**/*.spec.ts', 'security/**/*.spec.ts', 'faults/**/*.spec.ts', 'chaos/**/*.spec.ts'],
  globalSetup: './tests/helpers/build-server.ts',
  outputDir: 'test-results',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: {
      // Debian's Chromium where present (Playwright cannot download its own browser here).
      executablePath: chromiumExecutablePath(),
      args: CHROMIUM_ARGS,
    },
    permissions: ['clipboard-read', 'clipboard-write'],
    trace: 'retain-on-failure',
  },
});
