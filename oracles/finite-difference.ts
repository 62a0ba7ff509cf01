import { gaussian, mulberry32 } from './random.ts';

/**
 * Central differences in float64 with one Richardson step, and an error estimate per value that
 * callers turn into a per-sample tolerance.
 *
 * D(h) = (f(x+h) - f(x-h)) / 2h = f' + c2 h^2 + c4 h^4 + ..., so (4 D(h/2) - D(h)) / 3 = f' + O(h^4).
 * The step is cbrt(eps) * max(1, |x|), the usual choice for central differences. The estimate is
 * |D(h/2) - D(h)| (the truncation error of D(h/2), larger than that of the extrapolation; it also
 * picks up evaluation noise) plus a rounding term ROUNDING * eps * |f| / h.
 *
 * The function must be defined on [x - h, x + h]: keep points about 1e-5 * max(1, |x|) away from
 * kinks, poles and domain edges, or the estimate is meaningless (it is NaN at NaN values).
 */

export const EPS = 2 ** -52;
const CBRT_EPS = Math.cbrt(EPS);
/** f computed through composed ops is off by a few ulps of |f|; assume up to this many. */
const ROUNDING = 8;

export interface Estimate { value: Float64Array; error: Float64Array }

/** The base step for a coordinate at x, before it is made representable. */
export const stepSize = (x: number): number => CBRT_EPS * Math.max(1, Math.abs(x));

/**
 * One central difference with step about h: h becomes (x + h) - x, the distance to a float, so
 * x + h is exact; dividing by the distance between the two points actually evaluated keeps the
 * quotient honest if x - h rounds.
 */
function central(g: (t: number) => ArrayLike<number>, x: number, h: number): { d: Float64Array; fmax: Float64Array } {
  const step = (x + h) - x;
  const [xp, xm] = [x + step, x - step];
  const [fp, fm] = [g(xp), g(xm)];
  const d = new Float64Array(fp.length);
  const fmax = new Float64Array(fp.length);
  for (let i = 0; i < d.length; i++) {
    d[i] = (fp[i]! - fm[i]!) / (xp - xm);
    fmax[i] = Math.max(Math.abs(fp[i]!), Math.abs(fm[i]!));
  }
  return { d, fmax };
}

/** The plain central difference D(h) of a scalar function (for comparisons with theory). */
export function centralDifference(f: (t: number) => number, x: number, h = stepSize(x)): number {
  return central((t) => [f(t)], x, h).d[0]!;
}

/** Richardson-extrapolated derivative of every output of g along t at t0, with error estimates. */
function along(g: (t: number) => ArrayLike<number>, t0: number, h: number): Estimate {
  const coarse = central(g, t0, h);
  const fine = central(g, t0, h / 2);
  const half = (t0 + h / 2) - t0;
  const value = new Float64Array(coarse.d.length);
  const error = new Float64Array(coarse.d.length);
  for (let i = 0; i < value.length; i++) {
    const [d1, d2] = [coarse.d[i]!, fine.d[i]!];
    value[i] = (4 * d2 - d1) / 3;
    const fmax = Math.max(coarse.fmax[i]!, fine.fmax[i]!);
    error[i] = Math.abs(d2 - d1) + (ROUNDING * EPS * fmax) / Math.abs(half);
  }
  return { value, error };
}

/** f'(x) of a scalar function, Richardson-extrapolated, with its error estimate. */
export function richardson(f: (t: number) => number, x: number, h = stepSize(x)): { value: number; error: number } {
  const { value, error } = along((t) => [f(t)], x, h);
  return { value: value[0]!, error: error[0]! };
}

/**
 * The Jacobian of f at x, row-major (rows = outputs, cols = inputs). f is called with a working
 * copy of x that changes between calls: it must not keep it.
 */
export function jacobianFD(
  f: (x: Float64Array) => ArrayLike<number>,
  x: ArrayLike<number>,
): { rows: number; cols: number; value: Float64Array; error: Float64Array } {
  const point = Float64Array.from(x);
  const cols = point.length;
  const rows = f(Float64Array.from(x)).length;
  const value = new Float64Array(rows * cols);
  const error = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    const xj = point[j]!;
    const column = along((t) => {
      point[j] = t;
      return f(point);
    }, xj, stepSize(xj));
    point[j] = xj;
    for (let i = 0; i < rows; i++) {
      value[i * cols + j] = column.value[i]!;
      error[i * cols + j] = column.error[i]!;
    }
  }
  return { rows, cols, value, error };
}

/** The gradient of a scalar function, one Richardson estimate per input element. */
export function gradientFD(f: (x: Float64Array) => number, x: ArrayLike<number>): Estimate {
  const { value, error } = jacobianFD((y) => [f(y)], x);
  return { value, error };
}

export interface DotProductTolerance { rtol: number; atol: number; safety: number }
export interface DotProductResult {
  /** <u, J v> by a central difference of t -> <u, f(x + t v)>. */
  fd: number;
  /** <J^T u, v> from the supplied vjp. */
  vjp: number;
  /** Error estimate of `fd`, rounding of x + t v included. */
  error: number;
  bound: number;
  pass: boolean;
  u: Float64Array;
  v: Float64Array;
}

/**
 * The dot-product (adjoint) test: a correct vjp satisfies <u, J v> = <J^T u, v> for every u and v.
 * u (output space) and v (input space, unit norm) are Gaussian from `seed`. One directional
 * derivative replaces the n columns of a full Jacobian; on failure, compare full Jacobians
 * (jacobianFD) to name the wrong element. The relative tolerance is taken against the larger of
 * both sides and sum |(J^T u)_i v_i|, the size that rounding in the inner product scales with.
 */
export function dotProductTest(
  f: (x: Float64Array) => ArrayLike<number>,
  x: ArrayLike<number>,
  vjp: (u: Float64Array) => ArrayLike<number>,
  seed: number,
  tolerance: DotProductTolerance = { rtol: 1e-7, atol: 1e-9, safety: 10 },
): DotProductResult {
  const x0 = Float64Array.from(x);
  const m = f(Float64Array.from(x0)).length;
  const random = mulberry32(seed);
  const u = gaussian(random, m);
  const v = gaussian(random, x0.length);
  let norm = 0;
  let scale = 1;
  for (let i = 0; i < v.length; i++) {
    norm += v[i]! * v[i]!;
    scale = Math.max(scale, Math.abs(x0[i]!));
  }
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / Math.sqrt(norm || 1);

  const moved = new Float64Array(x0.length);
  const projected = (t: number): number[] => {
    for (let i = 0; i < x0.length; i++) moved[i] = x0[i]! + t * v[i]!;
    const y = f(moved);
    let s = 0;
    for (let k = 0; k < m; k++) s += u[k]! * y[k]!;
    return [s];
  };
  const h = CBRT_EPS * scale;
  const estimate = along(projected, 0, h);

  const w = vjp(u);
  if (w.length !== x0.length) throw new Error(`vjp returned ${w.length} elements for ${x0.length} inputs`);
  let rhs = 0;
  let magnitude = 0;
  let moveRounding = 0; // x_i + t v_i rounds by up to eps |x_i|, which moves g by about |w_i| eps |x_i|
  for (let i = 0; i < x0.length; i++) {
    rhs += w[i]! * v[i]!;
    magnitude += Math.abs(w[i]! * v[i]!);
    moveRounding += Math.abs(w[i]! * x0[i]!);
  }
  const fd = estimate.value[0]!;
  const error = estimate.error[0]! + (EPS * moveRounding) / (h / 2);
  const bound = tolerance.atol + tolerance.rtol * Math.max(Math.abs(fd), Math.abs(rhs), magnitude) + tolerance.safety * error;
  // A non-finite side agrees only with the same value (NaN with NaN), as in compareGradient: its bound is inf or NaN.
  const pass = Number.isFinite(fd) && Number.isFinite(rhs) ? Math.abs(fd - rhs) <= bound : Object.is(fd, rhs);
  return { fd, vjp: rhs, error, bound, pass, u, v };
}
