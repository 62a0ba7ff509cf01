import { fail } from './errors.ts';
import { numel, stridesOf, type Shape } from './shape.ts';

/**
 * Where a tensor's elements sit in its storage: element (i0, i1, ...) is at
 * `offset + i0 * strides[0] + i1 * strides[1] + ...`. View ops only compute a new geometry over
 * the same storage (views.alias); every other op reads the elements in row-major order and writes
 * a fresh, contiguous storage.
 */
export interface Geometry {
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
}

export const contiguousGeometry = (shape: Shape): Geometry => ({ shape: [...shape], strides: stridesOf(shape), offset: 0 });

/** PyTorch's is_contiguous(): row-major strides, ignoring dims of size 1; an empty tensor always is. */
export function isContiguous(g: Geometry): boolean {
  if (numel(g.shape) === 0) return true;
  let expected = 1;
  for (let d = g.shape.length - 1; d >= 0; d--) {
    const size = g.shape[d]!;
    if (size === 1) continue;
    if (g.strides[d] !== expected) return false;
    expected *= size;
  }
  return true;
}

/** The storage index of every element, in row-major order of the shape. */
export function positions(g: Geometry): Float64Array {
  const n = numel(g.shape);
  const out = new Float64Array(n);
  const rank = g.shape.length;
  const counter = new Array<number>(rank).fill(0);
  let at = g.offset;
  for (let i = 0; i < n; i++) {
    out[i] = at;
    // Odometer: bump the last dim, carry into earlier ones.
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      at += g.strides[d]!;
      if (counter[d]! < g.shape[d]!) break;
      at -= g.strides[d]! * g.shape[d]!;
      counter[d] = 0;
    }
  }
  return out;
}

/**
 * Where each element of `view` sits among the elements of `base`, both over one storage: the
 * flat row-major index in base of the element the view's element aliases. -1 where the view
 * reaches outside the base (not possible for views made from that base).
 */
export function positionsWithin(view: Geometry, base: Geometry): Float64Array {
  const own = positions(base);
  const index = new Map<number, number>();
  for (let i = 0; i < own.length; i++) if (!index.has(own[i]!)) index.set(own[i]!, i);
  const at = positions(view);
  return at.map((p) => index.get(p) ?? -1);
}

/** Whether two elements share a storage slot (expanded dims): in-place writes refuse such tensors. */
export function overlaps(g: Geometry): boolean {
  const dims = g.shape.map((size, d) => ({ size, stride: Math.abs(g.strides[d]!) })).filter((x) => x.size > 1);
  dims.sort((a, b) => a.stride - b.stride);
  let reach = 0; // the largest storage distance covered by the smaller dims
  for (const { size, stride } of dims) {
    if (stride <= reach) return true;
    reach += stride * (size - 1);
  }
  return false;
}

/**
 * PyTorch's computeStride (view and reshape): strides that read `shape` over the same elements,
 * or null when a new dim would span two contiguous runs of the old one.
 */
export function viewStrides(g: Geometry, shape: Shape): number[] | null {
  const old = g.shape;
  const oldStrides = g.strides;
  if (old.length === 0) return shape.map(() => 1);
  const count = numel(old);
  if (count === 0 && old.length === shape.length && old.every((d, i) => d === shape[i])) return [...oldStrides];
  const out = new Array<number>(shape.length);
  if (count === 0) {
    for (let d = shape.length - 1; d >= 0; d--) out[d] = d === shape.length - 1 ? 1 : Math.max(shape[d + 1]!, 1) * out[d + 1]!;
    return out;
  }
  let viewD = shape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1]!;
  let tensorCount = 1;
  let viewCount = 1;
  for (let d = old.length - 1; d >= 0; d--) {
    tensorCount *= old[d]!;
    // The end of a run of old dims laid out contiguously: the new dims must tile it exactly.
    if (d === 0 || (old[d - 1] !== 1 && oldStrides[d - 1] !== tensorCount * chunkBase)) {
      while (viewD >= 0 && (viewCount < tensorCount || shape[viewD] === 1)) {
        out[viewD] = viewCount * chunkBase;
        viewCount *= shape[viewD]!;
        viewD--;
      }
      if (viewCount !== tensorCount) return null;
      if (d > 0) {
        chunkBase = oldStrides[d - 1]!;
        tensorCount = 1;
        viewCount = 1;
      }
    }
  }
  return viewD === -1 ? out : null;
}

export const VIEW_INCOMPATIBLE =
  "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.";

// ----- the geometry of each view op; argument checks live in views.ts -----

export function viewGeometry(g: Geometry, shape: Shape): Geometry {
  const strides = viewStrides(g, shape);
  if (strides === null) fail('shape-mismatch', VIEW_INCOMPATIBLE);
  return { shape: [...shape], strides, offset: g.offset };
}

export const permuteGeometry = (g: Geometry, dims: readonly number[]): Geometry =>
  ({ shape: dims.map((d) => g.shape[d]!), strides: dims.map((d) => g.strides[d]!), offset: g.offset });

/** Stretched and new leading dims read the same elements again: stride 0. */
export function expandGeometry(g: Geometry, shape: Shape): Geometry {
  const lead = shape.length - g.shape.length;
  const strides = shape.map((s, i) => (i < lead || g.shape[i - lead] !== s ? 0 : g.strides[i - lead]!));
  return { shape: [...shape], strides, offset: g.offset };
}

/** PyTorch's unsqueeze stride: size × stride of the dim it goes before, 1 at the end. */
export function unsqueezeGeometry(g: Geometry, dim: number): Geometry {
  const stride = dim >= g.shape.length ? 1 : g.shape[dim]! * g.strides[dim]!;
  const shape = [...g.shape];
  const strides = [...g.strides];
  shape.splice(dim, 0, 1);
  strides.splice(dim, 0, stride);
  return { shape, strides, offset: g.offset };
}

export const dropDims = (g: Geometry, drop: (size: number, dim: number) => boolean): Geometry => ({
  shape: g.shape.filter((s, d) => !drop(s, d)),
  strides: g.strides.filter((_, d) => !drop(g.shape[d]!, d)),
  offset: g.offset,
});

export const selectGeometry = (g: Geometry, dim: number, index: number): Geometry => ({
  shape: g.shape.filter((_, d) => d !== dim),
  strides: g.strides.filter((_, d) => d !== dim),
  offset: g.offset + index * g.strides[dim]!,
});

/** Elements start, start + step, ... before stop, along dim (start and stop already clamped). */
export function sliceGeometry(g: Geometry, dim: number, start: number, stop: number, step: number): Geometry {
  const shape = [...g.shape];
  const strides = [...g.strides];
  shape[dim] = Math.max(0, Math.ceil((stop - start) / step));
  strides[dim] = g.strides[dim]! * step;
  return { shape, strides, offset: g.offset + start * g.strides[dim]! };
}

/** The diagonal of dims (dim1, dim2), moved to the end; offset > 0 is above the main diagonal. */
export function diagonalGeometry(g: Geometry, offset: number, dim1: number, dim2: number): Geometry {
  const [s1, s2] = [g.shape[dim1]!, g.shape[dim2]!];
  const size = Math.max(0, offset >= 0 ? Math.min(s1, s2 - offset) : Math.min(s1 + offset, s2));
  let start = g.offset;
  if (size > 0) start += offset >= 0 ? offset * g.strides[dim2]! : -offset * g.strides[dim1]!;
  const keep = (_: unknown, d: number) => d !== dim1 && d !== dim2;
  return {
    shape: [...g.shape.filter(keep), size],
    strides: [...g.strides.filter(keep), g.strides[dim1]! + g.strides[dim2]!],
    offset: start,
  };
}

