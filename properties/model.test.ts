import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { adapterFor } from '../adapters/index.ts';
import { validateProgram } from '../adapters/program/validate.ts';
import { model } from './model.ts';
import { checkProperty, formatFailure } from './property.ts';

const adapter = adapterFor();

describe(`model-based properties on ${adapter.name}`, () => {
  test.each([[model.clauses[0], model.title, model] as const])('%s %s', async (_c, _t, p) => {
    const r = await checkProperty(p, adapter);
    if (r.status === 'fail') expect.fail(formatFailure(r, adapter.name));
    expect(r.numRuns).toBeGreaterThan(0);
  });

  test.each([[model.clauses[0]]])('%s the model builds programs that pass the validator', (_c) => {
    for (const sample of fc.sample(model.arbitrary, { numRuns: 100, seed: 1 })) {
      for (const program of model.programs(sample)) expect(() => validateProgram(program)).not.toThrow();
    }
  });
});
