import fc from 'fast-check';
import { expect, test } from 'vitest';
import type { Program } from '../spec/program.ts';
import { compareGradient, FD_SAFETY } from './compare.ts';
import { detachedValues, evaluateProgram } from './evaluate.ts';
import { numberLiteral } from './expand.ts';
import { gradientFD } from './finite-difference.ts';
import { evaluate, gradientAt, symbolicGradient } from './symbolic.ts';

const VARS = ['x0', 'x1', 'x2'];

// Smooth everywhere on the reals (no poles, no kinks, no domain edges), so FD is valid at every point.
const UNARY = [
  (e: string) => `sin(${e})`,
  (e: string) => `cos(${e})`,
  (e: string) => `tanh(${e})`,
  (e: string) => `(1 / (1 + exp(-${e})))`,
  (e: string) => `exp(sin(${e}))`,
  (e: string) => `log(1 + ${e} ^ 2)`,
  (e: string) => `sqrt(1 + ${e} ^ 2)`,
  (e: string) => `(${e} ^ 3)`,
];
const BINARY = [
  (a: string, b: string) => `(${a} + ${b})`,
  (a: string, b: string) => `(${a} - ${b})`,
  (a: string, b: string) => `(${a} * ${b})`,
  (a: string, b: string) => `(${a} / (1 + ${b} ^ 2))`,
];

const { expr } = fc.letrec<{ expr: string; leaf: string; unary: string; binary: string }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 5, depthIdentifier: 'expr' },
    { arbitrary: tie('leaf'), weight: 1 },
    { arbitrary: tie('unary'), weight: 2 },
    { arbitrary: tie('binary'), weight: 2 },
  ),
  leaf: fc.oneof(
    { arbitrary: fc.constantFrom(...VARS), weight: 3 },
    { arbitrary: fc.integer({ min: -20, max: 20 }).map((n) => numberLiteral(n / 10)), weight: 1 },
  ),
  unary: fc.tuple(fc.nat(UNARY.length - 1), tie('expr')).map(([i, e]) => UNARY[i]!(`(${e})`)),
  binary: fc.tuple(fc.nat(BINARY.length - 1), tie('expr'), tie('expr')).map(([i, a, b]) => BINARY[i]!(`(${a})`, `(${b})`)),
}));
const point = fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 });

const scopeOf = (x: ArrayLike<number>) => Object.fromEntries(VARS.map((v, i) => [v, x[i]!]));

test('oracles.agreement symbolic and finite-difference gradients of random smooth expressions agree within the FD error estimate', () => {
  fc.assert(
    fc.property(expr, point, (e, x) => {
      const symbolic = gradientAt(e, VARS, scopeOf(x));
      const fd = gradientFD((y) => evaluate(e, scopeOf(y)), x);
      const message = compareGradient({
        actual: symbolic, expected: fd.value, dtype: 'float64', oracle: 'finite-difference', engine: 'symbolic',
        what: `d (${e}) / d x`, shape: [3], allowance: fd.error.map((err) => FD_SAFETY * err), rtol: 0, atol: 1e-13,
      });
      expect(message).toBeNull();
    }),
    { seed: 42, numRuns: 200 },
  );
});

test('oracles.agreement symbolicGradient and FD of evaluateProgram agree on a tensor program with relu, abs and a held detach', () => {
  const program: Program = {
    id: 'oracles.agreement',
    dtype: 'float64',
    steps: [
      { let: 'x', tensor: [[0.5, -1, 2], [1.5, 3, -0.25]], requiresGrad: true },
      { let: 'w', tensor: [0.3, -0.2, 0.9], requiresGrad: true },
      { let: 'a', op: 'mul', args: ['x', 'w'] },
      { let: 'r', op: 'relu', args: ['a'] }, // a stays far from the kink at 0
      { let: 'q', op: 'abs', args: ['a'] },
      { let: 's', op: 'sub', args: ['r', 'q'] },
      { let: 'b', op: 'tanh', args: ['s'] },
      { let: 'c', op: 'mean', args: ['b'], attrs: { dim: 0 } },
      { let: 'd', op: 'matmul', args: ['c', 'w'] },
      { let: 'e', op: 'sigmoid', args: ['x'] },
      { let: 'f', op: 'sum', args: ['e'] },
      { let: 'g', op: 'detach', args: ['f'] },
      { let: 'h', op: 'mul', args: ['f', 'g'] },
      { let: 'out', op: 'add', args: ['d', 'h'] },
    ],
  };
  const held = detachedValues(program);
  for (const leaf of ['x', 'w']) {
    const base = evaluateProgram(program).get(leaf)!;
    const forward = (values: Float64Array) =>
      evaluateProgram(program, new Map([...held, [leaf, values]])).get('out')!.values[0]!;
    const fd = gradientFD(forward, base.values);
    const message = compareGradient({
      actual: symbolicGradient(program, 'out', [leaf]).get(leaf)!, expected: fd.value, dtype: 'float64',
      oracle: 'finite-difference', engine: 'symbolic', what: `d out / d ${leaf}`, shape: base.shape,
      allowance: fd.error.map((err) => FD_SAFETY * err),
    });
    expect(message).toBeNull();
  }
});

// An engine whose sin backward returns sin(x) instead of cos(x): each oracle must reject it.
const XS = [0.3, -1.1, 2.4];
const brokenSin = XS.map((x) => Math.sin(x));

test('oracles.agreement the symbolic oracle catches a wrong derivative and names the element and both sides', () => {
  const expected = XS.map((x) => gradientAt('sin(x)', ['x'], { x })[0]!);
  const message = compareGradient({
    actual: brokenSin, expected, dtype: 'float64', oracle: 'symbolic', engine: 'broken-sin', what: 'd y / d x', shape: [3],
  });
  expect(message).toContain('d y / d x: engine broken-sin vs the symbolic oracle disagree at element [0] of shape [3]');
  expect(message).toContain(`engine broken-sin gives ${brokenSin[0]}, symbolic oracle gives ${Math.cos(0.3)}`);
  expect(message).toMatch(/abs error .* rel error .* bound .*; 2 more element\(s\) disagree$/);
});

test('oracles.agreement the finite-difference oracle catches a wrong derivative and names the element and both sides', () => {
  const fd = gradientFD((x) => Math.sin(x[0]!) + Math.sin(x[1]!) + Math.sin(x[2]!), XS);
  const actual = XS.map(Math.cos);
  actual[2] = actual[2]! * (1 + 1e-6); // off by one part in a million
  const check = {
    actual, expected: fd.value, dtype: 'float64', oracle: 'finite-difference', engine: 'slightly-off',
    what: 'd y / d x', shape: [3], allowance: fd.error.map((err) => FD_SAFETY * err),
  } as const;
  const message = compareGradient(check);
  expect(message).toMatch(/engine slightly-off vs the finite-difference oracle disagree at element \[2\] of shape \[3\]/);
  expect(message).toMatch(/\+ allowance \S+\)$/);
  expect(compareGradient({ ...check, dtype: 'float32' })).toBeNull(); // within float32 rounding
});

test('oracles.agreement the random-expression property has the power to reject a derivative off by 1e-6', () => {
  expect(() => fc.assert(
    fc.property(expr, point, (e, x) => {
      const skewed = gradientAt(e, VARS, scopeOf(x)).map((g) => g * (1 + 1e-6));
      const fd = gradientFD((y) => evaluate(e, scopeOf(y)), x);
      return compareGradient({
        actual: skewed, expected: fd.value, dtype: 'float64', oracle: 'finite-difference', engine: 'skewed',
        what: 'd e / d x', shape: [3], allowance: fd.error.map((err) => FD_SAFETY * err), rtol: 0, atol: 1e-13,
      }) === null;
    }),
    { seed: 42, numRuns: 200 },
  )).toThrow(/Property failed/);
});
