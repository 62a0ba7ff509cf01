import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { validateProgram } from '../adapters/program/validate.ts';
import { simulate, viewsModel } from './views-model.ts';
import { VIEWS_INPLACE } from './views-inplace.ts';
import { describeProperties } from './vitest.ts';

describeProperties('views written in place', [viewsModel, VIEWS_INPLACE]);

describe('the views model', () => {
  test('views.alias the model builds programs that pass the validator', () => {
    for (const sample of fc.sample(viewsModel.arbitrary, { numRuns: 100, seed: 1 })) {
      for (const program of viewsModel.programs(sample)) expect(() => validateProgram(program)).not.toThrow();
    }
  });

  test('views.rebase the model predicts a write through a transposed slice, and its gradients', () => {
    const sim = simulate([
      { kind: 'view', of: 0, view: { op: 'transpose', dim0: 0, dim1: 1 } },
      { kind: 'view', of: 2, view: { op: 'select', dim: 0, index: 1 } },
      { kind: 'write', target: 3, op: 'mul_', k: 3, noGrad: false },
      { kind: 'observe', of: 0, other: 3 },
    ]);
    // b0 = [[1, 2, 3], [4, 5, 6]]; b0.t()[1] is column 1: [2, 5] becomes [6, 15].
    expect(sim.expect[0]).toMatchObject({ value: [1, 6, 3, 4, 15, 6], version: 1, sharesStorage: true });
    expect(sim.grads![0]).toEqual([0, 3, 0, 0, 3, 0]);
  });
});
