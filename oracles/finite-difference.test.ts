import { expect, test } from 'vitest';
import { compareGradient, FD_SAFETY } from './compare.ts';
import { centralDifference, dotProductTest, gradientFD, jacobianFD, richardson } from './finite-difference.ts';

test('oracles.finite-difference Richardson at the default step: exp at 1 within 1e-9, and the estimate covers the error', () => {
  const { value, error } = richardson(Math.exp, 1);
  expect(Math.abs(value - Math.E)).toBeLessThan(1e-9);
  expect(Math.abs(value - Math.E)).toBeLessThanOrEqual(error);
  expect(error).toBeLessThan(1e-8);
});

test('oracles.finite-difference the plain central difference errs by h^2/6 * f‴ (exp at 1, h = 1e-3)', () => {
  const h = 1e-3; // large enough that truncation (5e-7) dwarfs rounding (6e-13)
  const ratio = (centralDifference(Math.exp, 1, h) - Math.E) / ((h * h) / 6 * Math.E);
  expect(ratio).toBeCloseTo(1, 4);
});

test('oracles.finite-difference one Richardson step leaves -h^4/480 * f⁽⁵⁾ (exp at 1, h = 1e-2)', () => {
  const h = 1e-2;
  const ratio = (richardson(Math.exp, 1, h).value - Math.E) / (-(h ** 4) / 480 * Math.E);
  expect(ratio).toBeCloseTo(1, 1);
});

test('oracles.finite-difference quadratics are exact up to rounding; steps scale with |x|', () => {
  const f = (x: number) => 3 * x * x + 2 * x - 7;
  expect(centralDifference(f, 1.7)).toBeCloseTo(12.2, 9);
  const big = richardson((x) => x * x, 1e6);
  expect(Math.abs(big.value - 2e6)).toBeLessThanOrEqual(big.error);
  expect(big.error / 2e6).toBeLessThan(1e-8);
});

test('oracles.finite-difference gradientFD and jacobianFD match analytic derivatives within their estimates', () => {
  const x = Float64Array.of(0.7, -1.3, 2.1);
  const g = gradientFD((y) => y[0]! ** 2 * y[1]! + Math.sin(y[2]!), x);
  const exact = [2 * 0.7 * -1.3, 0.7 ** 2, Math.cos(2.1)];
  exact.forEach((e, i) => expect(Math.abs(g.value[i]! - e)).toBeLessThanOrEqual(g.error[i]! + 1e-15));

  const J = jacobianFD((y) => [y[0]! * y[1]!, Math.exp(y[2]!)], x);
  expect([J.rows, J.cols]).toEqual([2, 3]);
  const exactJ = [-1.3, 0.7, 0, 0, 0, Math.exp(2.1)];
  exactJ.forEach((e, i) => expect(Math.abs(J.value[i]! - e)).toBeLessThanOrEqual(FD_SAFETY * J.error[i]! + 1e-15));
});

// f: R^3 -> R^3 and its exact vector-Jacobian product
const f = (x: Float64Array) => [x[0]! * x[1]!, Math.sin(x[2]!) + x[0]!, x[1]! ** 3];
const jacobian = (x: Float64Array) => [
  [x[1]!, x[0]!, 0],
  [1, 0, Math.cos(x[2]!)],
  [0, 3 * x[1]! ** 2, 0],
];
const vjpOf = (J: number[][]) => (u: Float64Array) => [0, 1, 2].map((j) => J.reduce((s, row, i) => s + u[i]! * row[j]!, 0));
const X = Float64Array.of(1.2, -0.8, 0.4);

test('oracles.finite-difference the dot-product test passes a correct vjp and is deterministic per seed', () => {
  const first = dotProductTest(f, X, vjpOf(jacobian(X)), 7);
  expect(first.pass).toBe(true);
  expect(Math.abs(first.fd - first.vjp)).toBeLessThan(1e-9);
  const again = dotProductTest(f, X, vjpOf(jacobian(X)), 7);
  expect([again.fd, again.vjp, ...again.u, ...again.v]).toEqual([first.fd, first.vjp, ...first.u, ...first.v]);
  expect(Math.hypot(...first.v)).toBeCloseTo(1, 14);
});

test('oracles.finite-difference a vjp with one wrong element fails, and the jacobianFD fallback names it', () => {
  const wrong = jacobian(X);
  wrong[1]![2] = 0.5 * Math.cos(X[2]!); // the engine halves d f1 / d x2
  const engineVjp = vjpOf(wrong);
  const result = dotProductTest(f, X, engineVjp, 7);
  expect(result.pass).toBe(false);

  // Fallback: the engine's full Jacobian, row by row from vjp(e_i), against the FD Jacobian.
  const numeric = jacobianFD(f, X);
  const rows = [0, 1, 2].map((i) => Array.from(engineVjp(Float64Array.from([0, 1, 2], (k) => (k === i ? 1 : 0)))));
  const message = compareGradient({
    actual: rows.flat(),
    expected: numeric.value,
    dtype: 'float64',
    oracle: 'finite-difference',
    engine: 'mutant',
    what: 'd f / d x',
    shape: [3, 3],
    allowance: numeric.error.map((e) => FD_SAFETY * e),
  });
  expect(message).toMatch(/^d f \/ d x: engine mutant vs the finite-difference oracle disagree at element \[1, 2\] of shape \[3, 3\]/);
  expect(message).not.toMatch(/more element/);
});
