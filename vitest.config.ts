import { defineConfig } from 'vitest/config';

// Two cores: run test files in separate forks, two at a time. End-to-end tests start real
// processes and wait for states, so their timeouts are generous and their loops bounded.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // One PostgreSQL server for the run (the local one, or one started for it).
    globalSetup: ['test/support/postgres.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
