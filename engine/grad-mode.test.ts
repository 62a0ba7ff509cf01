import { describe, expect, test } from 'vitest';
import { enableGrad, isGradEnabled, noGrad, setGradEnabled, tensor } from './index.ts';

describe('grad mode', () => {
  test('mode.restore noGrad and enableGrad restore the previous mode, also when fn throws', () => {
    expect(isGradEnabled()).toBe(true);
    expect(() => noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    setGradEnabled(false);
    expect(() => enableGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(isGradEnabled()).toBe(false);
    setGradEnabled(true);
    expect(noGrad(() => isGradEnabled())).toBe(false);
  });

  test('mode.no-grad noGrad returns fn\'s result, which records no graph', () => {
    const x = tensor(3, { requiresGrad: true });
    const y = noGrad(() => x.mul(2));
    expect([y.requiresGrad, y.gradFn, y.isLeaf]).toEqual([false, null, true]);
  });
});
