import type { DType } from '../spec/program.ts';
import { broadcastShapes, broadcastStrides, checkElements, forEachBroadcast, numel, stridesOf, type Shape } from './shape.ts';

/**
 * Element storage: float32 tensors round every stored result to float32, as PyTorch does. int64
 * is kept in a Float64Array, exact up to 2^53 (larger magnitudes are outside the spec), and bool
 * as 0 and 1 in a Float64Array.
 */

/** Rounding to the dtype after each step, as PyTorch's float32 kernels compute in float32. */
export const rounder = (dtype: DType): ((v: number) => number) => (dtype === 'float32' ? Math.fround : (v) => v);
export type Buffer = Float32Array | Float64Array;

/** Storage for n elements; a tensor over the engine's size limit is refused, not allocated. */
export function alloc(dtype: DType, n: number): Buffer {
  checkElements(n);
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

/**
 * Stores values in a non-floating dtype as PyTorch does: bool as 0/1 (nonzero and nan are true),
 * int64 truncated toward zero (casts, fill_ of 2.7) and without -0.
 */
export function settle(data: Buffer, dtype: DType): void {
  if (dtype === 'bool') for (let i = 0; i < data.length; i++) data[i] = data[i] !== 0 ? 1 : 0;
  else if (dtype === 'int64') for (let i = 0; i < data.length; i++) data[i] = Math.trunc(data[i]!) + 0;
}

export interface Result {
  shape: number[];
  data: Buffer;
}

/** The plain numeric kernels behind the op table: typed arrays in, typed arrays out. */
export const kernels = {
  map(x: ArrayLike<number>, shape: Shape, dtype: DType, f: (v: number) => number): Result {
    const out = alloc(dtype, x.length);
    for (let i = 0; i < x.length; i++) out[i] = f(x[i]!);
    return { shape: [...shape], data: out };
  },

  zip(
    a: ArrayLike<number>, aShape: Shape, b: ArrayLike<number>, bShape: Shape,
    dtype: DType, f: (x: number, y: number) => number,
  ): Result {
    const shape = broadcastShapes(aShape, bShape);
    const n = numel(shape);
    const out = alloc(dtype, n);
    // Fast paths: equal sizes, or one side a single element (scalars, Python numbers).
    if (a.length === n && b.length === n) {
      for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
      return { shape, data: out };
    }
    if (a.length === n && b.length === 1) {
      const y = b[0]!;
      for (let i = 0; i < n; i++) out[i] = f(a[i]!, y);
      return { shape, data: out };
    }
    forEachBroadcast(shape, broadcastStrides(aShape, shape), broadcastStrides(bShape, shape), (o, i, j) => {
      out[o] = f(a[i]!, b[j]!);
    });
    return { shape, data: out };
  },

  /** Sums over `dims`; the result keeps reduced dims as size 1 (callers drop them if asked). */
  sum(x: ArrayLike<number>, shape: Shape, dims: readonly number[], dtype: DType): Result {
    const kept = shape.map((d, i) => (dims.includes(i) ? 1 : d));
    const acc = new Float64Array(numel(kept));
    forEachBroadcast(shape, stridesOf(shape), broadcastStrides(kept, shape), (o, _i, j) => {
      acc[j] = acc[j]! + x[o]!;
    });
    return { shape: kept, data: dtype === 'float32' ? Float32Array.from(acc) : acc };
  },

  /**
   * Along `dim`, a running sum or product per line, accumulated in float64 and stored in the dtype:
   * PyTorch 1.13's CPU cumsum and cumprod accumulate float32 in double.
   */
  scan(x: ArrayLike<number>, shape: Shape, dim: number, dtype: DType, op: 'sum' | 'prod'): Result {
    const out = alloc(dtype, x.length);
    forEachLine(shape, dim, (start, n, step) => {
      let acc = op === 'sum' ? 0 : 1;
      for (let i = 0; i < n; i++) {
        const at = start + i * step;
        acc = op === 'sum' ? acc + x[at]! : acc * x[at]!;
        out[at] = acc;
      }
    });
    return { shape: [...shape], data: out };
  },

  /**
   * The product over `dim` (null: over every element, as one line), in order, rounded to the
   * dtype after every factor: PyTorch 1.13's CPU prod accumulates float32 in float32.
   */
  prod(x: ArrayLike<number>, shape: Shape, dim: number | null, dtype: DType): Result {
    const r = rounder(dtype);
    if (dim === null) {
      const out = alloc(dtype, 1);
      let acc = 1;
      for (let i = 0; i < x.length; i++) acc = r(acc * x[i]!);
      out[0] = acc;
      return { shape: [], data: out };
    }
    const kept = shape.map((d, i) => (i === dim ? 1 : d));
    const out = alloc(dtype, numel(kept));
    let o = 0;
    forEachLine(shape, dim, (start, n, step) => {
      let acc = 1;
      for (let i = 0; i < n; i++) acc = r(acc * x[start + i * step]!);
      out[o++] = acc;
    });
    return { shape: kept, data: out };
  },

  /**
   * Variance over `dims` (the result keeps them as size 1): the sum of squared deviations from the
   * mean, over n - correction, in float64 (two passes), then the square root for std, stored in the dtype.
   */
  variance(x: ArrayLike<number>, shape: Shape, dims: readonly number[], correction: number, std: boolean, dtype: DType): Result {
    const kept = shape.map((d, i) => (dims.includes(i) ? 1 : d));
    const n = dims.reduce((c, d) => c * shape[d]!, 1);
    const strides = [stridesOf(shape), broadcastStrides(kept, shape)] as const;
    const mean = new Float64Array(numel(kept));
    forEachBroadcast(shape, strides[0], strides[1], (o, _i, j) => { mean[j] = mean[j]! + x[o]!; });
    for (let j = 0; j < mean.length; j++) mean[j] = mean[j]! / n;
    const squares = new Float64Array(mean.length);
    forEachBroadcast(shape, strides[0], strides[1], (o, _i, j) => { squares[j] = squares[j]! + (x[o]! - mean[j]!) ** 2; });
    const out = alloc(dtype, mean.length);
    for (let j = 0; j < out.length; j++) {
      const v = squares[j]! / (n - correction);
      out[j] = std ? Math.sqrt(v) : v;
    }
    return { shape: kept, data: out };
  },

  /**
   * The p-norm over `dims` for p = 1, 2 or inf (the result keeps them as size 1): the sum of |x|,
   * the square root of the sum of squares (each square in the dtype, so float32 overflows at
   * |x| > 1.8e19), or the largest |x| (nan if any is nan); sums in float64.
   */
  norm(x: ArrayLike<number>, shape: Shape, dims: readonly number[], p: number, dtype: DType): Result {
    const kept = shape.map((d, i) => (dims.includes(i) ? 1 : d));
    const r = rounder(dtype);
    const acc = new Float64Array(numel(kept));
    forEachBroadcast(shape, stridesOf(shape), broadcastStrides(kept, shape), (o, _i, j) => {
      const a = Math.abs(x[o]!);
      acc[j] = p === 1 ? acc[j]! + a : p === 2 ? acc[j]! + r(a * a) : Number.isNaN(a) || a > acc[j]! ? a : acc[j]!;
    });
    const out = alloc(dtype, acc.length);
    for (let j = 0; j < out.length; j++) out[j] = p === 2 ? Math.sqrt(r(acc[j]!)) : acc[j]!;
    return { shape: kept, data: out };
  },

  /** Moves every element `by` places along `dim` (+1 or -1); the place left empty gets `fill`. */
  shift(x: ArrayLike<number>, shape: Shape, dim: number, by: 1 | -1, fill: number, dtype: DType): Result {
    const out = alloc(dtype, x.length);
    forEachLine(shape, dim, (start, n, step) => {
      for (let i = 0; i < n; i++) {
        const from = i - by;
        out[start + i * step] = from >= 0 && from < n ? x[start + from * step]! : fill;
      }
    });
    return { shape: [...shape], data: out };
  },

  /** Reads `x` (of shape `shape`) through arbitrary strides laid over `outShape`: permute, expand. */
  gather(x: ArrayLike<number>, outShape: Shape, strides: readonly number[], dtype: DType): Result {
    const out = alloc(dtype, numel(outShape));
    forEachBroadcast(outShape, strides, strides, (o, i) => {
      out[o] = x[i]!;
    });
    return { shape: [...outShape], data: out };
  },

  /**
   * Batched matrix product [B, n, k] x [B, k, m] in float64. The i-k-j order walks rows of b and c
   * in memory order, two rows of a at a time so each row of b read serves two outputs, and the
   * inputs are Float64Array only, so the loop stays monomorphic (float32 data is widened first).
   */
  bmm(a: Buffer, b: Buffer, batch: number, n: number, k: number, m: number, dtype: DType): Buffer {
    checkElements(batch * n * m);
    const a64 = a instanceof Float64Array ? a : Float64Array.from(a);
    const b64 = b instanceof Float64Array ? b : Float64Array.from(b);
    const c = new Float64Array(batch * n * m);
    for (let p = 0; p < batch; p++) product(a64, b64, c, p * n * k, p * k * m, p * n * m, n, k, m);
    return dtype === 'float32' ? Float32Array.from(c) : c;
  },
};

function product(a: Float64Array, b: Float64Array, c: Float64Array, ao: number, bo: number, co: number, n: number, k: number, m: number): void {
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const c0 = co + i * m;
    const c1 = c0 + m;
    const a0 = ao + i * k;
    const a1 = a0 + k;
    for (let q = 0; q < k; q++) {
      const x0 = a[a0 + q]!;
      const x1 = a[a1 + q]!;
      const brow = bo + q * m;
      for (let j = 0; j < m; j++) {
        const y = b[brow + j]!;
        c[c0 + j] = c[c0 + j]! + x0 * y;
        c[c1 + j] = c[c1 + j]! + x1 * y;
      }
    }
  }
  for (; i < n; i++) {
    const c0 = co + i * m;
    for (let q = 0; q < k; q++) {
      const x0 = a[ao + i * k + q]!;
      const brow = bo + q * m;
      for (let j = 0; j < m; j++) c[c0 + j] = c[c0 + j]! + x0 * b[brow + j]!;
    }
  }
}

/** Calls `f` once per line along `dim`, in row-major order of the other dims: its first index, length and stride. */
function forEachLine(shape: Shape, dim: number, f: (start: number, n: number, step: number) => void): void {
  const n = shape[dim] ?? 1;
  const inner = numel(shape.slice(dim + 1));
  const outer = numel(shape.slice(0, dim));
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) f(o * n * inner + j, n, inner);
}
