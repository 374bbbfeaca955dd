import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two lanes. `fast` is the edit loop (`npm run test:fast`, well under a minute): pure units, store
 * contracts on both databases, the emulator over in-process HTTP, Tailor's app in-process. `slow`
 * starts real processes, kills them, scales out, drives Chromium, or moves a million rows.
 * `npm test` runs both. A new test file lands in `fast` unless it matches a `slow` pattern.
 */
const SLOW = [
  'test/**/*.e2e.test.ts', // real `tailor` processes and the emulator over HTTP
  'test/scale/**/*.test.ts', // several processes on PostgreSQL
  'test/ui/web-ui.test.ts', // Chromium
  'test/ui/api-docs.test.ts', // Chromium
  'test/ui/audience-tools.test.ts', // Chromium
  'test/ui/privacy.test.ts', // Chromium
  'test/ui/audit.test.ts', // Chromium
  'test/ui/status.test.ts', // Chromium
  'test/ui/first-member.test.ts', // Chromium
  'test/ui/health.test.ts', // Chromium
  'test/ui/care.test.ts', // Chromium
  'test/emulator/cli.test.ts', // spawns `tailor emulator`
];

// Two cores: run test files in separate forks, two at a time. End-to-end tests start real
// processes and wait for states, so their timeouts are generous and their loops bounded.
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests reach 127.0.0.1 only (test/support/loopback-only.ts).
    setupFiles: ['test/support/loopback-only.ts'],
    // Once per run: dist/ built, so tests that spawn bin/tailor.js run the shipped code
    // (scripts/build.mjs); one PostgreSQL server (the local one, or one started for the run).
    globalSetup: ['test/support/build.ts', 'test/support/postgres.ts'],
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/**/*.test.ts', 'src/**/*.test.ts'], exclude: [...configDefaults.exclude, ...SLOW] } },
      { extends: true, test: { name: 'slow', include: SLOW } },
    ],
  },
});
