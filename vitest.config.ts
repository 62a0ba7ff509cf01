import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // mutation/ is the conformance suite again, for `npm run mutate`; .stryker-tmp/ holds its sandboxes.
    exclude: ['node_modules/**', 'mutation/**', '.stryker-tmp*/**'],
    // mathjs takes seconds to import; one module graph for all files keeps that cost paid once.
    isolate: false,
    // Many tests wait on child processes (the CLI, engines out of process, PyTorch), so four
    // workers keep two cores busy where two would leave them idle: about 65 s instead of 90 s.
    maxWorkers: 4,
    setupFiles: ['./properties/setup.ts'],
    globalSetup: ['./cli/testing/build-dist.ts'],
    reporters: ['default', './cli/summary-reporter.ts'],
    testTimeout: 30_000,
  },
});
