import { describe, expect, test } from 'vitest';
import { EngineError, tensor, type Tensor } from './index.ts';

/*
 * The gather family's argument errors: each message and category as PyTorch 1.13 gives them
 * (confirmed there; the fixtures under fixtures/spec/op.*.json pin the out-of-range ones).
 */

const x = () => tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
const long = (v: number | number[] | number[][]) => tensor(v, { dtype: 'int64' });

function refusal(fn: () => unknown): { category: string; text: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return { category: e.category, text: e.text };
    throw e;
  }
  throw new Error('expected a refusal');
}

const cases: [string, string, () => Tensor, string, string][] = [
  ['op.index-select', 'a 2-d index', () => x().indexSelect(0, long([[0]])), 'invalid-argument', 'index_select(): Index is supposed to be a vector'],
  ['op.index-select', 'a 0-d input takes index 0 only', () => tensor(3, { requiresGrad: true }).indexSelect(0, long([1])), 'invalid-argument', 'index out of range in self'],
  ['op.gather', 'a float index', () => x().gather(0, tensor([[0]])), 'invalid-argument', 'gather(): Expected dtype int64 for index'],
  ['op.gather', 'an index of another rank', () => x().gather(0, long([0])), 'shape-mismatch', 'Index tensor must have the same number of dimensions as input tensor'],
  ['op.scatter', 'a float index', () => x().scatter(0, tensor([[0]]), 1.5), 'invalid-argument', 'scatter(): Expected dtype int64 for index'],
  ['op.scatter', 'a src of another dtype', () => x().scatter(0, long([[0]]), tensor([[1]], { dtype: 'float64' })), 'invalid-argument', 'scatter(): Expected self.dtype to be equal to src.dtype'],
  ['op.scatter', 'an index of another rank', () => x().scatter(0, long([0]), 1.5), 'shape-mismatch', 'Index tensor must have the same number of dimensions as self tensor'],
  ['op.scatter', 'an index larger than src', () => x().scatter(0, long([[0], [1], [0]]), tensor([[10, 11, 12, 13], [20, 21, 22, 23]])), 'shape-mismatch',
    'Expected index [3, 1] to be smaller than self [2, 3] apart from dimension 0 and to be smaller size than src [2, 4]'],
  ['op.scatter', 'a src of fewer dims than the index', () => x().scatter(0, long([[0]]), tensor([1])), 'invalid-argument', 'Dimension out of range (expected to be in range of [-1, 0], but got 1)'],
  ['op.scatter-add', 'an index larger than self apart from dim', () => x().scatterAdd(0, long([[0, 0, 0, 0]]), tensor([[1, 1, 1, 1]])), 'shape-mismatch',
    'Expected index [1, 4] to be smaller than self [2, 3] apart from dimension 0 and to be smaller size than src [1, 4]'],
  ['op.index-add', 'a float index', () => x().indexAdd(0, tensor([0, 1]), tensor([[1, 1, 1], [1, 1, 1]])), 'invalid-argument', 'index_add_(): Expected dtype int32/int64 for index but got: Float'],
  ['op.index-add', 'a 2-d index', () => x().indexAdd(0, long([[0, 1]]), tensor([[1, 1, 1], [1, 1, 1]])), 'invalid-argument',
    'index_add_(): Index is supposed to be a vector, but got dim: 2 with type: Long and size: [1, 2]'],
  ['op.index-add', 'a source of another dtype', () => x().indexAdd(0, long([0, 1]), tensor([[1, 1, 1], [1, 1, 1]], { dtype: 'float64' })), 'invalid-argument',
    'index_add_(): self (Float) and source (Double) must have the same scalar type'],
  ['op.index-add', 'a dim past the source', () => x().indexAdd(1, long([0]), tensor([1, 1])), 'invalid-argument', 'index_add_(): Indexing dim 1 is out of bounds of the source tensor with dim 1'],
  ['op.index-add', 'a 0-d source for a matrix', () => x().indexAdd(0, long([1]), tensor(5)), 'invalid-argument', 'select() cannot be applied to a 0-dim tensor.'],
  ['op.index-add', 'a source slice that does not broadcast', () => x().indexAdd(0, long([0, 1]), tensor([[1, 1, 1, 1], [1, 1, 1, 1]])), 'shape-mismatch',
    'The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0'],
  ['op.index-add', 'a source slice that broadcasts to a larger one', () => x().indexAdd(0, long([0, 1]), tensor([[[1], [1], [1]], [[1], [1], [1]]])), 'shape-mismatch',
    "output with shape [3] doesn't match the broadcast shape [3, 3]"],
  ['op.masked-fill', 'a mask that does not broadcast', () => x().maskedFill(tensor([true, false], { dtype: 'bool' }), 0), 'shape-mismatch',
    'The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 1'],
];

describe('the gather family refuses what PyTorch 1.13 refuses', () => {
  test.each(cases)('%s %s', (_clause, _what, call, category, text) => {
    expect(refusal(call)).toEqual({ category, text });
  });

  test('op.index-select the backward of a 0-d input with two indices fails as 1.13 does', () => {
    const s = tensor(3, { requiresGrad: true });
    const y = s.indexSelect(0, long([0, 0]));
    expect(y.item()).toBe(3);
    expect(refusal(() => y.backward())).toEqual({ category: 'invalid-argument', text: 'Dimension specified as 0 but tensor has no dimensions' });
  });

  test('op.index-add a broadcast source: the forward adds it, its gradient fails in expand as 1.13 does', () => {
    const source = tensor([1, 1], { requiresGrad: true });
    const y = x().indexAdd(0, long([0, 1]), source);
    expect(y.tolist()).toEqual([[2, 3, 4], [5, 6, 7]]);
    expect(refusal(() => y.sum().backward()).text).toBe('expand(torch.FloatTensor{[2, 3]}, size=[2]): the number of sizes provided (1) must be greater or equal to the number of dimensions in the tensor (2)');
  });
});
