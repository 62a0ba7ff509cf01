import { expect, test } from 'vitest';
import { compareGradient, GRADIENT_TOLERANCE, type GradientCheck } from './compare.ts';

const base: GradientCheck = {
  actual: [1], expected: [1], dtype: 'float64', oracle: 'symbolic', engine: 'e', what: 'd y / d x', shape: [1],
};

test('oracles.agreement the bound is atol + rtol * max(|actual|, |expected|), per dtype', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    const { rtol, atol } = GRADIENT_TOLERANCE[dtype];
    const within = 2 + 0.99 * (atol + rtol * 2);
    const beyond = 2 + 1.01 * (atol + rtol * 2.01);
    expect(compareGradient({ ...base, dtype, actual: [within], expected: [2] })).toBeNull();
    expect(compareGradient({ ...base, dtype, actual: [beyond], expected: [2] })).not.toBeNull();
  }
  expect(compareGradient({ ...base, actual: [1.5], expected: [1], allowance: [0.6] })).toBeNull();
});

test('oracles.agreement non-finite values agree only with the same value, NaN with NaN', () => {
  const check = (a: number, e: number) => compareGradient({ ...base, actual: [a], expected: [e] });
  expect(check(NaN, NaN)).toBeNull();
  expect(check(Infinity, Infinity)).toBeNull();
  expect(check(Infinity, -Infinity)).toMatch(/gives Infinity, symbolic oracle gives -Infinity/);
  expect(check(NaN, 0)).not.toBeNull();
  expect(check(1e308, Infinity)).not.toBeNull();
});

test('oracles.agreement messages give the multi-index, the count of other failures, and length mismatches', () => {
  const message = compareGradient({
    ...base, shape: [2, 3], actual: [0, 0, 0, 0, 0, 7], expected: [0, 0, 0, 0, 0, 5], oracle: 'finite-difference', engine: 'tfjs',
  });
  expect(message).toBe('d y / d x: engine tfjs vs the finite-difference oracle disagree at element [1, 2] of shape [2, 3]: '
    + 'engine tfjs gives 7, finite-difference oracle gives 5; abs error 2.00, rel error 0.286, bound 7.01e-7 '
    + '(atol 1e-9 + rtol 1e-7 * max(|actual|, |expected|))');
  expect(compareGradient({ ...base, shape: [], actual: [1, 2] })).toMatch(/the engine gave 2 elements, the oracle 1/);
  expect(compareGradient({ ...base, shape: [], actual: [3], expected: [1] })).toMatch(/at element \[\] of shape \[\]/);
});
