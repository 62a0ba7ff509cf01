import { describe, expect, test } from 'vitest';
import { adapterFor } from '../adapters/index.ts';
import { COMPOSITIONS } from './compositions.ts';
import { checkProperty, formatFailure } from './property.ts';

const adapter = adapterFor();

describe(`composition properties on ${adapter.name}`, () => {
  test.each(COMPOSITIONS.map((p) => [p.clauses[0], p.title, p] as const))('%s %s', async (_c, _t, p) => {
    const r = await checkProperty(p, adapter);
    if (r.status === 'fail') expect.fail(formatFailure(r, adapter.name));
    expect(r.skipped).toBeLessThan(r.numRuns / 4);
  });
});
