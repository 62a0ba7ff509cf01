import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    // mathjs takes seconds to import; one module graph for all files keeps that cost paid once.
    isolate: false,
    setupFiles: ['./properties/setup.ts'],
    reporters: ['default', './cli/summary-reporter.ts'],
    testTimeout: 30_000,
  },
});
