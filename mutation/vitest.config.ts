import { defineConfig } from 'vitest/config';

/** The targeted test set of `npm run mutate`: the conformance suite, one small test per check. */
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['mutation/**/*.test.ts'],
    isolate: false,
    testTimeout: 60_000,
  },
});
