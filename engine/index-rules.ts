import type { DType } from '../spec/program.ts';
import { scalarTypeName } from './dispatch.ts';
import { fail } from './errors.ts';
import { alloc, rounder, type Result } from './kernels.ts';
import { broadcastShapes, forEachBroadcast, numel, sameShape, shapeText, stridesOf, type Shape } from './shape.ts';
import { Tensor } from './tensor.ts';

/*
 * The forwards and argument checks of the gather family (index_select, gather, scatter,
 * scatter_add, index_add, masked_fill): each output element is a chosen input element, a given
 * value, or a sum of them; the int64 index is a constant of the op.
 */

export interface IndexSelectAttrs { dim: number; inputShape: number[] }
export interface GatherAttrs { dim: number }
/** scatter and scatter_add with a tensor src: its shape, for the check of src's gradient. */
export interface ScatterAttrs { dim: number; srcShape: number[]; gradFn: string }
export interface ScatterValueAttrs { dim: number; value: number }
export interface IndexAddAttrs { dim: number; alpha: number }

/** A 0-d tensor counts as one of shape [1] (PyTorch's ensure_nonempty_dim and ensure_nonempty_size). */
const nonEmpty = (shape: Shape): number[] => (shape.length === 0 ? [1] : [...shape]);

/** Strides of `shape` with the one of `dim` set to 0: the offset of an element without its place along dim. */
function stridesWithout(shape: Shape, dim: number): number[] {
  const s = stridesOf(nonEmpty(shape));
  s[dim] = 0;
  return s;
}

/** The size of a dim as PyTorch's size(d) reads it: an error past the tensor's dims. */
function sizeAt(shape: Shape, d: number): number {
  if (shape.length === 0) return 1;
  if (d >= shape.length) fail('invalid-argument', `Dimension out of range (expected to be in range of [${-shape.length}, ${shape.length - 1}], but got ${d})`);
  return shape[d]!;
}

// ----- argument checks, with PyTorch 1.13's messages and in its order -----

export function checkIndexSelect(x: Tensor, index: Tensor): void {
  if (index.ndim > 1) fail('invalid-argument', 'index_select(): Index is supposed to be a vector');
  if (index.dtype !== 'int64') fail('invalid-argument', 'index_select(): Expected dtype int32 or int64 for index');
}

/** gather_shape_check: as many dims, and index no larger than self except along dim. */
export function checkGather(x: Tensor, dim: number, index: Tensor): void {
  if (index.dtype !== 'int64') fail('invalid-argument', 'gather(): Expected dtype int64 for index');
  if (index.numel() === 0) return;
  const rank = Math.max(x.ndim, 1);
  if (rank !== Math.max(index.ndim, 1)) fail('shape-mismatch', 'Index tensor must have the same number of dimensions as input tensor');
  for (let d = 0; d < rank; d++) {
    if (d !== dim && sizeAt(index.shape, d) > sizeAt(x.shape, d)) {
      fail('shape-mismatch', `Size does not match at dimension ${d} expected index ${shapeText(index.shape)} to be smaller than self ${shapeText(x.shape)} apart from dimension ${dim}`);
    }
  }
}

/** scatter_gather_dtype_check and scatter_shape_check (scatter_add's messages say scatter too). */
export function checkScatter(x: Tensor, dim: number, index: Tensor, src: Tensor | null): void {
  if (index.numel() !== 0 && index.dtype !== 'int64') fail('invalid-argument', 'scatter(): Expected dtype int64 for index');
  if (src && src.dtype !== x.dtype) fail('invalid-argument', 'scatter(): Expected self.dtype to be equal to src.dtype');
  if (index.numel() === 0) return;
  const rank = Math.max(x.ndim, 1);
  if (rank !== Math.max(index.ndim, 1)) fail('shape-mismatch', 'Index tensor must have the same number of dimensions as self tensor');
  let wrong = false;
  for (let d = 0; d < rank && !wrong; d++) if (d !== dim && sizeAt(index.shape, d) > sizeAt(x.shape, d)) wrong = true;
  for (let d = 0; d < rank && !wrong && src; d++) if (sizeAt(index.shape, d) > sizeAt(src.shape, d)) wrong = true;
  if (wrong) {
    const against = `Expected index ${shapeText(index.shape)} to be smaller than self ${shapeText(x.shape)} apart from dimension ${dim}`;
    fail('shape-mismatch', src ? `${against} and to be smaller size than src ${shapeText(src.shape)}` : against);
  }
}

/** index_func_meta_impl of index_add, then the checks of its CPU kernel. */
export function checkIndexAdd(x: Tensor, dim: number, index: Tensor, source: Tensor): void {
  if (index.ndim > 1) {
    fail('invalid-argument', `index_add_(): Index is supposed to be a vector, but got dim: ${index.ndim} with type: ${scalarTypeName(index.dtype)} and size: ${shapeText(index.shape)}`);
  }
  if (index.dtype !== 'int64') fail('invalid-argument', `index_add_(): Expected dtype int32/int64 for index but got: ${scalarTypeName(index.dtype)}`);
  if (x.dtype !== source.dtype) {
    fail('invalid-argument', `index_add_(): self (${scalarTypeName(x.dtype)}) and source (${scalarTypeName(source.dtype)}) must have the same scalar type`);
  }
  if (dim !== 0 && dim >= source.ndim) fail('invalid-argument', `index_add_(): Indexing dim ${dim} is out of bounds of the source tensor with dim ${source.ndim}`);
  const count = source.ndim === 0 ? 1 : source.shape[dim]!;
  if (index.numel() !== count) {
    // PyTorch builds this message with source.size(dim), which itself fails for a 0-d source.
    if (source.ndim === 0) fail('invalid-argument', 'Dimension specified as 0 but tensor has no dimensions');
    fail('shape-mismatch', `index_add_(): Number of indices (${index.numel()}) should be equal to source.size(dim): (${count}), for dim: ${dim}`);
  }
  if (x.ndim > 1 && source.ndim === 0) fail('invalid-argument', 'select() cannot be applied to a 0-dim tensor.');
  if (x.ndim <= 1) {
    if (source.ndim > 1) fail('invalid-argument', `source.dim() (${source.ndim}) must one or zero for given self.dim() (${x.ndim})`);
    return;
  }
  // Each slice of source along dim is added to a slice of self: it must broadcast to it, unchanged.
  const selfSlice = x.shape.filter((_, d) => d !== dim);
  const sourceSlice = source.shape.filter((_, d) => d !== dim);
  const shape = broadcastShapes(selfSlice, sourceSlice);
  if (!sameShape(shape, selfSlice)) fail('shape-mismatch', `output with shape ${shapeText(selfSlice)} doesn't match the broadcast shape ${shapeText(shape)}`);
}

export function checkMaskedFill(x: Tensor, mask: Tensor, value: Tensor | null): void {
  // masked_fill broadcasts (mask, self) first: a mismatch names the mask as tensor a.
  broadcastShapes(mask.shape, x.shape);
  // Not specified: PyTorch 1.13 takes int64 and float masks without a check (spec: op.masked-fill).
  if (mask.dtype !== 'bool') fail('invalid-argument', `masked_fill_ only supports boolean masks, but got mask with dtype ${scalarTypeName(mask.dtype)}`);
  if (value && value.ndim !== 0) {
    fail('invalid-argument', `masked_fill_ only supports a 0-dimensional value tensor, but got tensor with ${value.ndim} dimension(s).`);
  }
}

/**
 * The gradient of scatter's src is grad.gather(dim, index), of index's shape: PyTorch's engine
 * refuses it unless src's shape expands to that shape (index smaller than src along some dim).
 */
export function checkSrcGradient(g: Tensor, a: ScatterAttrs): Tensor {
  const src = a.srcShape;
  const expandable = src.length <= g.ndim && src.every((n, i) => n === 1 || n === g.shape[g.ndim - src.length + i]);
  if (!expandable) {
    fail('shape-mismatch', `Function ${a.gradFn} returned an invalid gradient at index 1 - got ${shapeText(g.shape)} but expected shape compatible with ${shapeText(src)}`);
  }
  return g;
}

// ----- forwards -----

/** index_select: the slices of x along dim at the indices, in their order (a 0-d x stays 0-d). */
export function indexSelectForward(x: Tensor, dim: number, index: Tensor, dtype: DType): Result {
  const shape = nonEmpty(x.shape);
  const [n, inner] = [shape[dim]!, numel(shape.slice(dim + 1))];
  const outer = numel(shape.slice(0, dim));
  const idx = index.data;
  for (const i of idx) {
    if (i < 0 || i >= n) {
      // PyTorch 1.13's CPU kernel along dim 1 of a tensor of two or more dims has its own check.
      if (x.ndim > 1 && dim === 1) fail('invalid-argument', `INDICES element is out of DATA bounds, id=${i} axis_dim=${n}`);
      fail('invalid-argument', 'index out of range in self');
    }
  }
  const out = alloc(dtype, outer * idx.length * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < idx.length; k++) {
      for (let j = 0; j < inner; j++) out[(o * idx.length + k) * inner + j] = x.data[(o * n + idx[k]!) * inner + j]!;
    }
  }
  const outShape = x.ndim === 0 ? [] : x.shape.map((s, d) => (d === dim ? idx.length : s));
  return { shape: outShape, data: x.ndim === 0 ? out.slice(0, 1) : out };
}

/** Calls visit(element of index, offset in `target` of the element it points at), in order. */
function forEachTarget(target: Shape, dim: number, index: Tensor, visit: (k: number, at: number) => void): void {
  const n = nonEmpty(target)[dim]!;
  const step = stridesOf(nonEmpty(target))[dim]!;
  const shape = nonEmpty(index.shape);
  forEachBroadcast(shape, stridesOf(shape), stridesWithout(target, dim), (k, _k, base) => {
    const i = index.data[k]!;
    if (i < 0 || i >= n) fail('invalid-argument', `index ${i} is out of bounds for dimension ${dim} with size ${n}`);
    visit(k, base + i * step);
  });
}

/** The offset in src of each element of index (src may be larger than index: its own strides). */
function srcOffsets(index: Tensor, src: Tensor): number[] {
  const shape = nonEmpty(index.shape);
  const offsets: number[] = [];
  forEachBroadcast(shape, stridesOf(shape), stridesOf(nonEmpty(src.shape)), (_k, _i, at) => offsets.push(at));
  return offsets;
}

/** gather: out[p] = x[p with its place along dim replaced by index[p]]; out has index's shape. */
export function gatherForward(x: Tensor, dim: number, index: Tensor, dtype: DType): Result {
  const out = alloc(dtype, index.numel());
  if (index.numel() > 0) forEachTarget(x.shape, dim, index, (k, at) => (out[k] = x.data[at]!));
  return { shape: [...index.shape], data: out };
}

/**
 * scatter (src a tensor or a number) and scatter_add: a copy of x where each index element
 * points at the place it writes src's element to (or adds it to, rounding after each addition).
 * Which of several writes to one place wins is not specified (op.scatter).
 */
export function scatterForward(x: Tensor, dim: number, index: Tensor, src: Tensor | number, add: boolean, dtype: DType): Result {
  const out = alloc(dtype, x.numel());
  out.set(x.data);
  if (index.numel() === 0) return { shape: [...x.shape], data: out };
  const r = rounder(dtype);
  const from = typeof src === 'number' ? null : srcOffsets(index, src);
  forEachTarget(x.shape, dim, index, (k, at) => {
    const v = from === null ? (src as number) : (src as Tensor).data[from[k]!]!;
    out[at] = add ? r(out[at]! + v) : v;
  });
  return { shape: [...x.shape], data: out };
}

/**
 * index_add: a copy of x with alpha·source's i-th slice along dim added to slice index[i], in
 * index order. PyTorch 1.13's CPU kernel computes a 1-d x as x + (source·alpha), each step
 * rounded, and slices of larger x as one fused x + alpha·source (a single rounding).
 */
export function indexAddForward(x: Tensor, dim: number, index: Tensor, source: Tensor, alpha: number, dtype: DType): Result {
  const r = rounder(dtype);
  const a = r(alpha);
  const out = alloc(dtype, x.numel());
  out.set(x.data);
  const idx = index.data;
  const n = x.ndim === 0 ? 1 : x.shape[dim]!;
  const check = (i: number) => { if (i < 0 || i >= n) fail('invalid-argument', 'index out of range in self'); };
  if (x.ndim <= 1) {
    idx.forEach((i, k) => {
      check(i);
      out[i] = r(out[i]! + r(source.data[source.ndim === 0 ? 0 : k]! * a));
    });
    return { shape: [...x.shape], data: out };
  }
  const selfSlice = x.shape.filter((_, d) => d !== dim);
  const sourceSlice = source.shape.filter((_, d) => d !== dim);
  const [outer, inner] = [numel(x.shape.slice(0, dim)), numel(x.shape.slice(dim + 1))];
  // Source slices broadcast to self's slices: the source offset of each self slice element.
  const sourceStrides = stridesOf(source.shape).filter((_, d) => d !== dim);
  const lead = selfSlice.length - sourceSlice.length;
  const aligned = selfSlice.map((_, d) => (d < lead || sourceSlice[d - lead] === 1 ? 0 : sourceStrides[d - lead]!));
  const from: number[] = [];
  forEachBroadcast(selfSlice, stridesOf(selfSlice), aligned, (_o, _i, j) => from.push(j));
  const sourceStep = stridesOf(source.shape)[dim]!;
  idx.forEach((i, k) => {
    check(i);
    if (x.numel() === 0) return;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const at = (o * n + i) * inner + j;
        out[at] = r(out[at]! + a * source.data[k * sourceStep + from[o * inner + j]!]!);
      }
    }
  });
  return { shape: [...x.shape], data: out };
}
