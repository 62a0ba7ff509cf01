import { describe, expect, test } from 'vitest';
import { adapterFor } from '../adapters/index.ts';
import { checkProperty, formatFailure } from './property.ts';
import { SEMANTICS } from './semantics.ts';

const adapter = adapterFor();

describe(`semantics properties on ${adapter.name}`, () => {
  test.each(SEMANTICS.map((p) => [p.clauses[0], p.title, p] as const))('%s %s', async (_c, _t, p) => {
    const r = await checkProperty(p, adapter);
    if (r.status === 'fail') expect.fail(formatFailure(r, adapter.name));
    expect(r.numRuns).toBeGreaterThan(0);
  });
});
