import { describe, expect, test } from 'vitest';
import { adapterFor } from '../adapters/index.ts';
import { checkProperty, formatFailure, type AnyProperty } from './property.ts';

/**
 * Registers properties as vitest tests on the engine GRADSPEC_ENGINE names (default: reference).
 * Each title starts with the property's first clause id; a failure prints the shrunk repro.
 */
export function describeProperties(group: string, properties: readonly AnyProperty[]): void {
  const adapter = adapterFor();
  describe(`${group} on ${adapter.name}`, () => {
    test.each(properties.map((p) => [p.clauses[0], p.title, p] as const))('%s %s', async (_c, _t, p) => {
      const r = await checkProperty(p, adapter);
      if (r.status === 'fail') expect.fail(formatFailure(r, adapter.name));
      // Samples no oracle can judge (kinks, overflow) are skipped; they must stay a small share.
      expect(r.skipped).toBeLessThan(r.numRuns / 4);
    });
  });
}
