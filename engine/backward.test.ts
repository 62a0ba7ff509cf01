import { describe, expect, test } from 'vitest';
import { autograd, tensor } from './index.ts';

describe('backward', () => {
  test('backward.iterative a chain of 1,000,000 nodes backpropagates without a stack overflow', () => {
    const x = tensor(1, { requiresGrad: true, dtype: 'float64' });
    let y = x;
    for (let i = 0; i < 1_000_000; i++) y = y.add(1);
    y.backward();
    expect(x.grad?.item()).toBe(1);
  });

  test('backward.multi-root autograd.backward takes one gradient per tensor', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    autograd.backward([x.mul(2), x.mul(x).sum()], [tensor([1, 1, 1]), null]);
    expect(x.grad?.tolist()).toEqual([4, 6, 8]);
  });

  test('backward.create-graph backward with createGraph leaves a differentiable .grad', () => {
    const x = tensor(2, { requiresGrad: true, dtype: 'float64' });
    x.pow(3).backward(null, { createGraph: true });
    expect(x.grad?.item()).toBe(12);
    expect(x.grad?.requiresGrad).toBe(true);
    const [g2] = autograd.grad(x.grad!, x);
    expect(g2?.item()).toBe(12); // d/dx 3x^2 = 6x
  });
});
