import type { DType } from '../spec/program.ts';
import type { SavedValues } from './dispatch.ts';
import { alloc, kernels, type Result } from './kernels.ts';
import { broadcastStrides, forEachBroadcast, stridesOf } from './shape.ts';
import { Tensor } from './tensor.ts';
import type { ReduceAttrs } from './ops.ts';
import { constantLike, constantZip, mask } from './op-helpers.ts';

/*
 * The forwards and masks of the selecting ops (max, min, amax, amin, maximum, minimum, clamp, argmax): ties, nan, bounds.
 */

export interface SelectAttrs { mode: 'max' | 'min' }
export interface ArgAttrs { mode: 'max' | 'min'; dim: number | null; keepdim: boolean }
export interface IndexAttrs { mode: 'max' | 'min'; dim: number | null; keepdim: boolean; index: Tensor }

/** 1 where an element's place along dim is its group's index (max(dim)'s selected element), else 0. */
export function indexMask(shape: readonly number[], dim: number | null, index: Tensor, dtype: DType): Tensor {
  const data = alloc(dtype, shape.reduce((n, k) => n * k, 1));
  if (dim === null) {
    data.fill(1); // a 0-d input is its own maximum
    return new Tensor(data, [...shape], dtype);
  }
  const kept = shape.map((n, i) => (i === dim ? 1 : n));
  const stride = stridesOf(shape)[dim]!;
  forEachBroadcast(shape, stridesOf(shape), broadcastStrides(kept, shape), (o, _i, j) => {
    data[o] = Math.floor(o / stride) % shape[dim]! === index.data[j] ? 1 : 0;
  });
  return new Tensor(data, [...shape], dtype);
}
export interface ClampAttrs { min: number | null; max: number | null; name: string; dtype: DType }

/** The larger (or smaller) of two values, nan if either is nan; of equal ones, the first. */
export const pick = (mode: 'max' | 'min') => (mode === 'max'
  ? (acc: number, v: number) => (Number.isNaN(acc) || Number.isNaN(v) ? NaN : v > acc ? v : acc)
  : (acc: number, v: number) => (Number.isNaN(acc) || Number.isNaN(v) ? NaN : v < acc ? v : acc));

/** max or min over `dims` (reduced dims kept with size 1); every group holds at least one element. */
export function selectForward(x: Tensor, dims: readonly number[], mode: 'max' | 'min', dtype: DType): Result {
  const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
  const acc = new Float64Array(kept.reduce((n, d) => n * d, 1)).fill(mode === 'max' ? -Infinity : Infinity);
  const f = pick(mode);
  forEachBroadcast(x.shape, stridesOf(x.shape), broadcastStrides(kept, x.shape), (o, _i, j) => {
    acc[j] = f(acc[j]!, x.data[o]!);
  });
  return { shape: kept, data: kernels.map(acc, kept, dtype, (v) => v).data };
}

/**
 * The index of the first largest (or smallest) element along `dim` (every element, flattened, when
 * dim is null), a nan counting as the largest and the smallest; reduced dims kept with size 1.
 */
export function argSelectForward(x: Tensor, dim: number | null, mode: 'max' | 'min'): Result {
  const shape = dim === null ? [x.numel()] : x.shape;
  const d = dim ?? 0;
  const kept = shape.map((n, i) => (i === d ? 1 : n));
  const best = new Float64Array(kept.reduce((n, k) => n * k, 1)).fill(NaN);
  const index = new Float64Array(best.length).fill(-1);
  const stride = stridesOf(shape)[d] ?? 1;
  const better = (v: number, b: number) => !Number.isNaN(b) && (Number.isNaN(v) || (mode === 'max' ? v > b : v < b));
  forEachBroadcast(shape, stridesOf(shape), broadcastStrides(kept, shape), (o, _i, j) => {
    if (index[j] === -1 || better(x.data[o]!, best[j]!)) {
      best[j] = x.data[o]!;
      index[j] = Math.floor(o / stride) % (shape[d] ?? 1);
    }
  });
  return { shape: kept, data: index };
}

/** The reduced result with its reduced dims put back as size 1, so it lines up with the input. */
export const keptResult = (r: Tensor, a: ReduceAttrs): Tensor =>
  new Tensor(r.data, a.inputShape.map((d, i) => (a.dims.includes(i) ? 1 : d)), r.dtype);

/** g / 2 where self == other, g elsewhere (g · 0.5 is g / 2 exactly). */
export const halfAtTies = (g: Tensor, s: SavedValues): Tensor => g.mul(constantZip(s.self, s.other, (x, y) => (x === y ? 0.5 : 1)));

/** A bound as the tensor's dtype holds it: PyTorch compares in the dtype (a float32 0.1 equals the bound 0.1). */
export const inDtype = (b: number | null, dtype: DType): number | null => (b === null || dtype === 'float64' ? b : Math.fround(b));

/** clamp's value: below min gives min, then above max gives max (so max wins when min > max); nan stays nan, -0 stays -0. */
export function clampValue(a: ClampAttrs, dtype: DType): (v: number) => number {
  const [min, max] = [inDtype(a.min, dtype), inDtype(a.max, dtype)];
  // A nan bound makes every element nan, as in PyTorch (outside the program format: JSON has no nan number).
  if (Number.isNaN(min) || Number.isNaN(max)) return () => NaN;
  return (v) => {
    const low = min !== null && v < min ? min : v;
    return max !== null && low > max ? max : low;
  };
}

/** True where the gradient passes: min <= x <= max, bounds included; false at nan and outside. */
export function clampMask(x: Tensor, a: ClampAttrs): Tensor {
  const [min, max] = [inDtype(a.min, x.dtype), inDtype(a.max, x.dtype)];
  return mask(x, (v) => (min === null || v >= min) && (max === null || v <= max));
}
