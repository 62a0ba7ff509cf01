import { describe, expect, test } from 'vitest';
import { EngineError, tensor } from './index.ts';

describe('in-place', () => {
  test('inplace.views in-place ops on view results are refused, not silently unaliased', () => {
    const x = tensor([[1, 2], [3, 4]]);
    const v = x.t();
    expect(() => v.add_(1)).toThrow(EngineError);
    expect(() => x.reshape([4]).mul_(2)).toThrow(/in-place operations on views/);
  });

  test('inplace.views a view whose base changed in place refuses to be read', () => {
    const x = tensor([1, 2, 3, 4]);
    const v = x.view([2, 2]);
    x.add_(1);
    expect(() => v.tolist()).toThrow(/modified in place/);
    expect(() => v.sum()).toThrow(EngineError);
    expect(x.tolist()).toEqual([2, 3, 4, 5]);
  });

  test('inplace.version-counter detach() shares data and version counter with its source', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const d = x.detach();
    d.mul_(3);
    expect(x.tolist()).toEqual([3, 6]);
    expect([x.version, d.version]).toEqual([1, 1]);
  });
});
