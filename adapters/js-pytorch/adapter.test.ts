import { describe, expect, test } from 'vitest';
import type { Observations, Program } from '../../spec/program.ts';
import { ONE_STEP } from '../program/one-step.example.ts';
import type { Adapter } from '../types.ts';
import jsPytorchAdapter from './index.ts';

// js-pytorch is an optional dependency; without it these tests are skipped.
const adapter: Adapter | null = await jsPytorchAdapter().catch(() => null);

const run = async (program: Program): Promise<Observations> => (await adapter!.run([program]))[0]!;

describe.skipIf(!adapter)('js-pytorch adapter', () => {
  test('op.pow the seed document polynomial in float64: y is 63, and x.grad is reported as js-pytorch computes it (29, not 93)', async () => {
    const o = await run({ ...ONE_STEP, dtype: 'float64' });
    expect(o.error).toBeNull();
    expect(o.observations[0]).toEqual({ label: 'y', value: 63, shape: [], dtype: 'float64', requiresGrad: true });
    // js-pytorch 0.7.2's Pow.backward returns 2 * x * dz whatever the exponent, so the gradient
    // is that of 2x^2 + x^2 + 3x^2 + 5x + 1 at 2: 29. The adapter must pass it on unchanged;
    // gradspec reports it as an op.pow failure (the right value, 93, is PyTorch's).
    expect(o.observations[1]).toEqual({ label: 'x.grad', value: 29, shape: [], dtype: 'float64', requiresGrad: false });
  });

  test('program.observations float32 leaves are refused: js-pytorch computes in float64 JS numbers only', async () => {
    const o = await run(ONE_STEP);
    expect(o.observations).toEqual([]);
    expect(o.error).toMatchObject({ step: '0', category: 'invalid-argument' });
    expect(o.error!.message).toMatch(/^not supported by js-pytorch: float32/);
  });

  test('backward.no-grad-fn backward of a tensor that does not require grad is no-grad-fn, with the engine message', async () => {
    const o = await run({
      id: 'no-grad-fn', dtype: 'float64',
      steps: [{ let: 'x', tensor: [1, 2] }, { let: 'y', op: 'sum', args: ['x'] }, { backward: 'y' }],
    });
    expect(o.error).toEqual({ step: '2', category: 'no-grad-fn', message: 'this tensor has requires_grad set to False' });
  });

  test('op.broadcast shapes js-pytorch cannot combine are shape-mismatch', async () => {
    const o = await run({
      id: 'mismatch', dtype: 'float64',
      steps: [{ let: 'a', tensor: [1, 2] }, { let: 'b', tensor: [1, 2, 3] }, { let: 'c', op: 'add', args: ['a', 'b'] }],
    });
    expect(o.error).toMatchObject({ step: '2', category: 'shape-mismatch' });
  });

  test('op.sum a sum over every dim of a matrix is one engine sum per dim and reads as a 0-d tensor', async () => {
    const o = await run({
      id: 'sum-all', dtype: 'float64',
      steps: [
        { let: 'x', tensor: [[1, 2, 3], [4, 5, 6]], requiresGrad: true },
        { let: 's', op: 'sum', args: ['x'] },
        { backward: 's' },
        { observe: 's' },
        { observe: 'x.grad' },
      ],
    });
    expect(o.error).toBeNull();
    expect(o.observations.map((x) => [x.value, x.shape])).toEqual([[21, []], [[[1, 1, 1], [1, 1, 1]], [2, 3]]]);
  });

  test('op.sin ops js-pytorch lacks are refused as invalid-argument "not supported by js-pytorch: ..."', async () => {
    const o = await run({
      id: 'sin', dtype: 'float64',
      steps: [{ let: 'x', tensor: 1, requiresGrad: true }, { let: 'y', op: 'sin', args: ['x'] }],
    });
    expect(o.error).toEqual({ step: '1', category: 'invalid-argument', message: 'not supported by js-pytorch: sin' });
  });
});

describe.skipIf(!adapter)('gradspec catches js-pytorch\'s pow bug', () => {
  test('op.pow the polynomial property fails op.pow on js-pytorch and shrinks to a small program', async () => {
    const { COMPOSITIONS } = await import('../../properties/compositions.ts');
    const { runSuite } = await import('../../cli/suite.ts');
    const polynomial = COMPOSITIONS.find((p) => p.id === 'gradient.polynomial')!;
    const report = await runSuite(adapter!, [], { runs: 100, properties: [polynomial] });
    expect(report.clauses.find((c) => c.id === 'op.pow')?.status).toBe('fail');
    const message = report.checks[0]!.message!;
    expect(message).toMatch(/engine js-pytorch vs the symbolic oracle disagree/);
    // The shrunk program is a short polynomial: one power term is enough to show the bug.
    const program = JSON.parse(/shrunk program [^\n]*\n\s+(\{.*\})/.exec(message)![1]!) as { steps: { op?: string }[] };
    expect(program.steps.filter((s) => s.op === 'pow').length).toBeLessThanOrEqual(2);
  });
});
