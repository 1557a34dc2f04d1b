import { defineConfig } from 'vitest/config';

// One config for the demo page (Vite) and the tests (Vitest).
export default defineConfig({
  root: '.',
  server: { host: '127.0.0.1' },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores here and in CI: keep to two workers so heavy suites do not starve each other.
    maxWorkers: 2,
  },
});
