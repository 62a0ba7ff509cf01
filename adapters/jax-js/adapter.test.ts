import { createRequire } from 'node:module';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Observations, Program, Step } from '../../spec/program.ts';
import { ONE_STEP } from '../program/one-step.example.ts';
import type { Adapter } from '../types.ts';

// jax-js is an optional dependency: without it there is nothing to test.
const installed = (() => {
  try {
    createRequire(import.meta.url).resolve('@jax-js/jax');
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!installed)('jax-js adapter', () => {
  let adapter: Adapter;
  beforeAll(async () => {
    const mod = (await import('./index.ts')) as { default: () => Promise<Adapter> };
    adapter = await mod.default();
  });

  const run = async (steps: Step[], dtype?: Program['dtype']): Promise<Observations> =>
    (await adapter.run([{ id: 'test', ...(dtype ? { dtype } : {}), steps }]))[0]!;
  const value = (o: Observations, label: string) => o.observations.find((x) => x.label === label)?.value;

  test('backward.scalar-seed the seed document polynomial at 2 is 63 with dy/dx 93, in float32 and float64', async () => {
    const [f32, f64] = await adapter.run([ONE_STEP, { ...ONE_STEP, dtype: 'float64' }]);
    for (const [o, dtype] of [[f32!, 'float32'], [f64!, 'float64']] as const) {
      expect(o.error).toBeNull();
      expect(o.observations).toEqual([
        { label: 'y', value: 63, shape: [], dtype },
        { label: 'x.grad', value: 93, shape: [], dtype },
      ]);
    }
  });

  test('backward.create-graph the second derivative comes from nesting jax-js transforms (114 at 2)', async () => {
    const steps = ONE_STEP.steps.filter((s) => 'let' in s && !('grad' in s)) as Step[];
    const o = await run([
      ...steps,
      { let: ['g'], grad: { outputs: ['y'], inputs: ['x'], createGraph: true } },
      { let: ['h'], grad: { outputs: ['g'], inputs: ['x'] } },
      { observe: 'g' }, { observe: 'h' }, { observe: 'x.grad' },
    ], 'float64');
    expect(o.error).toBeNull();
    expect(value(o, 'g')).toBe(93);
    expect(value(o, 'h')).toBeCloseTo(114, 12);
    expect(o.observations.at(-1)).toEqual({ label: 'x.grad', none: true });
  });

  test('grad.returns gradients with respect to a leaf and a non-leaf, .grad untouched', async () => {
    const o = await run([
      { let: 'x', tensor: [1, 2], requiresGrad: true },
      { let: 'b', op: 'mul', args: ['x', 3] },
      { let: 'p', op: 'mul', args: ['b', 'b'] },
      { let: 'y', op: 'sum', args: ['p'] },
      { let: ['gx', 'gb'], grad: { outputs: ['y'], inputs: ['x', 'b'] } },
      { observe: 'gx' }, { observe: 'gb' }, { observe: 'x.grad' },
    ]);
    expect(o.error).toBeNull();
    // d/dx (3x)^2 = 18x through b, and d/db b^2 = 2b: the non-leaf input does not cut the path.
    expect(value(o, 'gx')).toEqual([18, 36]);
    expect(value(o, 'gb')).toEqual([6, 12]);
    expect(o.observations[2]).toEqual({ label: 'x.grad', none: true });
  });

  test('backward.multi-root one pass from several outputs sums their gradients', async () => {
    const o = await run([
      { let: 'a', tensor: [1, 2, 3], requiresGrad: true },
      { let: 's', op: 'sum', args: ['a'] },
      { let: 'aa', op: 'mul', args: ['a', 'a'] },
      { let: 'q', op: 'sum', args: ['aa'] },
      { autogradBackward: ['s', 'q'] },
      { observe: 'a.grad' },
    ]);
    expect(value(o, 'a.grad')).toEqual([3, 5, 7]);
  });

  test('graph.detach lax.stopGradient cuts the gradient of a * a.detach()', async () => {
    const o = await run([
      { let: 'a', tensor: 3, requiresGrad: true },
      { let: 'd', op: 'detach', args: ['a'] },
      { let: 'y', op: 'mul', args: ['a', 'd'] },
      { backward: 'y' },
      { observe: 'a.grad' },
    ]);
    expect(value(o, 'a.grad')).toBe(3);
  });

  test('backward.implicit-non-scalar jax-js grad refuses an output that is not 0-d', async () => {
    const o = await run([
      { let: 'x', tensor: [1, 2, 3], requiresGrad: true },
      { let: 'y', op: 'mul', args: ['x', 2] },
      { backward: 'y' },
    ]);
    expect(o.error).toEqual({ step: '2', category: 'implicit-non-scalar', message: 'grad requires a scalar output' });
  });

  test('errors.class an engine error is recorded with its step, category and jax-js message', async () => {
    const o = await run([
      { let: 'a', tensor: [[1, 2, 3], [4, 5, 6]] },
      { let: 'b', tensor: [1, 2, 3, 4] },
      { observe: 'a' },
      { let: 'c', op: 'add', args: ['a', 'b'] },
      { observe: 'c' },
    ]);
    expect(o.observations.map((x) => x.label)).toEqual(['a']);
    expect(o.error).toMatchObject({ step: '3', category: 'shape-mismatch' });
    expect(o.error?.message).toMatch(/^Incompatible array broadcast shapes/);
  });

  test('program.observations non-finite values and negative zero are spelled out; steps jax-js lacks are refused', async () => {
    const o = await run([
      { let: 'x', tensor: ['nan', 'inf', '-inf', '-0'], dtype: 'float64' },
      { observe: 'x' },
      { inplace: 'add_', target: 'x', args: [1] },
    ]);
    expect(o.observations).toEqual([{ label: 'x', value: ['nan', 'inf', '-inf', '-0'], shape: [4], dtype: 'float64' }]);
    expect(o.error).toMatchObject({ step: '2', category: 'invalid-argument' });
    expect(o.error?.message).toMatch(/^not supported by jax-js:/);
  });

  test('op.split pieces bind one name each and x[None, 1:, [0, 2, 0]] gathers after the slice; a write through a view is refused', async () => {
    const x: Step = { let: 'x', tensor: [[1, 2, 3], [4, 5, 6]], requiresGrad: true };
    const o = await run([
      x,
      { let: ['a', 'b'], op: 'split', args: ['x'], attrs: { splitSize: [1, 2], dim: 1 } },
      { let: 'y', op: 'index', args: ['x'], attrs: { items: [null, { start: 1 }, [0, 2, 0]] } },
      { let: 'b3', op: 'mul', args: ['b', 3] },
      { let: 'sb', op: 'sum', args: ['b3'] },
      { let: 'sy', op: 'sum', args: ['y'] },
      { let: 's', op: 'add', args: ['sb', 'sy'] },
      { backward: 's' },
      { observe: 'a' }, { observe: 'y' }, { observe: 'x.grad' },
    ], 'float64');
    expect(o.error).toBeNull();
    expect(o.observations.map((x) => x.value)).toEqual([[[1], [4]], [[[4, 6, 4]]], [[0, 3, 3], [2, 3, 4]]]);
    const write = await run([x, { let: 'v', op: 'select', args: ['x'], attrs: { dim: 0, index: 0 } }, { inplace: 'copy_', target: 'v', args: [0] }]);
    expect(write.error?.message).toMatch(/^not supported by jax-js/);
  });
});
