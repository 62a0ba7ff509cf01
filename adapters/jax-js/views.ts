import { numpy as np } from '@jax-js/jax';
import type { Attrs, IndexItem, OpName } from '../../spec/program.ts';
import { notSupported } from './errors.ts';
import type { OpFunction, Operand } from './ops.ts';

/*
 * PyTorch's view ops as jax-js calls. jax-js arrays are values without storage, so these copy:
 * what a view shares with its input (writes through it, layout, storage) is not claimed (index.ts).
 * Python's `x[...]` is jax-js's `x.slice(...)`: a number, `[]` for `:`, `[i]` for `i:`, `[i, j]`
 * for `i:j`, null for None, an int32 array for an integer list. PyTorch's dims and sizes are
 * spelled in those terms; bounds are left to jax-js.
 */

/** jax-js's slice signals bad indices with RangeError, which the adapter reserves for its own bugs: re-raised as jax-js's refusal. */
function sliced(a: np.Array, index: Parameters<np.Array['slice']>): np.Array {
  try {
    return a.slice(...index);
  } catch (e) {
    if (e instanceof RangeError && !/call stack/.test(e.message)) throw new Error(e.message);
    throw e;
  }
}

/**
 * `[]` for every dim before `dim` (a negative one counts from the end), as `x[:, :, i]` is written.
 * A dim past the end makes too many items, which jax-js refuses; one before the start has no spelling.
 */
function before(dim: number, rank: number): [][] {
  if (dim < -rank) throw notSupported(`dim ${dim} of an array of ${rank} dims (slices take one item per axis)`);
  return Array.from({ length: dim < 0 ? dim + rank : dim }, () => []);
}

const tensor = (a: Operand | undefined): np.Array => a as np.Array;

export function viewFunction(op: OpName, attrs: Attrs, shape: readonly number[]): OpFunction {
  const dim = (attrs.dim as number | undefined) ?? 0;
  switch (op) {
    case 'select': return ([a]) => sliced(tensor(a), [...before(dim, shape.length), attrs.index ?? 0]);
    case 'narrow': {
      const start = attrs.start ?? 0;
      const from = start < 0 ? start + (shape[dim < 0 ? dim + shape.length : dim] ?? 0) : start;
      return ([a]) => sliced(tensor(a), [...before(dim, shape.length), [from, from + (attrs.length ?? 0)]]);
    }
    case 'diagonal': return ([a]) => np.diagonal(tensor(a), attrs.offset ?? 0, (attrs.dim1 as number | undefined) ?? 0, attrs.dim2 ?? 1);
    // Arrays have no strides: every array is row-major already, so contiguous is the array itself.
    case 'contiguous': return ([a]) => tensor(a);
    case 'index': return indexFunction(attrs.items ?? [], shape.length);
    default: throw new Error(`${op} is not a view op of one output`);
  }
}

/** Piece `k` of unbind, split or chunk: np.unstack, and np.split at the offsets PyTorch's sizes give. */
export function pieceFunction(op: OpName, attrs: Attrs, shape: readonly number[], k: number): OpFunction {
  const dim = (attrs.dim as number | undefined) ?? 0;
  const pick = (pieces: np.Array[]): np.Array => {
    pieces.forEach((p, j) => j !== k && p.dispose());
    return pieces[k]!;
  };
  if (op === 'unbind') return ([a]) => pick(np.unstack(tensor(a), dim));
  const offsets = pieceSizes(op, attrs, shape[dim < 0 ? dim + shape.length : dim] ?? 0).slice(0, -1)
    .map((_, i, sizes) => sizes.slice(0, i + 1).reduce((s, n) => s + n, 0));
  return ([a]) => pick(np.split(tensor(a), offsets, dim));
}

/** How many pieces (for binding names) and their sizes: PyTorch's split(n) and chunk(n). */
export function pieceSizes(op: OpName, attrs: Attrs, size: number): number[] {
  if (op === 'split' && Array.isArray(attrs.splitSize)) return attrs.splitSize;
  const n = op === 'split' ? attrs.splitSize as number : attrs.chunks ?? 0;
  if (op === 'chunk' && n <= 0) throw notSupported(`chunk into ${n} pieces (np.split takes offsets)`);
  if (op === 'split' && n <= 0 && size > 0) throw notSupported(`split of size ${n} (np.split takes offsets)`);
  const step = op === 'split' ? n : Math.ceil(size / n);
  // An empty dim splits into one empty piece and chunks into n empty ones (split_with_sizes).
  if (size === 0) return new Array<number>(op === 'split' ? 1 : n).fill(0);
  return Array.from({ length: Math.ceil(size / step) }, (_, i) => Math.min(step, size - i * step));
}

type SliceItem = Parameters<np.Array['slice']>[number];

/**
 * x[items] as x.slice(...): '...' becomes `[]` for the dims it stands for. jax-js has no strided
 * slices and no int64 or bool arrays. A number together with an integer list is refused: numpy's
 * rule, which jax-js follows, moves the gathered dims to the front when a slice separates them
 * (x[0, :, [1, 2]] has shape (2, 3) in numpy, (3, 2) in PyTorch 1.13).
 */
function indexFunction(items: readonly IndexItem[], rank: number): OpFunction {
  const isSlice = (i: IndexItem): i is { start?: number; stop?: number; step?: number } => i !== null && typeof i === 'object' && !Array.isArray(i) && !('ref' in i);
  const consuming = items.filter((i) => typeof i === 'number' || Array.isArray(i) || isSlice(i)).length;
  const lists = items.filter((i) => Array.isArray(i)).length;
  // '...' is spelled as whole-axis items, which says nothing about a second one (PyTorch refuses it).
  if (items.filter((i) => i === '...').length > 1) throw notSupported('several ... in one index (jax-js slices have no ellipsis)');
  if (lists > 1 || (lists === 1 && items.some((i) => typeof i === 'number'))) throw notSupported('integer lists with other lists or numbers in one index (numpy and PyTorch place the gathered dims differently)');
  // An integer list is kept as `{ list }`: slice bounds are arrays too.
  const parts: (SliceItem | { list: number[] })[] = [];
  for (const item of items) {
    if (item === '...') parts.push(...Array.from({ length: Math.max(0, rank - consuming) }, (): [] => []));
    else if (Array.isArray(item)) parts.push({ list: item });
    else if (item !== null && typeof item === 'object' && 'ref' in item) throw notSupported('indexing by a tensor (jax-js has no int64 or bool arrays)');
    else if (isSlice(item)) {
      if ((item.step ?? 1) !== 1) throw notSupported('slices with a step (jax-js has no strided slices)');
      parts.push(item.stop === undefined ? (item.start === undefined ? [] : [item.start]) : [item.start ?? 0, item.stop]);
    } else parts.push(item);
  }
  return ([a]) => sliced(tensor(a), parts.map((p) => (p !== null && typeof p === 'object' && 'list' in p ? np.array(p.list, { dtype: np.int32 }) : p)));
}
