import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'lib/**/*.test.ts',
      'collab-server/**/*.test.ts',
      'chaos/**/*.test.ts',
      'tests/contract/**/*.test.ts',
      'tests/integration/**/*.test.ts',
      'tests/security/**/*.test.ts',
      'tests/faults/**/*.test.ts',
      'tests/chaos/**/*.test.ts',
      'tests/cluster/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real relays and child processes; two workers suit a 2-core machine.
    maxWorkers: 2,
    reporters: ['default', './tests/helpers/summary-reporter.ts'],
    globalSetup: ['./tests/helpers/build-server.ts'],
  },
});
