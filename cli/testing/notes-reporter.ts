import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Writes what vitest's JSON reporter leaves out, for cli/vitest-conformance.test.ts: per test, its
 * state, the note of a skip (ctx.skip(note)) and its annotations (ctx.annotate), to GRADSPEC_VITEST_NOTES.
 */
export default class NotesReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const out: Record<string, { state: string; note?: string; annotations: string[] }> = {};
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const result = test.result();
        out[test.fullName] = {
          state: result.state,
          ...(result.state === 'skipped' && result.note ? { note: result.note } : {}),
          annotations: test.annotations().map((a) => a.message),
        };
      }
    }
    const file = process.env.GRADSPEC_VITEST_NOTES;
    if (file) writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  }
}
