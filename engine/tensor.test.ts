import { describe, expect, test } from 'vitest';
import { EngineError, tensor } from './index.ts';
import { thrown } from './testing/thrown.ts';


describe('tensors', () => {
  test('tensor.create infers shapes, refuses ragged and non-numeric data', () => {
    expect(tensor([[1, 2, 3], [4, 5, 6]]).shape).toEqual([2, 3]);
    expect(tensor(5).shape).toEqual([]);
    const ragged = thrown(() => tensor([[1, 2], [3]]));
    expect(ragged).toBeInstanceOf(EngineError);
    // PyTorch 1.13: ValueError "expected sequence of length 2 at dim 1 (got 1)"
    expect(ragged.text).toBe('expected sequence of length 2 at dim 1 (got 1)');
    expect(ragged.message).toBe('expected sequence of length 2 at dim 1 (got 1) (in tensor)');
    expect(thrown(() => tensor([1, 'a' as unknown as number])).category).toBe('invalid-argument');
    expect(thrown(() => tensor([[1, 2], 3] as unknown as number[])).category).toBe('invalid-argument');
  });

  test('tensor.dtype float32 rounds stored values, float64 keeps them', () => {
    expect(tensor(0.1).item()).toBe(Math.fround(0.1));
    expect(tensor(0.1, { dtype: 'float64' }).item()).toBe(0.1);
    expect(tensor(1, { dtype: 'float64' }).add(1e-12).item()).toBe(1 + 1e-12);
    expect(tensor(1).add(1e-12).item()).toBe(1);
  });

  test('tensor.item item() and tolist() read values; item() needs one element', () => {
    expect(tensor([[1, 2], [3, 4]]).tolist()).toEqual([[1, 2], [3, 4]]);
    expect(tensor([[7]]).item()).toBe(7);
    const e = thrown(() => tensor([1, 2]).item());
    // PyTorch 1.13: ValueError('only one element tensors can be converted to Python scalars')
    expect(e.text).toBe('only one element tensors can be converted to Python scalars');
    expect(e.message).toBe('only one element tensors can be converted to Python scalars (in item with shape [2])');
  });

  test('errors.class every refusal is an EngineError with a category, never a bare TypeError', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    const cases: [() => unknown, string][] = [
      [() => x.add(tensor([1, 2])), 'shape-mismatch'],
      [() => x.matmul(tensor([1, 2])), 'shape-mismatch'],
      [() => x.reshape([4, -1]), 'shape-mismatch'],
      [() => x.expand([3, 3]), 'shape-mismatch'],
      [() => x.sum(5), 'invalid-argument'],
      [() => x.permute([0]), 'invalid-argument'],
      [() => x.mul(2).backward(), 'implicit-non-scalar'],
      [() => x.add_(1), 'leaf-inplace'],
      [() => x.mul(2).requiresGrad_(false), 'non-leaf-requires-grad'],
      [() => x.add(null as unknown as number), 'invalid-argument'],
      [() => x.matmul(3 as unknown as never), 'invalid-argument'],
    ];
    for (const [fn, category] of cases) {
      const e = thrown(fn);
      expect(e, String(fn)).toBeInstanceOf(EngineError);
      expect(e.category, String(fn)).toBe(category);
    }
    // Shape errors keep PyTorch's text and add the op and both shapes.
    expect(thrown(() => x.add(tensor([1, 2]))).message).toBe(
      'The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1 (in add with shapes [2, 3] and [2])',
    );
  });
});
