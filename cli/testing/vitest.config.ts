import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The vitest run cli/vitest-conformance.test.ts starts: the conformance suites of the files here,
 * as an engine's own test run would hold them. Not part of gradspec's own run (they fail on purpose).
 * It writes vitest's JSON report to GRADSPEC_VITEST_JSON and skip notes and annotations to GRADSPEC_VITEST_NOTES.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../../', import.meta.url)),
    include: ['cli/testing/*.conformance.ts'],
    testTimeout: 30_000,
    reporters: ['json', './cli/testing/notes-reporter.ts'],
    ...(process.env.GRADSPEC_VITEST_JSON ? { outputFile: { json: process.env.GRADSPEC_VITEST_JSON } } : {}),
  },
});
