import { expect, test } from 'vitest';
import { compareGradient, type GradientCheck } from './compare.ts';

/*
 * Wrong gradients the one tolerance policy must reject where it compares exactly: a zero, a
 * number or an infinity against a non-finite oracle value, and the message of a single failure.
 */
const base: GradientCheck = {
  actual: [1], expected: [1], dtype: 'float64', oracle: 'symbolic', engine: 'e', what: 'd y / d x', shape: [1],
};
const check = (a: number, e: number) => compareGradient({ ...base, actual: [a], expected: [e] });

test('oracles.agreement a zero or a number never agrees with a non-finite oracle value, nor a non-finite engine value with a number', () => {
  for (const [a, e] of [[0, Infinity], [0, -Infinity], [0, NaN], [-0, NaN], [1, NaN], [Infinity, 0], [NaN, 0], [-Infinity, 0]]) {
    expect(check(a!, e!), `${a} vs ${e}`).not.toBeNull();
  }
  expect(check(0, -0)).toBeNull();
});

test('oracles.agreement one failing element is reported alone, several with their count', () => {
  expect(compareGradient({ ...base, shape: [2], actual: [1, 5], expected: [1, 2] })).not.toMatch(/more element/);
  expect(compareGradient({ ...base, shape: [2], actual: [3, 5], expected: [1, 2] })).toMatch(/; 1 more element\(s\) disagree$/);
});
