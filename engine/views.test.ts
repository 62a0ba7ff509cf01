import { describe, expect, test } from 'vitest';
import { tensor, type Tensor } from './index.ts';
import { thrown } from './testing/thrown.ts';

// Every value below was printed by PyTorch 1.13 for the same calls (spec/autograd.md, Views and Indexing).
const layout = (t: Tensor) => [t.shape, t.stride(), t.storageOffset(), t.isContiguous(), t.isView()];
const int64 = (values: number[]) => tensor(values, { dtype: 'int64' });
const nextNames = (t: Tensor) => t.gradFn!.nextFunctions.map(([n]) => n?.className() ?? null);
const message = (fn: () => unknown) => {
  const e = thrown(fn);
  return [e.category, e.text];
};

describe('views', () => {
  const m = () => tensor([[0, 1, 2], [3, 4, 5]]);

  test('views.layout strides and offsets of view chains are PyTorch\'s', () => {
    expect(m().t().unsqueeze(0).stride()).toEqual([3, 1, 3]);
    expect(m().t().unsqueeze(1).stride()).toEqual([1, 6, 3]);
    expect(m().t().unsqueeze(2).stride()).toEqual([1, 3, 1]);
    expect(layout(m().diagonal(1))).toEqual([[2], [4], 1, false, true]);
    expect(m().diagonal(-1).storageOffset()).toBe(3);
    expect(m().index({}, { start: 3 }).storageOffset()).toBe(3);
    expect(layout(m().index({}, 1))).toEqual([[2], [3], 1, false, true]);
    expect(m().index({}, null).view([6]).stride()).toEqual([1]);
    expect(tensor([0, 0, 0]).expand([2, 3]).view([2, 3, 1]).stride()).toEqual([0, 1, 1]);
    const x = m();
    expect(x.contiguous()).toBe(x);
    const c = x.t().contiguous();
    expect([c.gradFn, c.isContiguous(), c.sharesStorage(x)]).toEqual([null, true, false]);
  });

  test('views.alias views share storage; clone and detach do not make views', () => {
    const x = m();
    expect([x.t().sharesStorage(x), x.index(0).sharesStorage(x.index(1)), x.clone().sharesStorage(x)]).toEqual([true, true, false]);
    expect([x.detach().sharesStorage(x), x.detach().isView(), x.isView()]).toEqual([true, false, false]);
  });

  test('op.view view fails where the layout cannot be viewed, reshape then copies', () => {
    const x = tensor([[0, 1], [2, 3]], { requiresGrad: true });
    expect(message(() => x.t().view([4]))).toEqual(['shape-mismatch', "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead."]);
    expect(() => tensor([0, 0, 0]).expand([2, 3]).view([6])).toThrow(/view size is not compatible/);
    const r = x.t().reshape([4]);
    expect([r.gradFn?.name(), nextNames(r), r.isView(), r.tolist()]).toEqual(['UnsafeViewBackward0', ['CloneBackward0'], false, [0, 2, 1, 3]]);
    expect([x.reshape([4]).gradFn?.name(), x.reshape([4]).isView()]).toEqual(['ReshapeAliasBackward0', true]);
  });

  test('op.select select picks one index, with PyTorch\'s messages', () => {
    const x = tensor([[0, 1, 2], [3, 4, 5]], { requiresGrad: true });
    const s = x.select(1, -1);
    expect([s.tolist(), s.gradFn?.name()]).toEqual([[2, 5], 'SelectBackward0']);
    s.sum().backward();
    expect(x.grad?.tolist()).toEqual([[0, 0, 1], [0, 0, 1]]);
    expect(message(() => x.select(1, -4))).toEqual(['invalid-argument', 'select(): index -4 out of range for tensor of size [2, 3] at dimension 1']);
  });

  test('op.narrow narrow is a slice; start and length are checked as PyTorch checks them', () => {
    const x = tensor([[0, 1, 2], [3, 4, 5]], { requiresGrad: true });
    const n = x.narrow(1, -2, 2);
    expect([n.tolist(), n.gradFn?.name()]).toEqual([[[1, 2], [4, 5]], 'SliceBackward0']);
    n.sum().backward();
    expect(x.grad?.tolist()).toEqual([[0, 1, 1], [0, 1, 1]]);
    expect(message(() => x.narrow(1, 2, 2))).toEqual(['invalid-argument', 'start (2) + length (2) exceeds dimension size (3).']);
    expect([x.narrow(1, 3, 0).shape, x.narrow(1, 3, 0).storageOffset()]).toEqual([[2, 0], 3]); // start = size is kept
    expect(message(() => x.narrow(1, 4, 0))).toEqual(['invalid-argument', 'Dimension out of range (expected to be in range of [-3, 2], but got 4)']);
  });

  test('op.diagonal diagonal with offsets and swapped dims', () => {
    const x = tensor([[0, 1, 2], [3, 4, 5]], { requiresGrad: true });
    expect(x.diagonal(0, 1, 0).tolist()).toEqual([0, 4]);
    expect(x.diagonal(5).shape).toEqual([0]);
    x.diagonal(1).sum().backward();
    expect(x.grad?.tolist()).toEqual([[0, 1, 0], [0, 0, 1]]);
    expect(message(() => x.diagonal(0, 1, 1))).toEqual(['invalid-argument', 'diagonal dimensions cannot be identical 1, 1']);
  });

  test('op.unbind unbind gives views that are outputs of one op', () => {
    const x = tensor([[0, 1], [2, 3]], { requiresGrad: true });
    const [a, b] = x.mul(2).unbind(1);
    expect([a!.gradFn?.name(), a!.stride(), b!.storageOffset(), b!.tolist()]).toEqual(['UnbindBackward0', [2], 1, [2, 6]]);
    b!.mul(a!).sum().backward();
    expect(x.grad?.tolist()).toEqual([[4, 0], [12, 8]]);
    expect(message(() => tensor(1).unbind())).toEqual(['invalid-argument', 'Dimension specified as 0 but tensor has no dimensions']);
  });

  test('op.split split and chunk, by size and by sections', () => {
    const x = tensor([[0, 1, 2], [3, 4, 5]], { requiresGrad: true });
    expect(x.chunk(4, 1).map((t) => t.shape)).toEqual([[2, 1], [2, 1], [2, 1]]);
    const empty = tensor([[], []], { requiresGrad: true });
    expect(empty.chunk(3, 1).map((t) => [t.shape, t.gradFn?.name()])).toEqual(Array(3).fill([[2, 0], 'SplitWithSizesBackward0']));
    expect(empty.split(0, 1).map((t) => t.gradFn?.name())).toEqual(['SplitBackward0']);
    expect(x.chunk(2, 1).map((t) => [t.shape, t.gradFn?.name()])).toEqual([[[2, 2], 'SplitBackward0'], [[2, 1], 'SplitBackward0']]);
    const [p, q] = x.split([1, 2], 1);
    expect([p!.gradFn?.name(), q!.tolist()]).toEqual(['SplitWithSizesBackward0', [[1, 2], [4, 5]]]);
    q!.sum().backward();
    expect(x.grad?.tolist()).toEqual([[0, 1, 1], [0, 1, 1]]);
    expect(message(() => x.split(0))).toEqual(['invalid-argument', 'split_size can only be 0 if dimension size is 0, but got dimension size of 2']);
    expect(message(() => x.split([1, 1], 1))).toEqual(['invalid-argument', "split_with_sizes expects split_sizes to sum exactly to 3 (input tensor's size at dimension 1), but got split_sizes=[1, 1]"]);
    expect(message(() => x.chunk(0))).toEqual(['invalid-argument', 'chunk expects `chunks` to be greater than 0, got: 0']);
  });

  test('op.copy copy_ broadcasts and casts; the old value gets no gradient', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const z = tensor([[0, 0], [0, 0]], { requiresGrad: true }).mul(1);
    z.copy_(w);
    expect([z.tolist(), z.gradFn?.name(), nextNames(z)]).toEqual([[[1, 2], [1, 2]], 'CopyBackwards', ['MulBackward0', 'AccumulateGrad']]);
    z.sum().backward();
    expect(w.grad?.tolist()).toEqual([2, 2]);
    expect(tensor([0, 0]).copy_(2.5).tolist()).toEqual([2.5, 2.5]);
    expect(message(() => tensor([[0, 0], [0, 0]]).copy_(tensor([1, 2, 3])))).toEqual(['shape-mismatch', 'The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 1']);
  });
});

describe('indexing', () => {
  test('index.basic numbers, slices, null and ... are views applied left to right', () => {
    const m = tensor([[0, 1], [2, 3]], { requiresGrad: true });
    const v = m.index({ start: 1 }, null, '...');
    expect([v.gradFn?.name(), ...layout(v)]).toEqual(['UnsqueezeBackward0', [1, 1, 2], [2, 2, 1], 2, true, true]);
    expect(m.index('...').gradFn?.name()).toBe('AliasBackward0');
    expect([m.index(0, 1).gradFn?.name(), m.index(0, 1).storageOffset()]).toEqual(['SelectBackward0', 1]);
    expect(m.index({ step: 2 }).stride()).toEqual([4, 1]);
    expect(tensor([[0, 0, 0], [0, 0, 0]]).index({ start: 5 }).shape).toEqual([0, 3]);
    expect(m.index(int64([1]).index(0)).gradFn?.name()).toBe('SelectBackward0'); // a 0-d int64 index is a number
    expect(message(() => m.index(5))).toEqual(['invalid-argument', 'index 5 is out of bounds for dimension 0 with size 2']);
    expect(message(() => m.index(0, 0, 0))).toEqual(['invalid-argument', 'too many indices for tensor of dimension 2']);
    expect(message(() => m.index({ step: 0 }))).toEqual(['invalid-argument', 'slice step cannot be zero']);
    expect(message(() => m.index({ step: -1 }))).toEqual(['invalid-argument', 'step must be greater than zero']);
  });

  test('index.advanced index tensors gather a copy; duplicates add their gradients', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const g = x.index(int64([0, 0, 2]));
    expect([g.gradFn?.name(), g.isView()]).toEqual(['IndexBackward0', false]);
    g.sum().backward();
    expect(x.grad?.tolist()).toEqual([2, 0, 1]);
    const m = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(m.index(int64([0, 1]), int64([2, 0])).tolist()).toEqual([3, 4]);
    expect(m.index(m.gt(2)).tolist()).toEqual([3, 4, 5, 6]);
    expect(m.index([1, 1]).tolist()).toEqual([[4, 5, 6], [4, 5, 6]]);
    const cube = tensor(Array.from({ length: 24 }, (_, i) => i)).reshape([2, 3, 4]);
    expect(cube.index(int64([0, 1]), {}, int64([0, 1])).shape).toEqual([2, 3]);
    expect(cube.index({}, int64([0, 1, 1])).shape).toEqual([2, 3, 4]);
    expect(x.index(int64([-1])).tolist()).toEqual([3]);
    expect(message(() => m.index(int64([5])))).toEqual(['invalid-argument', 'index 5 is out of bounds for dimension 0 with size 2']);
    expect(message(() => m.index(tensor([0])))).toEqual(['invalid-argument', 'tensors used as indices must be long, byte or bool tensors']);
    expect(message(() => m.index(tensor([true, false, true], { dtype: 'bool' })))).toEqual(['invalid-argument', 'The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [2, 3] at index 0']);
  });

  test('index.put setitem writes through views as PyTorch\'s copy_to, or index_put_', () => {
    const w = tensor([5, 6], { requiresGrad: true });
    let z = tensor([0, 0, 0]);
    z.indexPut_([int64([0, 2])], w);
    expect([z.tolist(), z.gradFn?.className()]).toEqual([[5, 0, 6], 'IndexPutBackward0']);
    z = tensor([0, 0, 0]);
    z.indexPut_([int64([0, 0])], tensor([1, 2]), { accumulate: true });
    expect(z.tolist()).toEqual([3, 0, 0]);
    z = tensor([0, 0, 0]);
    z.indexPut_([0], w.index(0));
    expect([z.gradFn?.className(), nextNames(z)]).toEqual(['CopySlices', [null, 'SelectBackward0']]);
    const m = tensor([[0, 1], [2, 3]], { requiresGrad: true });
    const y = m.mul(1);
    y.indexPut_(['...'], 5);
    expect([y.gradFn?.name(), nextNames(y)]).toEqual(['FillBackward3', ['MulBackward0', null]]);
    const b = tensor([[0, 0, 0], [0, 0, 0]]);
    b.indexPut_([{}], tensor([1, 1, 1], { requiresGrad: true }));
    expect(b.gradFn!.nextFunctions[1]![0]!.className()).toBe('ExpandBackward0');
    expect(message(() => tensor([0, 0, 0]).indexPut_([int64([0, 1])], tensor([1, 1, 1])))).toEqual(['shape-mismatch', 'shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [2]']);
    const two = tensor([[0, 0, 0], [0, 0, 0]]);
    two.indexPut_([int64([0, 1])], tensor([[[1, 2, 3]]])); // leading 1s are dropped before broadcasting
    expect(two.tolist()).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect(message(() => two.indexPut_([int64([0, 1])], tensor([[[1, 2, 3, 4]]])))).toEqual(['shape-mismatch', 'shape mismatch: value tensor of shape [4] cannot be broadcast to indexing result of shape [2, 3]']);
    expect(message(() => tensor([1, 2], { requiresGrad: true }).indexPut_([0], 5))).toEqual(['leaf-inplace', 'a view of a leaf Variable that requires grad is being used in an in-place operation.']);
  });
});
