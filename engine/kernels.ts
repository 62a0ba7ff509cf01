import type { DType } from '../spec/program.ts';
import { broadcastShapes, broadcastStrides, checkElements, forEachBroadcast, numel, stridesOf, type Shape } from './shape.ts';

/**
 * Element storage: float32 tensors round every stored result to float32, as PyTorch does. int64
 * is kept in a Float64Array, exact up to 2^53 (larger magnitudes are outside the spec), and bool
 * as 0 and 1 in a Float64Array.
 */
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
