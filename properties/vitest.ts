import { describe, expect, test } from 'vitest';
import { adapterFor } from '../adapters/index.ts';
import { checkProperty, formatFailure, settings, type AnyProperty } from './property.ts';

/**
 * Samples per property in `npm test`: half of `gradspec check`'s 200, which keeps the tests within
 * their time budget as ops are added. GRADSPEC_RUNS sets it (`GRADSPEC_RUNS=1000 npm test` for a
 * nightly depth); CI still runs every property at 200 samples on real PyTorch (`.ci/run`).
 */
export const TEST_RUNS = 100;

/**
 * Registers properties as vitest tests on the engine GRADSPEC_ENGINE names (default: reference).
 * Each title starts with the property's first clause id; a failure prints the shrunk repro.
 */
export function describeProperties(group: string, properties: readonly AnyProperty[]): void {
  const adapter = adapterFor();
  describe(`${group} on ${adapter.name}`, () => {
    test.each(properties.map((p) => [p.clauses[0], p.title, p] as const))('%s %s', async (_c, _t, p) => {
      const r = await checkProperty(p, adapter, { ...settings(), numRuns: Number(process.env.GRADSPEC_RUNS ?? TEST_RUNS) });
      if (r.status === 'fail') expect.fail(formatFailure(r, adapter.name));
      // Samples no oracle can judge (kinks, overflow) are skipped; they must stay a small share.
      expect(r.skipped).toBeLessThan(r.numRuns / 4);
    });
  });
}
