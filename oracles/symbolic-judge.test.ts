import { expect, test } from 'vitest';
import type { Program } from '../spec/program.ts';
import { cacheStats, evaluate, gradientAt, secondPartialAt, symbolicGradient, symbolicVjp } from './symbolic.ts';

/*
 * The symbolic judge, judged: derivatives it must get right where mathjs's own defaults go wrong,
 * expressions it must refuse rather than answer, and its cache. Expected values are derived by hand.
 *
 * The oracle caches parsed expressions and their derivatives for the life of the process, so each
 * test builds expressions in a fresh symbol: a cached entry from an earlier test (or an earlier
 * run in the same worker) would otherwise answer instead of the code under test.
 */
let serial = 0;
const fresh = (): string => `judge${process.pid}n${Date.now()}n${serial++}`;

test('oracles.symbolic derivatives are taken without simplification: d|x|/dx written as (x^2)^(1/2) is sign(x)', () => {
  // mathjs's simplify rewrites (x^2)^(1/2) to x (mathjs#3329): right for x > 0, wrong for x < 0.
  const x = fresh();
  expect(gradientAt(`(${x}^2)^(1/2)`, [x], { [x]: -3 })[0]).toBe(-1);
  expect(gradientAt(`(${x}^2)^(1/2)`, [x], { [x]: 2 })[0]).toBe(1);
  // x |x| = x (x^2)^(1/2): first derivative 2|x|, second 2 sign(x); simplified it would be x^2, whose second derivative is 2.
  const y = fresh();
  expect(secondPartialAt(`${y} * (${y}^2)^(1/2)`, y, y, { [y]: -3 })).toBe(-2);
  expect(gradientAt(`${y} * (${y}^2)^(1/2)`, [y], { [y]: -3 })[0]).toBe(6);
  const [a, b] = [fresh(), fresh()];
  // d²/(da db) of a (b^2)^(1/2) = sign(b)
  expect(secondPartialAt(`${a} * (${b}^2)^(1/2)`, a, b, { [a]: 5, [b]: -0.5 })).toBe(-1);
});

test('oracles.symbolic only max(e, 0), max(e, c) with a constant c, and abs(e) are rewritten: other max and two-argument calls keep their meaning', () => {
  const [x, y] = [fresh(), fresh()];
  // A constant bound is a clamp (binary_cross_entropy's logs at -100): e's derivative above it, 0 at and below it.
  expect(Array.from(gradientAt(`max(${x}, 1)`, [x], { [x]: 0.5 }))).toEqual([0]);
  expect(Array.from(gradientAt(`max(3 * ${x}, (-100))`, [x], { [x]: 2 }))).toEqual([3]);
  expect(evaluate(`max(log(${x}), (-100))`, { [x]: 0 })).toBe(-100);
  // mathjs cannot differentiate max: any other form is refused, never answered as if it were relu.
  expect(() => gradientAt(`max(${x}, ${y})`, [x, y], { [x]: 1, [y]: 5 })).toThrow(/max/);
  expect(() => gradientAt(`max(${x}, 0, ${y})`, [x, y], { [x]: 1, [y]: 5 })).toThrow(/max/);
  // log(x, 0) = ln x / ln 0 = -0 for every x > 0, so its derivative 1 / (x ln 0) is 0, not relu's step 1.
  const z = fresh();
  expect(Math.abs(gradientAt(`log(${z}, 0)`, [z], { [z]: 2 })[0]!)).toBe(0);
  // relu of a sum still is relu: d/dx max(x + 1, 0) at 0.5 is 1, at -2 it is 0.
  const w = fresh();
  expect(Array.from(gradientAt(`max(${w} + 1, 0)`, [w], { [w]: 0.5 }))).toEqual([1]);
  expect(Array.from(gradientAt(`max(${w} + 1, 0)`, [w], { [w]: -2 }))).toEqual([0]);
});

test('oracles.symbolic values are numbers: a non-numeric constant evaluates to NaN', () => {
  expect(evaluate('true', {})).toBeNaN();
  expect(evaluate('"12"', {})).toBeNaN();
  const x = fresh();
  expect(typeof evaluate(`${x} + 1`, { [x]: 1 })).toBe('number');
});

test('oracles.symbolic comparison, logical, modulo and factorial operators are refused', () => {
  const x = fresh();
  for (const bad of [`${x} > 0`, `${x} == 1`, `${x} mod 2`, `${x}!`, `not ${x}`, `${x} and 1`, `${x} or 0`, `${x} xor 1`, `${x} & 1`, `${x} << 1`, `${x} % 2`]) {
    expect(() => evaluate(bad, { [x]: 3 }), bad).toThrow(/^symbolic oracle: refusing /);
  }
  for (const good of [`${x} + 1`, `${x} - 1`, `-${x}`, `${x} * 2`, `${x} / 2`, `${x} ^ 2`]) expect(evaluate(good, { [x]: 3 }), good).not.toBeNaN();
});

test('oracles.symbolic nesting: exactly 120 levels are differentiated, 121 refused however they are written', () => {
  const x = fresh();
  const nested = (depth: number, open: string) => `${open.repeat(depth)}${x}^2${')'.repeat(depth)}`;
  expect(gradientAt(nested(120, '('), [x], { [x]: 3 })[0]).toBe(6);
  expect(() => gradientAt(nested(121, '('), [x], { [x]: 3 })).toThrow(/nested too deeply/);
  // (1 + (1 + ... x^2)): depth counts open parentheses, not characters in between.
  expect(() => gradientAt(nested(121, '(1 + '), [x], { [x]: 3 })).toThrow(/nested too deeply/);
  expect(gradientAt(nested(120, '(1 + '), [x], { [x]: 3 })[0]).toBe(6);
  // Many parentheses side by side are one level deep: d/dx sum_{i<200} (x * i) = 19900.
  const flat = Array.from({ length: 200 }, (_, i) => `(${x} * ${i})`).join(' + ');
  expect(gradientAt(flat, [x], { [x]: 3 })[0]).toBe(19900);
});

test('oracles.symbolic a tree too deep for the stack is refused with the message, whatever step of mathjs overflows', () => {
  // A flat sum is one level of parentheses but a left-leaning tree as deep as it is long.
  const x = fresh();
  const long = `${x}${` + ${x}`.repeat(30_000)}`;
  expect(() => evaluate(long, { [x]: 1 })).toThrow(/^symbolic oracle: the expression is nested too deeply/);
  expect(() => gradientAt(`${long} + ${fresh()}`, [x], { [x]: 1 })).toThrow(/^symbolic oracle: the expression is nested too deeply/);
  // Other errors of mathjs pass through unchanged.
  expect(() => evaluate(`${x} +`, { [x]: 1 })).toThrow(/^Unexpected end of expression/);
  expect(() => evaluate(`${x} + (`, { [x]: 1 })).toThrow(SyntaxError);
});

test('oracles.symbolic the cache: 500 most recently used expressions, derivatives compiled once per entry', () => {
  const x = fresh();
  const expr = (k: number) => `${x} * ${k + 2}`;
  const delta = (from: ReturnType<typeof cacheStats>) => {
    const now = cacheStats();
    return { compiled: now.compiled - from.compiled, reused: now.reused - from.reused, derivatives: now.derivatives - from.derivatives, derivativesReused: now.derivativesReused - from.derivativesReused };
  };
  let s = cacheStats();
  for (let k = 0; k < 500; k++) expect(evaluate(expr(k), { [x]: 1 })).toBe(k + 2);
  expect(delta(s)).toEqual({ compiled: 500, reused: 0, derivatives: 0, derivativesReused: 0 });

  s = cacheStats();
  expect(evaluate(expr(0), { [x]: 2 })).toBe(4); // the oldest of the 500 is still there, and becomes the newest
  expect(delta(s)).toEqual({ compiled: 0, reused: 1, derivatives: 0, derivativesReused: 0 });

  s = cacheStats();
  expect(evaluate(expr(500), { [x]: 1 })).toBe(502); // the 501st evicts the least recently used: expr(1)
  expect(evaluate(expr(1), { [x]: 1 })).toBe(3);
  expect(delta(s)).toEqual({ compiled: 2, reused: 0, derivatives: 0, derivativesReused: 0 });

  s = cacheStats();
  expect(Array.from(gradientAt(expr(0), [x], { [x]: 1 }))).toEqual([2]);
  expect(Array.from(gradientAt(expr(0), [x], { [x]: 5 }))).toEqual([2]);
  expect(delta(s)).toEqual({ compiled: 0, reused: 2, derivatives: 1, derivativesReused: 1 });
});

const program: Program = {
  id: 'oracles.symbolic-judge',
  dtype: 'float64',
  steps: [
    { let: 'x', tensor: [1.5, -2], requiresGrad: true },
    { let: 'y', op: 'pow', args: ['x', 3] },
    { let: 'out', op: 'sum', args: ['y'] },
  ],
};

test('oracles.symbolic a point must have as many elements as its leaf; an output the oracles do not model is named', () => {
  // d/dx sum(x^3) = 3 x^2
  expect(Array.from(symbolicGradient(program, 'out', ['x'], new Map([['x', [1, 2]]])).get('x')!)).toEqual([3, 12]);
  expect(() => symbolicGradient(program, 'out', ['x'], new Map([['x', [1, 2, 3]]]))).toThrow(/^point for x has 3 elements, the leaf 2$/);
  expect(() => symbolicGradient(program, 'out', ['x'], new Map([['x', [1]]]))).toThrow(/^point for x has 1 elements, the leaf 2$/);
  expect(() => symbolicVjp(program, 'nothing', ['x'], [1])).toThrow(/^nothing is not a value the oracles model$/);
});

test('oracles.symbolic erf, which mathjs cannot differentiate, has its value and first and second derivatives, also composed', () => {
  const x = fresh();
  const c = 2 / Math.sqrt(Math.PI);
  // erf(x^2) at 0.7: value erf(0.49); d/dx = c·e^(-x^4)·2x; d²/dx² = c·e^(-x^4)·(2 - 8x^4), by hand.
  const at = { [x]: 0.7 };
  expect(evaluate(`erf(${x}^2)`, at)).toBeCloseTo(0.511668261188523, 12); // Python's math.erf(0.49)
  expect(gradientAt(`erf(${x}^2)`, [x], at)[0]).toBeCloseTo(c * Math.exp(-(0.7 ** 4)) * 1.4, 14);
  expect(secondPartialAt(`erf(${x}^2)`, x, x, at)).toBeCloseTo(c * Math.exp(-(0.7 ** 4)) * (2 - 8 * 0.7 ** 4), 12);
  // Piecewise-constant functions: their value at the point (round half to even), derivative 0.
  const y = fresh();
  expect(evaluate(`round(${y}) + floor(${y}) + fix(-${y}) + sign(${y})`, { [y]: 2.5 })).toBe(2 + 2 - 2 + 1);
  expect(gradientAt(`round(${y}) * ${y}`, [y], { [y]: 2.5 })[0]).toBe(2);
});

test('oracles.symbolic the softmax family\'s max shift pmax and softplus\'s switch above are constants set at the point', () => {
  const [x, y] = [fresh(), fresh()];
  // pmax: the max of its arguments at the point, 0 where that is infinite; derivative 0.
  expect(evaluate(`pmax(${x}, ${y})`, { [x]: 1, [y]: 3 })).toBe(3);
  expect(evaluate(`pmax(${x}, ${y})`, { [x]: -Infinity, [y]: -Infinity })).toBe(0);
  expect(evaluate(`pmax(${x}, ${y})`, { [x]: Infinity, [y]: 1 })).toBe(0);
  // log(exp(x - m) + exp(y - m)) + m with m held: d/dx is softmax's first element, e^1 / (e^1 + e^3).
  const lse = `(log(exp(${x} - pmax(${x}, ${y})) + exp(${y} - pmax(${x}, ${y}))) + pmax(${x}, ${y}))`;
  expect(gradientAt(lse, [x], { [x]: 1, [y]: 3 })[0]).toBeCloseTo(Math.E / (Math.E + Math.E ** 3), 14);
  expect(secondPartialAt(lse, x, y, { [x]: 1, [y]: 3 })).toBeCloseTo(-(Math.E ** 4) / (Math.E + Math.E ** 3) ** 2, 14);
  // above: 1 strictly above 0, so at the threshold itself the other branch applies.
  expect(evaluate(`above(${x} - 20) * ${x}`, { [x]: 20 })).toBe(0);
  expect(gradientAt(`above(${x} - 20) * ${x} ^ 2`, [x], { [x]: 21 })[0]).toBe(42);
});

test('oracles.symbolic a selection is a point choice: its value is the selected term, and tied terms share its derivative evenly', () => {
  const [a, b, c] = [fresh(), fresh(), fresh()];
  const max = `selmax(${a} * 2, ${b}, ${c})`;
  // 2a = b = 3 > c: each of the two tied terms gets half, through its own inner derivative.
  expect(evaluate(max, { [a]: 1.5, [b]: 3, [c]: 1 })).toBe(3);
  expect(Array.from(gradientAt(max, [a, b, c], { [a]: 1.5, [b]: 3, [c]: 1 }))).toEqual([1, 0.5, 0]);
  // Away from the tie, the largest term alone; three-way ties a third each; min selects the smallest.
  expect(Array.from(gradientAt(max, [a, b, c], { [a]: 1, [b]: 3, [c]: 1 }))).toEqual([0, 1, 0]);
  expect(Array.from(gradientAt(`selmin(${a}, ${b}, ${c})`, [a, b, c], { [a]: 2, [b]: 2, [c]: 2 }))).toEqual([1 / 3, 1 / 3, 1 / 3]);
  expect(evaluate(`selmin(${a}, ${b})`, { [a]: -1, [b]: 2 })).toBe(-1);
});
