import { describe, expect, test } from 'vitest';
import { noGrad, tensor } from './index.ts';

describe('in-place', () => {
  test('views.alias a write through a view is seen by its base and by every other view of the storage', () => {
    const x = tensor([[1, 2], [3, 4]]);
    const t = x.t();
    const row = x.index(1);
    t.add_(1);
    expect(x.tolist()).toEqual([[2, 3], [4, 5]]);
    expect(row.tolist()).toEqual([4, 5]);
    x.reshape([4]).narrow(0, 0, 1).mul_(10);
    expect(t.tolist()).toEqual([[20, 4], [3, 5]]);
    expect([x.version, t.version, row.version]).toEqual([2, 2, 2]);
  });

  test('views.rebase the base of a view written in place takes CopySlices, the view AsStridedBackward0', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(1);
    const v = y.index({ start: 1 });
    v.mul_(2);
    expect([y.gradFn?.className(), v.gradFn?.name()]).toEqual(['CopySlices', 'AsStridedBackward0']);
    expect(v.gradFn?.nextFunctions[0]![0]).toBe(y.gradFn);
    y.sum().backward();
    expect(x.grad?.tolist()).toEqual([1, 2, 2]);
  });

  test('views.inplace-refusals views of a leaf, views made in no-grad mode and outputs of unbind refuse in-place ops', () => {
    const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    expect(() => x.index(0).mul_(2)).toThrow('a view of a leaf Variable that requires grad is being used in an in-place operation.');
    const v = noGrad(() => x.index(0));
    expect(() => v.mul_(2)).toThrow(/^A view was created in no_grad mode and is being modified inplace with grad mode enabled/);
    const [, b] = x.mul(1).unbind(0);
    expect(() => b!.mul_(2)).toThrow(/^Output 1 of UnbindBackward0 is a view and is being modified inplace/);
  });

  test('inplace.version-counter detach() shares data and version counter with its source', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const d = x.detach();
    d.mul_(3);
    expect(x.tolist()).toEqual([3, 6]);
    expect([x.version, d.version, d.isView()]).toEqual([1, 1, false]);
  });
});
