import { expect, test } from 'vitest';
import { dotProductTest, EPS, richardson } from './finite-difference.ts';
import { gaussian, mulberry32 } from './random.ts';

/*
 * The finite-difference judge, judged: each test is a wrong engine the oracle must reject next to
 * a right one it must accept, or an error estimate that must cover the error it estimates. Every
 * expected derivative is derived by hand; the oracle's own output is only ever the thing checked.
 */

const CBRT_EPS = Math.cbrt(EPS);

test('oracles.finite-difference the estimate covers evaluation noise of 8 ulps of |f| pushing the two points apart', () => {
  // f(t) = C + (t - x) computed 8 ulps too high right of x and 8 ulps too low left of it (the
  // rounding the estimate assumes for composed ops); f' = 1 exactly. The noise moves D(h/2) twice
  // as much as D(h), so |D(h/2) - D(h)| sees only part of it: the rounding term must cover the rest.
  const C = 2 ** 20;
  const ulp = 2 ** -32; // ulp of 2^20
  for (const x of [0, 0.3, 0.75]) {
    for (const k of [8, -8]) {
      const f = (t: number) => (t > x ? C + k * ulp : t < x ? C - k * ulp : C) + (t - x);
      const { value, error } = richardson(f, x);
      expect(Math.abs(value - 1), `x = ${x}, ${k} ulps`).toBeGreaterThan(1e-4); // the noise is real
      expect(Math.abs(value - 1), `x = ${x}, ${k} ulps`).toBeLessThanOrEqual(error);
      expect(error, `x = ${x}, ${k} ulps`).toBeLessThan(1e-2); // and the estimate is not absurdly loose
    }
  }
});

test('oracles.finite-difference a constant has derivative 0 with error 0: no allowance for a wrong engine', () => {
  for (const c of [0, 5, -1e6]) {
    const { value, error } = richardson(() => c, 0.7);
    expect(value).toBe(0);
    expect(error).toBe(8 * EPS * Math.abs(c) / ((0.7 + CBRT_EPS * 0.5) - 0.7)); // the rounding term alone
    expect(error).toBeLessThan(1e-3);
  }
  expect(richardson(() => 0, 0.7).error).toBe(0);
});

// The directions of the dot-product test, drawn independently of the oracle: u then v from mulberry32(seed), v of unit norm.
function directions(seed: number, m: number, n: number): { u: Float64Array; v: Float64Array } {
  const random = mulberry32(seed);
  const u = gaussian(random, m);
  const v = gaussian(random, n);
  const norm = Math.hypot(...v);
  return { u, v: v.map((e) => e / norm) };
}

// f: R^2 -> R^2, linear with a large first coordinate: f(x) = [x0 - C + 3 x1, 2 x1 - (x0 - C) / 2].
const C = 2 ** 20;
const linear = (x: Float64Array) => [x[0]! - C + 3 * x[1]!, 2 * x[1]! - 0.5 * (x[0]! - C)];
const linearVjp = (u: Float64Array) => [u[0]! - 0.5 * u[1]!, 3 * u[0]! + 2 * u[1]!]; // J^T u, J = [[1, 3], [-1/2, 2]]

test('oracles.finite-difference dot-product test: the directions are Gaussian from the seed, v of unit norm', () => {
  const result = dotProductTest(linear, [C, 0.25], linearVjp, 11);
  const { u, v } = directions(11, 2, 2);
  expect(Array.from(result.u)).toEqual(Array.from(u));
  Array.from(v).forEach((e, i) => expect(result.v[i]).toBeCloseTo(e, 15));
});

test('oracles.finite-difference dot-product test: with zero rtol and atol the error estimate alone covers the rounding of x + t v', () => {
  // Near x0 = 2^20 the moved points x0 + t v0 round to 2^-33; f itself is exact (Sterbenz), so
  // all the error of the difference comes from moving x, which the estimate must include.
  for (let seed = 1; seed <= 40; seed++) {
    const right = dotProductTest(linear, [C, 0.25], linearVjp, seed, { rtol: 0, atol: 0, safety: 1 });
    expect(right.pass, `seed ${seed}: |fd - vjp| = ${Math.abs(right.fd - right.vjp)}, error ${right.error}`).toBe(true);
    expect(right.error, `seed ${seed}`).toBeLessThan(1e-9);
  }
});

test('oracles.finite-difference dot-product test: a 1% wrong element fails at a large point (x0 = 2^20) and at one with a zero coordinate', () => {
  const wrong = (u: Float64Array) => [1.01 * (u[0]! - 0.5 * u[1]!), 3 * u[0]! + 2 * u[1]!];
  for (let seed = 1; seed <= 10; seed++) {
    expect(dotProductTest(linear, [C, 0.25], linearVjp, seed).pass, `seed ${seed}`).toBe(true);
    expect(dotProductTest(linear, [C, 0.25], wrong, seed).pass, `seed ${seed}`).toBe(false);
  }
  // g(x) = [x0 x1 + x1^2, sin(x0)] at (0, 1.5): J = [[x1, x0 + 2 x1], [cos(x0), 0]] = [[1.5, 3], [1, 0]].
  const g = (x: Float64Array) => [x[0]! * x[1]! + x[1]! ** 2, Math.sin(x[0]!)];
  const gVjp = (u: Float64Array) => [1.5 * u[0]! + u[1]!, 3 * u[0]!];
  const gWrong = (u: Float64Array) => [1.5 * u[0]! + u[1]!, 3.03 * u[0]!];
  for (const X of [[0, 1.5], [0, 0]] as const) {
    const at = X[1] === 0 ? (u: Float64Array) => [u[1]!, 0] : gVjp; // at (0, 0): J = [[0, 0], [1, 0]]
    const atWrong = X[1] === 0 ? (u: Float64Array) => [u[1]!, 0.01 * u[0]!] : gWrong;
    for (let seed = 1; seed <= 10; seed++) {
      expect(dotProductTest(g, X, at, seed).pass, `(${X}) seed ${seed}`).toBe(true);
      expect(dotProductTest(g, X, atWrong, seed).pass, `(${X}) seed ${seed}`).toBe(false);
    }
  }
});

test('oracles.finite-difference dot-product test: a vjp of zeros fails for a function that moves', () => {
  const zeros = () => [0, 0];
  for (const X of [[C, 0.25], [0, 0], [0.5, -2]]) {
    for (let seed = 1; seed <= 5; seed++) expect(dotProductTest(linear, X, zeros, seed).pass, `(${X}) seed ${seed}`).toBe(false);
  }
});

test('oracles.finite-difference dot-product test: rtol is taken against sum |(J^T u)_i v_i| when the inner product cancels', () => {
  // f(x) = [r . x] at 0, with r chosen so that (J^T u)_i v_i = 1 and -(1 - 1e-3): <J^T u, v> = 1e-3
  // while sum |(J^T u)_i v_i| is about 2. At x = 0 the difference is exact up to rounding.
  const rtol = 1e-7;
  for (const seed of [3, 8, 21]) {
    const { u, v } = directions(seed, 1, 2);
    const w = [1 / v[0]!, -(1 - 1e-3) / v[1]!]; // J^T u
    const r = w.map((e) => e / u[0]!);
    const f = (x: Float64Array) => [r[0]! * x[0]! + r[1]! * x[1]!];
    const magnitude = Math.abs(w[0]! * v[0]!) + Math.abs(w[1]! * v[1]!);
    const scaled = (eps: number) => () => w.map((e, i) => e * (1 + Math.sign(e * v[i]!) * eps)); // every element off by eps, errors adding up
    const exact = dotProductTest(f, [0, 0], () => w, seed);
    expect(exact.pass).toBe(true);
    expect(Math.abs(exact.fd - 1e-3)).toBeLessThan(1e-12);
    // Each element within 0.3 rtol of the truth: the inner product is off by 0.3 rtol * sum, 300 times rtol * |<J^T u, v>|.
    expect(dotProductTest(f, [0, 0], scaled(0.3 * rtol), seed).pass, `seed ${seed}`).toBe(true);
    // Off by 1.5 rtol * sum |(J^T u)_i v_i| in the inner product: wrong.
    const off = () => [w[0]! + (1.5 * rtol * magnitude) / v[0]!, w[1]!];
    expect(dotProductTest(f, [0, 0], off, seed).pass, `seed ${seed}`).toBe(false);
  }
});

test('oracles.finite-difference dot-product test: NaN agrees only with NaN, an infinity only with itself', () => {
  // sqrt at -1: the difference is NaN, and so is PyTorch's sqrt'(-1) = 1 / (2 sqrt(-1)).
  const root = (x: Float64Array) => [Math.sqrt(x[0]!)];
  expect(dotProductTest(root, [-1], (u) => [u[0]! * NaN], 5).pass).toBe(true);
  for (const wrong of [0, 1, Infinity, -Infinity]) {
    expect(dotProductTest(root, [-1], () => [wrong], 5).pass, `${wrong}`).toBe(false);
  }
  // An infinite vjp never agrees with a finite difference (its bound is infinite too: rtol * |vjp|).
  for (const wrong of [Infinity, -Infinity, NaN]) {
    for (const X of [[C, 0.25], [0, 0]]) {
      expect(dotProductTest(linear, X, () => [wrong, 0], 3).pass, `${wrong} at (${X})`).toBe(false);
      expect(dotProductTest(linear, X, () => [1, wrong], 3).pass, `${wrong} at (${X})`).toBe(false);
    }
  }
  // A function infinite at the inner points x +- h/2 only: D(h/2) is +-inf, D(h) finite, so the
  // difference is an infinity with the sign of u0 v0; a vjp giving the same infinity agrees.
  const band = 0.75 * CBRT_EPS;
  const spike = (x: Float64Array) => [x[0]! !== 0 && Math.abs(x[0]!) < band ? Math.sign(x[0]!) * Infinity : x[0]!];
  for (let seed = 1; seed <= 4; seed++) {
    const right = dotProductTest(spike, [0], (u) => [u[0]! * Infinity], seed);
    expect(Number.isFinite(right.fd), `seed ${seed}`).toBe(false);
    expect(right.pass, `seed ${seed}`).toBe(true);
    expect(dotProductTest(spike, [0], (u) => [-u[0]! * Infinity], seed).pass, `seed ${seed}`).toBe(false);
    expect(dotProductTest(spike, [0], (u) => [u[0]!], seed).pass, `seed ${seed}`).toBe(false);
    expect(dotProductTest(spike, [0], () => [NaN], seed).pass, `seed ${seed}`).toBe(false);
  }
});

test('oracles.finite-difference dot-product test: exact agreement passes at zero tolerance; a vjp of the wrong length is refused', () => {
  const none = { rtol: 0, atol: 0, safety: 0 };
  expect(dotProductTest(() => [0, 0], [1, 2, 3], () => [0, 0, 0], 1, none).pass).toBe(true);
  const X = [0.5, -1, 2];
  const f = (x: Float64Array) => [x[0]! + x[1]! + x[2]!];
  expect(() => dotProductTest(f, X, (u) => [u[0]!, u[0]!, u[0]!, 0], 1)).toThrow(/^vjp returned 4 elements for 3 inputs$/);
  expect(() => dotProductTest(f, X, (u) => [u[0]!, u[0]!], 1)).toThrow(/^vjp returned 2 elements for 3 inputs$/);
});
