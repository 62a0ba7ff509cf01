import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import type { Observations, Program } from '../../spec/program.ts';
import { ONE_STEP } from '../program/one-step.example.ts';
import adapter from './index.ts';

const run = async (program: Program): Promise<Observations> => (await adapter.run([program]))[0]!;

describe('tfjs adapter', () => {
  test('program.observations the one-step polynomial: y = 63 and dy/dx = 93 at x = 2', async () => {
    const o = await run(ONE_STEP);
    expect(o.error).toBeNull();
    expect(o.observations).toEqual([
      { label: 'y', value: 63, shape: [], dtype: 'float32' },
      { label: 'x.grad', value: 93, shape: [], dtype: 'float32' },
    ]);
  });

  test('grad.returns gradients with respect to a computed input and through it to the leaf', async () => {
    const o = await run({
      id: 'non-leaf-input',
      steps: [
        { let: 'x', tensor: [1, 2], requiresGrad: true },
        { let: 'h', op: 'mul', args: ['x', 3] },
        { let: 'y', op: 'mul', args: ['h', 'h'] },
        { let: 's', op: 'sum', args: ['y'] },
        { let: ['gh', 'gx'], grad: { outputs: ['s'], inputs: ['h', 'x'] } },
        { observe: 'gh' }, { observe: 'gx' }, { observe: 'x.grad' },
      ],
    });
    expect(o.observations.map((x) => x.value ?? 'none')).toEqual([[6, 12], [18, 36], 'none']);
  });

  test('backward.create-graph second derivative of x^3 at 2 is 12', async () => {
    const o = await run({
      id: 'second-order',
      steps: [
        { let: 'x', tensor: 2, requiresGrad: true },
        { let: 'y', op: 'pow', args: ['x', 3] },
        { let: ['g'], grad: { outputs: ['y'], inputs: ['x'], createGraph: true } },
        { let: ['h'], grad: { outputs: ['g'], inputs: ['x'] } },
        { observe: 'g' }, { observe: 'h' },
      ],
    });
    expect(o.observations.map((x) => x.value)).toEqual([12, 12]);
  });

  test('graph.detach no gradient flows through detach: d/da of a * detach(a) at 3 is 3', async () => {
    const o = await run({
      id: 'detach',
      steps: [
        { let: 'a', tensor: 3, requiresGrad: true },
        { let: 'd', op: 'detach', args: ['a'] },
        { let: 'y', op: 'mul', args: ['a', 'd'] },
        { backward: 'y' },
        { observe: 'a.grad' },
      ],
    });
    expect(o.observations[0]!.value).toBe(3);
  });

  test('grad.allow-unused an input the output does not use: unused-input without allowUnused, none with it', async () => {
    const steps = (allowUnused: boolean): Program['steps'] => [
      { let: 'a', tensor: [1, 2], requiresGrad: true },
      { let: 'c', tensor: [1, 2], requiresGrad: true },
      { let: 's', op: 'sum', args: ['a'] },
      { let: ['ga', 'gc'], grad: { outputs: ['s'], inputs: ['a', 'c'], allowUnused } },
      { observe: 'gc' },
    ];
    expect((await run({ id: 'strict', steps: steps(false) })).error?.category).toBe('unused-input');
    expect((await run({ id: 'allowed', steps: steps(true) })).observations).toEqual([{ label: 'gc', none: true }]);
  });

  test('op.broadcast shapes that do not broadcast fail with shape-mismatch at that step', async () => {
    const o = await run({
      id: 'broadcast-error',
      steps: [
        { let: 'a', tensor: [[1, 2, 3], [4, 5, 6]] },
        { let: 'b', tensor: [1, 2, 3, 4] },
        { let: 'c', op: 'add', args: ['a', 'b'] },
        { observe: 'c' },
      ],
    });
    expect(o.observations).toEqual([]);
    expect(o.error).toMatchObject({ step: '2', category: 'shape-mismatch' });
  });

  test('tensor.dtype float64 leaves are refused: tfjs has float32 only', async () => {
    const o = await run({ id: 'f64', dtype: 'float64', steps: [{ let: 'x', tensor: 1 }] });
    expect(o.error).toEqual({ step: '0', category: 'invalid-argument', message: 'not supported by tfjs: float64 (tfjs tensors are float32 only)' });
  });

  test('index.advanced x[None, 1:, [0, -1, 0]]: the slice and new axis first, then the list gathers; the repeated index adds its gradients', async () => {
    const o = await run({
      id: 'index-advanced',
      steps: [
        { let: 'x', tensor: [[1, 2, 3], [4, 5, 6]], requiresGrad: true },
        { let: 'y', op: 'index', args: ['x'], attrs: { items: [null, { start: 1 }, [0, -1, 0]] } },
        { let: 's', op: 'sum', args: ['y'] },
        { backward: 's' },
        { observe: 'y' }, { observe: 'x.grad' },
      ],
    });
    expect(o.observations.map((x) => [x.value, x.shape])).toEqual([[[[[4, 6, 4]]], [1, 1, 3]], [[[0, 0, 0], [2, 0, 1]], [2, 3]]]);
  });

  test('op.unbind binds one name per piece; a list of the wrong length fails as unpacking does; writes through views are refused', async () => {
    const x: Program['steps'][number] = { let: 'x', tensor: [[1, 2], [3, 4]], requiresGrad: true };
    const o = await run({
      id: 'unbind',
      steps: [
        x,
        { let: ['a', 'b'], op: 'unbind', args: ['x'], attrs: { dim: 1 } },
        { let: 'b3', op: 'mul', args: ['b', 3] },
        { let: 'y', op: 'add', args: ['a', 'b3'] },
        { let: 's', op: 'sum', args: ['y'] },
        { backward: 's' },
        { observe: 'a' }, { observe: 'x.grad' },
      ],
    });
    expect(o.error).toBeNull();
    expect(o.observations.map((x) => x.value)).toEqual([[1, 3], [[1, 3], [1, 3]]]);
    const unpack = await run({ id: 'unpack', steps: [x, { let: ['a'], op: 'unbind', args: ['x'], attrs: { dim: 1 } }] });
    expect(unpack.error).toEqual({ step: '1', category: 'invalid-argument', message: 'too many values to unpack (expected 1)' });
    const write = await run({ id: 'copy', steps: [x, { let: 'v', op: 'select', args: ['x'], attrs: { dim: 0, index: 0 } }, { inplace: 'copy_', target: 'v', args: [0] }] });
    expect(write.error?.message).toMatch(/^not supported by tfjs/);
  });

  test('program.observations running programs frees their tensors and variables', async () => {
    await run(ONE_STEP);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await run(ONE_STEP);
    expect(tf.memory().numTensors).toBe(before);
  });
});
