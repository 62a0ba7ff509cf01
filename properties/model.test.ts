import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { validateProgram } from '../adapters/program/validate.ts';
import { model } from './model.ts';
import { describeProperties } from './vitest.ts';

describeProperties('model-based properties', [model]);

describe('the model', () => {
  test.each([[model.clauses[0]]])('%s the model builds programs that pass the validator', (_c) => {
    for (const sample of fc.sample(model.arbitrary, { numRuns: 100, seed: 1 })) {
      for (const program of model.programs(sample)) expect(() => validateProgram(program)).not.toThrow();
    }
  });
});
