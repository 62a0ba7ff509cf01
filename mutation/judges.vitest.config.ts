import { defineConfig } from 'vitest/config';

/** The test set of `npm run mutate:judges`: the judges' own meta-tests, nothing that runs an engine. */
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['oracles/**/*.test.ts'],
    isolate: false,
    setupFiles: ['./properties/setup.ts'],
    testTimeout: 60_000,
  },
});
