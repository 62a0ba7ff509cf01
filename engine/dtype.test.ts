import { describe, expect, test } from 'vitest';
import { tensor, where, type Tensor } from './index.ts';
import { thrown } from './testing/thrown.ts';

// Every expected value below was run on PyTorch 1.13.

const int = (data: number | unknown[]) => tensor(data as number[], { dtype: 'int64' });
const view = (t: Tensor) => ({ dtype: t.dtype, value: t.tolist() });

describe('int64 and bool tensors', () => {
  test('dtype.create makes int64 and bool leaves, truncating and testing nonzero, and casts with to()', () => {
    expect(view(int([1.7, -2.7, 0]))).toEqual({ dtype: 'int64', value: [1, -2, 0] });
    expect(view(tensor([true, false]))).toEqual({ dtype: 'bool', value: [true, false] });
    expect(view(tensor([2, 0, NaN], { dtype: 'bool' }))).toEqual({ dtype: 'bool', value: [true, false, true] });
    const x = tensor([1.7, -2.7, 0.5], { requiresGrad: true });
    const i = x.to('int64');
    expect([view(i), i.requiresGrad, i.gradFn]).toEqual([{ dtype: 'int64', value: [1, -2, 0] }, false, null]);
    expect(view(x.to('bool'))).toEqual({ dtype: 'bool', value: [true, true, true] });
    expect(view(tensor([NaN, Infinity, -0, 0.3]).to('bool')).value).toEqual([true, true, false, true]);
    expect(view(tensor([true, false]).to('int64')).value).toEqual([1, 0]);
    expect(view(int([3, -2]).to('float64'))).toEqual({ dtype: 'float64', value: [3, -2] });
  });

  test('dtype.requires-grad int64 and bool never require grad, with PyTorch\'s three messages', () => {
    expect(thrown(() => int([1]).requiresGrad_()).text).toBe('only Tensors of floating point dtype can require gradients');
    expect(thrown(() => tensor([1], { dtype: 'int64', requiresGrad: true })).text).toBe('Only Tensors of floating point and complex dtype can require gradients');
    expect(thrown(() => { tensor([true]).requiresGrad = true; }).text).toBe('only Tensors of floating point and complex dtype can require gradients');
    expect(int([1]).requiresGrad_(false).requiresGrad).toBe(false);
    const x = tensor([1.7, -2.7, 0.5], { requiresGrad: true });
    const y = x.mul(int([3, -2, 0]));
    expect([y.gradFn?.name(), y.gradFn?.nextFunctions.map(([n]) => n?.name() ?? null)]).toEqual(['MulBackward0', ['AccumulateGrad', null]]);
    y.sum().backward();
    expect(x.grad?.tolist()).toEqual([3, -2, 0]);
    expect(x.grad?.dtype).toBe('float32');
  });

  test('dtype.promotion follows the category rule over the three groups', () => {
    const [i, b, f, d] = [int([3, -2]), tensor([true, false]), tensor([1.5, 2]), tensor([1.5, 2], { dtype: 'float64' })];
    const [i0, b0, f0, d0] = [int(3), tensor(true), tensor(1.5), tensor(1.5, { dtype: 'float64' })];
    expect([i.add(d0), i.add(2.5), i.add(b), i.add(2), i.add(f0), b.add(2), b.add(i0), b.add(b0), f.add(d0), d.add(i), f.add(i)].map((t) => t.dtype))
      .toEqual(['float64', 'float32', 'int64', 'int64', 'float32', 'int64', 'int64', 'bool', 'float32', 'float64', 'float32']);
    expect([i0.add(2.5), b0.add(2), i0.add(d0), i0.add(b0)].map((t) => t.dtype)).toEqual(['float32', 'int64', 'float64', 'int64']);
    expect(view(i.div(i))).toEqual({ dtype: 'float32', value: [1, 1] });
    expect(view(b.div(b)).value).toEqual([1, NaN]);
    expect(view(i.pow(i))).toEqual({ dtype: 'int64', value: [27, 0] });
    expect(view(int([0, 1, -1, 2, -2]).pow(int([-1, -1, -3, -2, -1]))).value).toEqual([0, 1, -1, 0, 0]);
    expect(view(b.add(b0))).toEqual({ dtype: 'bool', value: [true, true] });
    expect(view(b.mul(b0.to('bool')))).toEqual({ dtype: 'bool', value: [true, false] });
    expect(thrown(() => i.powScalar(-1)).text).toBe('Integers to negative integer powers are not allowed.');
    expect(thrown(() => i.sub(b)).text).toBe('Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.');
    expect(thrown(() => b.sub(b0)).text).toBe('Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.');
    expect(thrown(() => b.rsub(1)).text).toMatch(/^Subtraction, the `-` operator, with a bool tensor/);
    expect(thrown(() => b.pow(b0)).text).toBe('"pow" not implemented for \'Bool\'');
    expect(view(i.rsub(3))).toEqual({ dtype: 'int64', value: [0, 5] });
    expect(view(i.rsub(2.5))).toEqual({ dtype: 'float32', value: [-0.5, 4.5] });
  });

  test('dtype.ops float math gives float32, integer ops keep int64, bool is refused where PyTorch refuses it', () => {
    const [i, b] = [int([1, 2]), tensor([true, false])];
    expect(view(i.exp())).toEqual({ dtype: 'float32', value: [Math.fround(Math.E), Math.fround(Math.exp(2))] });
    expect(view(b.sqrt())).toEqual({ dtype: 'float32', value: [1, 0] });
    expect([i.neg(), i.abs(), i.relu(), i.floor(), i.sign(), b.sign(), i.square(), b.square(), i.sum(), b.sum(), b.sum(0)].map(view)).toEqual([
      { dtype: 'int64', value: [-1, -2] }, { dtype: 'int64', value: [1, 2] }, { dtype: 'int64', value: [1, 2] },
      { dtype: 'int64', value: [1, 2] }, { dtype: 'int64', value: [1, 1] }, { dtype: 'bool', value: [true, false] },
      { dtype: 'int64', value: [1, 4] }, { dtype: 'int64', value: [1, 0] }, { dtype: 'int64', value: 3 },
      { dtype: 'int64', value: 1 }, { dtype: 'int64', value: 1 },
    ]);
    expect(thrown(() => i.mean()).text).toBe('mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long');
    expect(thrown(() => b.mean(0)).text).toBe('mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Bool');
    expect(thrown(() => b.neg()).text).toBe('Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.');
    expect(thrown(() => b.relu()).text).toBe('Boolean inputs not supported for relu');
    expect(thrown(() => b.abs()).text).toBe('"abs_cpu" not implemented for \'Bool\'');
    expect(thrown(() => b.trunc()).text).toBe('"trunc_vml_cpu" not implemented for \'Bool\'');
    const m = int([[1, 2], [3, 4]]);
    expect(view(m.matmul(m))).toEqual({ dtype: 'int64', value: [[7, 10], [15, 22]] });
    expect(view(m.t())).toEqual({ dtype: 'int64', value: [[1, 3], [2, 4]] });
    expect(thrown(() => m.matmul(tensor([1, 2]))).text).toBe('expected scalar type Long but found Float');
    expect(thrown(() => int([1, 2]).matmul(tensor([1, 2]))).text).toBe('dot : expected both vectors to have same dtype, but found Long and Float');
    expect(thrown(() => int([3, -2]).add_(1.5)).text).toBe("result type Float can't be cast to the desired output type Long");
    expect(thrown(() => tensor([true, false]).add_(1)).text).toBe("result type Long can't be cast to the desired output type Bool");
    expect(view(int([3, -2]).fill_(-2.7)).value).toEqual([-2, -2]);
    expect(view(int([3, -2]).add_(1)).value).toEqual([4, -1]);
    expect(view(tensor([true, false]).fill_(2.7)).value).toEqual([true, true]);
  });

  test('dtype.repr prints int64 and bool as Python does', () => {
    expect(String(int([1, 2]))).toBe('tensor([1, 2])');
    expect(String(tensor([true, false]))).toBe('tensor([ True, False])');
    expect(String(int(-5))).toBe('tensor(-5)');
    expect(String(tensor(true))).toBe('tensor(True)');
    expect(String(int([-1, 20, -300]))).toBe('tensor([  -1,   20, -300])');
    expect(String(int([[1, -2], [30, 4]]))).toBe('tensor([[ 1, -2],\n        [30,  4]])');
    expect(String(int([123456789012, 1]))).toBe('tensor([123456789012,            1])');
    expect(String(tensor([], { dtype: 'bool' }))).toBe('tensor([], dtype=torch.bool)');
    expect(String(int([]).reshape([2, 0]))).toBe('tensor([], size=(2, 0), dtype=torch.int64)');
    const range = int(Array.from({ length: 2000 }, (_, k) => k));
    expect(String(range)).toBe('tensor([   0,    1,    2,  ..., 1997, 1998, 1999])');
    expect(String(range.sub(5).relu().to('bool'))).toBe('tensor([False, False, False,  ...,  True,  True,  True])');
  });
});

describe('comparisons and where', () => {
  test('op.compare gives bool tensors that never require grad, compares in the promoted dtype, IEEE on nan', () => {
    const x = tensor([1.5, -2, 0, NaN], { requiresGrad: true });
    const y = tensor([1.5, 3, -0, NaN]);
    const r = x.ge(y);
    expect([view(r), r.requiresGrad, r.gradFn]).toEqual([{ dtype: 'bool', value: [true, false, true, false] }, false, null]);
    expect(view(x.ne(y)).value).toEqual([false, true, false, true]);
    expect(view(x.gt(0)).value).toEqual([true, false, false, false]);
    expect(view(tensor([0.1]).eq(tensor(0.1, { dtype: 'float64' }))).value).toEqual([true]);
    expect(view(tensor([0.1], { dtype: 'float64' }).eq(tensor([0.1]))).value).toEqual([false]);
    expect(view(int([1, 2]).gt(1.5)).value).toEqual([false, true]);
  });

  test('op.where takes a where the condition holds, b elsewhere, broadcasting, with where(c, g, 0) and where(c, 0, g) as gradients', () => {
    const c = tensor([true, false, true]);
    const a = tensor([[1], [2]], { requiresGrad: true });
    const b = tensor([10, 20, 30], { requiresGrad: true });
    const w = where(c, a, b);
    expect([String(w), w.gradFn?.nextFunctions.map(([n]) => n?.name() ?? null)])
      .toEqual(['tensor([[ 1., 20.,  1.],\n        [ 2., 20.,  2.]], grad_fn=<WhereBackward0>)', ['AccumulateGrad', 'AccumulateGrad']]);
    w.backward(tensor([[1, 1, 1], [1, 1, 1]]));
    expect([a.grad?.tolist(), b.grad?.tolist()]).toEqual([[[2], [2]], [0, 2, 0]]);
    const x = tensor([1.5, -2], { requiresGrad: true });
    expect(x.where(x.gt(0), 0).gradFn?.nextFunctions.map(([n]) => n?.name() ?? null)).toEqual(['AccumulateGrad', null]);
    expect([where(c, 1, 2).dtype, where(c, int([1, 2, 3]), 2.5).dtype]).toEqual(['int64', 'float32']);
    expect(thrown(() => where(tensor([1, 0]), x, 0)).text).toBe('where expected condition to be a boolean tensor, but got a tensor with dtype Float');
  });

  test('op.where.nan-trap where(x > 0, x.sqrt(), 0) at 0 has the gradient nan', () => {
    const z = tensor([0, 4], { requiresGrad: true });
    where(z.gt(0), z.sqrt(), 0).sum().backward();
    expect(z.grad?.tolist()).toEqual([NaN, 0.25]);
  });
});
