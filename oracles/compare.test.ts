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

test('oracles.agreement zeros computed in the engine\'s dtype are exact: a float32 3.78e-44 is not 0', () => {
  const float32 = { ...base, dtype: 'float32' as const };
  expect(compareGradient({ ...float32, actual: [3.783505853677006e-44], expected: [0], inDtype: true }))
    .toMatch(/gives 3\.783505853677006e-44, symbolic oracle gives 0; compared exactly \(an exact zero in the engine's dtype\)/);
  expect(compareGradient({ ...float32, actual: [-0], expected: [0], inDtype: true })).toBeNull(); // the sign of a computed zero is not judged here
  // A float64 oracle's zero standing for a float32 result keeps the tolerance (double rounding near the subnormal range).
  expect(compareGradient({ ...float32, actual: [1.401298464324817e-45], expected: [0] })).toBeNull();
  // Non-zero values computed in the dtype keep the tolerance too.
  expect(compareGradient({ ...float32, actual: [1 + 1e-6], expected: [1], inDtype: true })).toBeNull();
});

test('oracles.agreement the expected value is rounded to the engine\'s dtype first: a float32 gradient past 3.4e38 is inf', () => {
  expect(compareGradient({ ...base, dtype: 'float32', actual: [Infinity], expected: [4.9e38] })).toBeNull();
  expect(compareGradient({ ...base, dtype: 'float32', actual: [3.4e38], expected: [4.9e38] })).toMatch(/compared exactly \(a non-finite value\)/);
  expect(compareGradient({ ...base, dtype: 'float64', actual: [Infinity], expected: [4.9e38] })).not.toBeNull();
});

test('oracles.agreement fixture values recorded from PyTorch: zeros are exact, and an expected -0 must be -0', async () => {
  const { compareObservations } = await import('./observations.ts');
  const judge = (expected: (number | '-0')[], actual: (number | '-0')[]) => compareObservations(
    { observations: [{ label: 'y', value: expected, dtype: 'float32' }], error: null },
    { observations: [{ label: 'y', value: actual, dtype: 'float32' }], error: null }, ['value'],
  ).map((m) => m.detail);
  expect(judge([0, 0.5], [3.783505853677006e-44, 0.5])).toEqual(['element 0: expected exactly 0, got 3.783505853677006e-44']);
  expect(judge(['-0'], [0])).toEqual(['element 0: expected exactly -0, got 0']);
  expect(judge([0], ['-0'])).toEqual([]);
  expect(judge([0.5], [0.5 + 1e-7])).toEqual([]); // non-zero values keep the float32 tolerance
});
