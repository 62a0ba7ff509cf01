import type { DType } from '../spec/program.ts';
import { alloc, kernels, type Result } from './kernels.ts';
import { broadcastStrides, numel, type Shape } from './shape.ts';
import { Tensor } from './tensor.ts';

/*
 * The kernels behind the views' backward rules. A view's elements are given as flat positions in
 * a contiguous tensor of its input's (or base's) shape; the gradient moves between the two.
 */

/** The elements at `at`, in row-major order, as a tensor of `shape`. */
export function extractAt(x: Tensor, at: Float64Array, shape: Shape, dtype: DType): Result {
  const data = x.data;
  const out = alloc(dtype, at.length);
  for (let i = 0; i < at.length; i++) out[i] = data[at[i]!]!;
  return { shape: [...shape], data: out };
}

/** Zeros of `shape`, with g's elements added at `at` (added: an expanded view reads a slot twice). */
export function embedAt(g: Tensor, at: Float64Array, shape: Shape, dtype: DType): Result {
  const data = g.data;
  const out = alloc(dtype, numel(shape));
  for (let i = 0; i < at.length; i++) out[at[i]!] = out[at[i]!]! + data[i]!;
  return { shape: [...shape], data: out };
}

/** x with the elements at `at` replaced by src's. */
export function replaceAt(x: Tensor, src: Tensor, at: Float64Array, dtype: DType): Result {
  const out = alloc(dtype, x.numel());
  out.set(x.data);
  const data = src.data;
  for (let i = 0; i < at.length; i++) out[at[i]!] = data[i]!;
  return { shape: [...x.shape], data: out };
}

/** index_put_: x with v (broadcast to `shape`) written, or added, at `at`. */
export function putAt(x: Tensor, v: Tensor, at: Float64Array, shape: Shape, accumulate: boolean, dtype: DType): Result {
  const out = alloc(dtype, x.numel());
  out.set(x.data);
  const values = gatherBroadcast(v, shape);
  for (let i = 0; i < at.length; i++) out[at[i]!] = accumulate ? out[at[i]!]! + values[i]! : values[i]!;
  return { shape: [...x.shape], data: out };
}

const gatherBroadcast = (v: Tensor, shape: Shape) => kernels.gather(v.data, shape, broadcastStrides(v.shape, shape), 'float64').data;

