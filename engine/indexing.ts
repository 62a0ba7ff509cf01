import { apply } from './dispatch.ts';
import { fail, typeName } from './errors.ts';
import { OPS } from './ops.ts';
import { broadcastShapes, broadcastStrides, forEachBroadcast, numel, sameShape, shapeText, stridesOf } from './shape.ts';
import { Tensor } from './tensor.ts';
import { alias, select, slice, unsqueeze, view } from './views.ts';
import { copy, expand, inplace } from './functional.ts';
import { alloc, settle } from './kernels.ts';

/*
 * Python's indexing, `x[...]` and `x[...] = v` (index.basic, index.advanced). Numbers, slices,
 * null and '...' make views, in the order PyTorch applies them; int64 and bool tensors (and
 * number arrays, int64 literals) then gather a copy, whose backward adds up duplicates.
 */

/** A slice `start:stop:step` (positive step); a missing end means the whole dim. */
export interface Slice { start?: number | null; stop?: number | null; step?: number | null }
export type IndexItem = number | null | '...' | Slice | Tensor | number[];

const isSlice = (x: unknown): x is Slice => typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Tensor);

/** An advanced index as an int64 or bool tensor; number arrays are int64 literals. */
function indexTensor(item: Tensor | number[]): Tensor {
  if (item instanceof Tensor) {
    if (item.dtype !== 'int64' && item.dtype !== 'bool') fail('invalid-argument', 'tensors used as indices must be long, byte or bool tensors');
    return item;
  }
  item.forEach((v) => { if (!Number.isInteger(v)) fail('invalid-argument', `index arrays must hold integers, not ${typeName(v)}`); });
  return new Tensor(Float64Array.from(item), [item.length], 'int64');
}

/** How many dims of the indexed tensor an item uses up. */
const consumed = (item: IndexItem): number =>
  item === null || item === '...' ? 0 : item instanceof Tensor && item.dtype === 'bool' ? Math.max(item.ndim, 1) : 1;

/** The basic items applied as views; the advanced ones left with the dim they index. */
function applyBasic(a: Tensor, items: readonly IndexItem[]): { sliced: Tensor; advanced: { dim: number; index: Tensor }[] } {
  if (!Array.isArray(items)) fail('invalid-argument', `index(): items must be a list, not ${typeName(items)}`);
  const used = items.reduce((n, item) => n + consumed(item), 0);
  if (items.filter((i) => i === '...').length > 1) fail('invalid-argument', "an index can only have a single ellipsis ('...')");
  if (used > a.ndim) fail('invalid-argument', `too many indices for tensor of dimension ${a.ndim}`);
  let t = a;
  let dim = 0;
  const advanced: { dim: number; index: Tensor }[] = [];
  for (const item of items) {
    if (typeof item === 'number') {
      if (!Number.isInteger(item)) fail('invalid-argument', `only integers, slices, None, '...' and tensors are valid indices (got ${item})`);
      t = select(t, dim, item, true);
    } else if (item === null) {
      t = unsqueeze(t, dim++);
    } else if (item === '...') {
      dim += a.ndim - used;
    } else if (item instanceof Tensor && item.ndim === 0 && item.dtype === 'int64') {
      // A 0-d integer tensor indexes as the number it holds (SelectBackward0), as in PyTorch.
      t = select(t, dim, item.item(), true);
    } else if (item instanceof Tensor || Array.isArray(item)) {
      const index = indexTensor(item);
      if (index.ndim === 0) fail('invalid-argument', 'a 0-d bool index (which adds a dim of size 1 or 0) is outside the reference engine');
      advanced.push({ dim, index });
      // One dim on, also for a mask of several dims: PyTorch applies the basic items after a mask
      // as if it were one dim (x[mask2d, 0] is x.select(1, 0)[mask2d]), though '...' counts all its dims.
      dim += 1;
    } else if (isSlice(item)) {
      const step = item.step ?? 1;
      if (!Number.isInteger(step) || step === 0) fail('invalid-argument', 'slice step cannot be zero');
      if (step < 0) fail('invalid-argument', 'step must be greater than zero');
      const size = t.shape[dim]!;
      t = slice(t, dim++, item.start ?? 0, item.stop ?? size, step);
    } else {
      fail('invalid-argument', `only integers, slices, None, '...' and tensors are valid indices (got ${typeName(item)})`);
    }
  }
  return { sliced: t, advanced };
}

/**
 * NumPy's advanced indexing over `shape`: the flat position of every selected element and the
 * result's shape. Bool masks become the int64 indices of their true elements; all indices
 * broadcast together; their dims go where the first one was if they are adjacent, else first.
 */
function advancedPositions(shape: readonly number[], advanced: readonly { dim: number; index: Tensor }[]): { at: Float64Array; shape: number[] } {
  const dims: number[] = [];
  const indices: Tensor[] = [];
  for (const { dim, index } of advanced) {
    if (index.dtype === 'bool') {
      index.shape.forEach((s, k) => {
        if (s !== shape[dim + k]) {
          fail('invalid-argument', `The shape of the mask ${shapeText(index.shape)} at index ${k} does not match the shape of the indexed tensor ${shapeText(shape)} at index ${dim + k}`);
        }
      });
      // The true elements, as one int64 index per mask dim.
      const where = [...index.data.keys()].filter((i) => index.data[i] !== 0);
      const strides = stridesOf(index.shape);
      index.shape.forEach((_, k) => {
        dims.push(dim + k);
        indices.push(new Tensor(Float64Array.from(where, (i) => Math.floor(i / strides[k]!) % index.shape[k]!), [where.length], 'int64'));
      });
    } else {
      dims.push(dim);
      indices.push(index);
    }
  }
  // PyTorch names every index shape when they do not broadcast together.
  const together = (): number[] => {
    try {
      return indices.reduce<number[]>((s, t) => broadcastShapes(s, t.shape), []);
    } catch {
      return fail('shape-mismatch', `shape mismatch: indexing tensors could not be broadcast together with shapes ${indices.map((t) => shapeText(t.shape)).join(', ')}`);
    }
  };
  const broadcast = together();
  const values = indices.map((t, k) => {
    const size = shape[dims[k]!]!;
    const out = new Float64Array(numel(broadcast));
    const data = t.data;
    forEachBroadcast(broadcast, broadcastStrides(t.shape, broadcast), broadcastStrides(t.shape, broadcast), (o, i) => {
      const v = data[i]!;
      if (v < -size || v >= size) fail('invalid-argument', `index ${v} is out of bounds for dimension ${dims[k]} with size ${size}`);
      out[o] = v < 0 ? v + size : v;
    });
    return out;
  });
  const adjacent = dims.every((d, k) => k === 0 || d === dims[k - 1]! + 1);
  const rest = shape.map((_, d) => d).filter((d) => !dims.includes(d));
  const first = adjacent ? dims[0]! : 0;
  const before = rest.filter((d) => d < first);
  const after = rest.filter((d) => d >= first);
  const outShape = [...before.map((d) => shape[d]!), ...broadcast, ...after.map((d) => shape[d]!)];
  const strides = stridesOf(shape);
  const nb = numel(broadcast);
  // The result in row-major order: (before dims, broadcast index, after dims).
  const at = new Float64Array(numel(outShape));
  const afterStart = before.length + broadcast.length;
  for (let o = 0; o < at.length; o++) {
    let rem = o;
    let flat = 0;
    for (let k = outShape.length - 1; k >= afterStart; k--) {
      flat += (rem % outShape[k]!) * strides[after[k - afterStart]!]!;
      rem = Math.floor(rem / outShape[k]!);
    }
    const b = rem % nb;
    rem = Math.floor(rem / nb);
    for (let k = before.length - 1; k >= 0; k--) {
      flat += (rem % outShape[k]!) * strides[before[k]!]!;
      rem = Math.floor(rem / outShape[k]!);
    }
    dims.forEach((d, k) => (flat += values[k]![b]! * strides[d]!));
    at[o] = flat;
  }
  return { at, shape: outShape };
}

/** `x[items]`: views for the basic items; IndexBackward0 for advanced ones. */
export function index(a: Tensor, items: readonly IndexItem[]): Tensor {
  const { sliced, advanced } = applyBasic(a, items);
  if (advanced.length === 0) return sliced === a ? alias(a) : sliced;
  const { at, shape } = advancedPositions(sliced.shape, advanced);
  return apply(OPS.extractAt, [sliced], { at, shape, inputShape: [...sliced.shape], name: 'IndexBackward0' });
}

/** Leading dims of size 1 dropped: PyTorch views values so before writing them (slicePrefix1sSize). */
function stripLeadingOnes(shape: readonly number[]): number[] {
  const first = shape.findIndex((d) => d !== 1);
  return first === -1 ? [] : shape.slice(first);
}

/**
 * PyTorch's copy_to, the write of `x[basic items] = v`: copy_ for the same shape, fill_ for a 0-d
 * value, otherwise the value viewed without leading 1s, expanded to the target, then copy_.
 */
function copyTo(dst: Tensor, src: Tensor): Tensor {
  if (sameShape(dst.shape, src.shape)) return inplace(dst, 'copy_', [dst, src], (o) => copy(o, src));
  if (src.ndim === 0) return inplace(dst, 'fill_', [dst, src], (o) => apply(OPS.fillWith, [o, src], {}));
  const viewed = view(src, stripLeadingOnes(src.shape));
  const expanded = sameShape(viewed.shape, dst.shape) ? viewed : expand(viewed, [...dst.shape]);
  return inplace(dst, 'copy_', [dst, expanded], (o) => copy(o, expanded));
}

/**
 * `x[items] = values`: a copy into what the basic items select (CopySlices when that is a view),
 * then, for advanced items, index_put_ at their positions (IndexPutBackward0); accumulate adds.
 * A number value becomes a 0-d tensor of x's dtype, as PyTorch's setitem makes it.
 */
export function indexPut(a: Tensor, items: readonly IndexItem[], values: Tensor | number, accumulate: boolean): Tensor {
  if (typeof accumulate !== 'boolean') fail('invalid-argument', `indexPut_(): option 'accumulate' must be a boolean, not ${typeName(accumulate)}`);
  const src = values instanceof Tensor ? values : scalarTensor(values, a.dtype);
  const { sliced, advanced } = applyBasic(a, items);
  if (advanced.length === 0) {
    if (accumulate) fail('invalid-argument', 'index_put_ with accumulate=True takes tensor indices only');
    copyTo(sliced, src);
    return a;
  }
  const { at, shape } = advancedPositions(sliced.shape, advanced);
  // PyTorch drops the value's leading 1s first, then broadcasts what is left to the indexed shape.
  const stripped = stripLeadingOnes(src.shape);
  const fits = stripped.length <= shape.length && stripped.every((d, i) => d === 1 || d === shape[shape.length - stripped.length + i]);
  if (!fits) fail('shape-mismatch', `shape mismatch: value tensor of shape ${shapeText(stripped)} cannot be broadcast to indexing result of shape ${shapeText(shape)}`);
  const v = stripped.length === src.ndim ? src : view(src, stripped);
  inplace(sliced, 'index_put_', [sliced, v], (o) => apply(OPS.indexPut, [o, v], { at, shape, accumulate, dtype: o.dtype }));
  return a;
}

function scalarTensor(value: unknown, dtype: Tensor['dtype']): Tensor {
  if (typeof value !== 'number') fail('invalid-argument', `indexPut_(): values must be a Tensor or a number, not ${typeName(value)}`);
  const t = new Tensor(alloc(dtype, 1), [], dtype);
  t.data[0] = value;
  settle(t.data, dtype);
  return t;
}
