import { expect, test } from 'vitest';
import { cat, stack, tensor } from './index.ts';
import { thrown } from './testing/thrown.ts';

// What programs cannot say (they join at least one tensor); every value was run on PyTorch 1.13.


test('op.cat an empty list is refused, after the 0-d check; a lone input is copied under CatBackward0', () => {
  expect(thrown(() => cat([])).text).toBe('torch.cat(): expected a non-empty list of Tensors');
  expect(thrown(() => cat([tensor(1)], 3)).text).toBe('zero-dimensional tensor (at position 0) cannot be concatenated');
  const x = tensor([1, 2], { requiresGrad: true });
  const y = cat([x]);
  expect([y.tolist(), y.gradFn?.name()]).toEqual([[1, 2], 'CatBackward0']);
});

test('op.stack an empty list is refused; the dim is checked before the shapes', () => {
  expect(thrown(() => stack([])).text).toBe('stack expects a non-empty TensorList');
  expect(thrown(() => stack([tensor(1), tensor([1, 2])], 3)).text).toBe('Dimension out of range (expected to be in range of [-1, 0], but got 3)');
});

test('op.flip flipDim, which backward rules use, is flip([dim]): cumprod through it matches PyTorch', () => {
  const x = tensor([2, 3, 4], { requiresGrad: true });
  x.cumprod(0).sum().backward();
  expect(x.grad!.tolist()).toEqual([16, 10, 6]);
});
