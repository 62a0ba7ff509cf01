import * as tf from '@tensorflow/tfjs-core';
import type { Attrs, IndexItem, OpName } from '../../spec/program.ts';
import { notSupported } from './errors.ts';

/*
 * PyTorch's view ops as tfjs ops. tfjs tensors are values without storage, so these copy: what
 * a view shares with its input (writes through it, layout, storage) is not claimed (index.ts).
 * PyTorch's arguments are spelled in tfjs's terms (a dim and an index become a slice's begin and
 * size, a split size becomes the list of piece sizes); range checks are left to tfjs.
 */

/** tfjs's own axis parser: normalizes a negative dim and refuses one out of range. */
const axis = (dim: number | number[] | undefined, rank: number): number => tf.util.parseAxisParam((dim as number | undefined) ?? 0, new Array<number>(rank).fill(1))[0]!;

/** The begin and size of tf.slice that keep every dim but `d`, which gets [start, start + length). */
function sliceAlong(a: tf.Tensor, d: number, start: number, length: number): tf.Tensor {
  const begin = a.shape.map((_, j) => (j === d ? start : 0));
  const size = a.shape.map((_, j) => (j === d ? length : -1));
  return tf.slice(a, begin, size);
}

/** A negative index or start counts from the end of the dim, as in PyTorch. */
const fromEnd = (i: number, size: number) => (i < 0 ? i + size : i);

export function applyView(op: OpName, a: tf.Tensor, attrs: Attrs): tf.Tensor {
  switch (op) {
    case 'select': {
      const d = axis(attrs.dim, a.rank);
      return tf.squeeze(sliceAlong(a, d, fromEnd(attrs.index ?? 0, a.shape[d]!), 1), [d]);
    }
    case 'narrow': {
      const d = axis(attrs.dim, a.rank);
      return sliceAlong(a, d, fromEnd(attrs.start ?? 0, a.shape[d]!), attrs.length ?? 0);
    }
    // tfjs has no op that takes a diagonal out of a tensor (tf.diag builds one from a vector).
    case 'diagonal': throw notSupported('diagonal (tfjs has no op that extracts a diagonal)');
    // tfjs tensors have no strides: every tensor is laid out row-major, so contiguous is a copy of itself.
    case 'contiguous': return tf.clone(a);
    case 'index': return index(a, attrs.items ?? []);
    default: throw new Error(`${op} is not a view op of one output`);
  }
}

/** unbind, split and chunk: tf.unstack, and tf.split with PyTorch's piece sizes. */
export function applyPieces(op: OpName, a: tf.Tensor, attrs: Attrs): tf.Tensor[] {
  const d = axis(attrs.dim, a.rank);
  const size = a.shape[d]!;
  if (op === 'unbind') return tf.unstack(a, d);
  if (op === 'split' && Array.isArray(attrs.splitSize)) return tf.split(a, attrs.splitSize, d);
  // split(n): pieces of n, the last smaller; chunk(n): pieces of ceil(size / n). An empty dim
  // splits into one empty piece and chunks into n empty ones (split_with_sizes).
  const n = op === 'split' ? attrs.splitSize as number : attrs.chunks ?? 0;
  if (op === 'chunk' && n <= 0) throw notSupported(`chunk into ${n} pieces (tfjs's split takes piece sizes)`);
  if (op === 'split' && n <= 0 && size > 0) throw notSupported(`split of size ${n} (tfjs's split takes piece sizes)`);
  const step = op === 'split' ? n : Math.ceil(size / n);
  const sizes = size === 0 ? new Array<number>(op === 'split' ? 1 : n).fill(0)
    : Array.from({ length: Math.ceil(size / step) }, (_, i) => Math.min(step, size - i * step));
  return tf.split(a, sizes, d);
}

const isSlice = (item: IndexItem): item is { start?: number; stop?: number; step?: number } =>
  item !== null && typeof item === 'object' && !Array.isArray(item) && !('ref' in item);

/**
 * x[items]. Basic items as tf.slice and a reshape (tfjs's stridedSlice has no gradient, so it is
 * used only for steps past 1, where it is tfjs's only way). One list of integers as tf.gather
 * along its dim, after the basic items: PyTorch applies numbers and slices first, so the gathered
 * dim stays where the list stands. int64 and bool tensors, and several lists (broadcast together
 * in PyTorch), have no tfjs counterpart.
 */
function index(a: tf.Tensor, items: readonly IndexItem[]): tf.Tensor {
  for (const item of items) {
    if (item !== null && typeof item === 'object' && 'ref' in item) throw notSupported('indexing by a tensor (tfjs has no int64 or bool index tensors)');
  }
  const lists = items.filter((i) => Array.isArray(i));
  if (lists.length > 1) throw notSupported('several integer lists in one index (tfjs gathers along one axis)');
  const consuming = items.filter((i) => typeof i === 'number' || Array.isArray(i) || isSlice(i)).length;
  const ellipsis = items.filter((i) => i === '...').length;
  // PyTorch refuses these; the dims of the adapter's slice would not say why.
  if (ellipsis > 1 || consuming > a.rank) throw notSupported(`${ellipsis > 1 ? 'several ...' : 'more indices than dims'} (tfjs has no indexing syntax)`);
  // Each item with the input dim it reads (none for null) and the output dims it makes.
  const begin: number[] = []; const size: number[] = []; const strides: number[] = []; const out: number[] = [];
  let dim = 0; let gatherAt = -1; let gatherIdx: number[] = [];
  const whole = () => { begin.push(0); size.push(a.shape[dim]!); strides.push(1); out.push(a.shape[dim]!); dim++; };
  for (const item of items) {
    if (item === null) out.push(1);
    else if (item === '...') for (let k = 0; k < a.rank - consuming; k++) whole();
    else if (typeof item === 'number') {
      begin.push(fromEnd(item, a.shape[dim]!)); size.push(1); strides.push(1); dim++;
    } else if (Array.isArray(item)) {
      gatherAt = out.length; gatherIdx = item.map((i) => fromEnd(i, a.shape[dim]!)); whole();
    } else if (isSlice(item)) {
      const s = a.shape[dim]!;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + s : v, 0), s);
      const from = clamp(item.start ?? 0);
      const to = item.stop === undefined ? s : clamp(item.stop);
      const step = item.step ?? 1;
      const n = Math.max(0, Math.ceil((to - from) / step));
      begin.push(from); size.push(n); strides.push(step); out.push(n); dim++;
    }
  }
  while (dim < a.rank) whole();
  const picked = strides.every((s) => s === 1)
    ? tf.slice(a, begin, size)
    : tf.stridedSlice(a, begin, begin.map((b, j) => b + size[j]! * strides[j]!), strides);
  const shaped = tf.reshape(picked, out);
  return gatherAt < 0 ? shaped : tf.gather(shaped, tf.tensor1d(gatherIdx, 'int32'), gatherAt);
}
