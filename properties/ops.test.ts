import { describe, expect, test } from 'vitest';
import { adapterFor } from '../adapters/index.ts';
import { OP_PROPERTIES } from './ops.ts';
import { checkProperty, formatFailure } from './property.ts';

const adapter = adapterFor();

describe(`op gradient properties on ${adapter.name}`, () => {
  test.each(OP_PROPERTIES.map((p) => [p.clauses[0], p.title, p] as const))('%s %s', async (_c, _t, p) => {
    const r = await checkProperty(p, adapter);
    if (r.status === 'fail') expect.fail(formatFailure(r, adapter.name));
    // Skipped samples (kinks, overflow) must stay a small share, or the property proves little.
    expect(r.skipped).toBeLessThan(r.numRuns / 4);
  });
});
