import { apply } from './dispatch.ts';
import { fail, typeName } from './errors.ts';
import { isContiguous, positionsWithin, viewStrides, type Geometry } from './geometry.ts';
import { CopySlices, type GradNode, OpNode, type NodeOp } from './node.ts';
import { OPS } from './ops.ts';
import { checkDims, inferShape, normalizeDim, shapeText } from './shape.ts';
import { Tensor } from './tensor.ts';
import { viewHooks } from './view-hooks.ts';

/*
 * The view ops (views.alias) and what happens when a view's storage is written (views.rebase):
 * argument checks here, geometry in geometry.ts, rows in ops.ts.
 */

const clone = (a: Tensor) => apply(OPS.clone, [a], {});

/** reshape is a view when the layout allows one (ReshapeAliasBackward0), else a copy (op.reshape). */
export function reshape(a: Tensor, shape: number[]): Tensor {
  const sizes = inferShape(shape, a.numel(), 'reshape');
  if (viewStrides(a.geometry, sizes) !== null) return apply(OPS.reshape, [a], { shape: sizes, inputShape: [...a.shape] });
  return apply(OPS.unsafeView, [clone(a)], { shape: sizes, inputShape: [...a.shape] });
}

export const view = (a: Tensor, shape: number[]) =>
  apply(OPS.view, [a], { shape: inferShape(shape, a.numel(), 'view'), inputShape: [...a.shape] });

/** A copy in another shape (matmul's _unsafe_view, and squeeze_ under its own name). */
export const unsafeView = (a: Tensor, shape: number[], name?: string) =>
  apply(OPS.unsafeView, [a], { shape: inferShape(shape, a.numel(), 'view'), inputShape: [...a.shape], name });

export function unsqueeze(a: Tensor, dim: number): Tensor {
  checkDims(a.ndim + 1);
  return apply(OPS.unsqueeze, [a], { dim: normalizeDim(dim, a.ndim + 1, 'unsqueeze') });
}

/** squeeze() drops every size-1 dim (SqueezeBackward0); squeeze(d) only dim d, if it has size 1. */
export function squeeze(a: Tensor, dim?: number): Tensor {
  if (dim === undefined) {
    const dims = a.shape.flatMap((s, i) => (s === 1 ? [i] : []));
    return apply(OPS.squeeze, [a], { dims, name: 'SqueezeBackward0', inputShape: [...a.shape] });
  }
  const d = normalizeDim(dim, a.ndim, 'squeeze');
  return apply(OPS.squeeze, [a], { dims: a.shape[d] === 1 ? [d] : [], name: 'SqueezeBackward1', inputShape: [...a.shape] });
}

function checkInteger(x: unknown, op: string, what: string): asserts x is number {
  if (typeof x !== 'number' || !Number.isInteger(x)) fail('invalid-argument', `${op}(): argument '${what}' must be int, not ${typeName(x)}`);
}

/** x.select(dim, i) and `x[i]`: one index along dim, the dim dropped (SelectBackward0). */
export function select(a: Tensor, dim: number, index: number, indexing = false): Tensor {
  checkInteger(index, 'select', 'index');
  if (a.ndim === 0) fail('invalid-argument', indexing ? 'invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number' : 'select() cannot be applied to a 0-dim tensor.');
  const d = normalizeDim(dim, a.ndim, 'select');
  const size = a.shape[d]!;
  if (index < -size || index >= size) {
    fail('invalid-argument', indexing
      ? `index ${index} is out of bounds for dimension ${d} with size ${size}`
      : `select(): index ${index} out of range for tensor of size ${shapeText(a.shape)} at dimension ${d}`);
  }
  return apply(OPS.select, [a], { dim: d, index: index < 0 ? index + size : index, name: 'SelectBackward0', inputShape: [...a.shape] });
}

/** x.narrow(dim, start, length) (SliceBackward0); a negative start counts from the end. */
export function narrow(a: Tensor, dim: number, start: number, length: number): Tensor {
  checkInteger(start, 'narrow', 'start');
  checkInteger(length, 'narrow', 'length');
  if (a.ndim === 0) fail('invalid-argument', 'narrow() cannot be applied to a 0-dim tensor.');
  const d = normalizeDim(dim, a.ndim, 'narrow');
  const size = a.shape[d]!;
  // PyTorch wraps start like a dim ([-size, size - 1]), except that start = size is kept as it is.
  const from = start === size ? start : normalizeDim(start, size, 'narrow');
  if (from + length > size || length < 0) fail('invalid-argument', `start (${from}) + length (${length}) exceeds dimension size (${size}).`);
  return slice(a, d, from, from + length, 1);
}

/** Python's slice along dim: start and stop clamped into the dim, positive step (SliceBackward0). */
export function slice(a: Tensor, dim: number, start: number, stop: number, step: number, name = 'SliceBackward0', output?: { multiple: boolean; nr: number }): Tensor {
  const size = a.shape[dim]!;
  const clampIndex = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
  const from = clampIndex(start);
  const to = Math.max(clampIndex(stop), from);
  return apply(OPS.slice, [a], { dim, start: from, stop: to, step, name, inputShape: [...a.shape] }, output);
}

export function diagonal(a: Tensor, offset = 0, dim1 = 0, dim2 = 1): Tensor {
  checkInteger(offset, 'diagonal', 'offset');
  const d1 = normalizeDim(dim1, a.ndim, 'diagonal');
  const d2 = normalizeDim(dim2, a.ndim, 'diagonal');
  if (d1 === d2) fail('invalid-argument', `diagonal dimensions cannot be identical ${dim1}, ${dim2}`);
  return apply(OPS.diagonal, [a], { offset, dim1: d1, dim2: d2, inputShape: [...a.shape] });
}

export const alias = (a: Tensor) => apply(OPS.alias, [a], { inputShape: [...a.shape] });

/** One view per index along dim, each output of one multi-output op (UnbindBackward0). */
export function unbind(a: Tensor, dim = 0): Tensor[] {
  if (a.ndim === 0) fail('invalid-argument', 'Dimension specified as 0 but tensor has no dimensions');
  const d = normalizeDim(dim, a.ndim, 'unbind');
  return Array.from({ length: a.shape[d]! }, (_, i) =>
    apply(OPS.select, [a], { dim: d, index: i, name: 'UnbindBackward0', inputShape: [...a.shape] }, { multiple: true, nr: i }));
}

/** split(size) (SplitBackward0) or split([sizes]) (SplitWithSizesBackward0) along dim; chunk is split(ceil(n / chunks)). */
export function split(a: Tensor, sizeOrSections: number | number[], dim = 0): Tensor[] {
  if (a.ndim === 0) fail('invalid-argument', 'split expects at least a 1-dimensional tensor');
  const d = normalizeDim(dim, a.ndim, 'split');
  const size = a.shape[d]!;
  let sizes: number[];
  let name: string;
  if (Array.isArray(sizeOrSections)) {
    sizeOrSections.forEach((s, i) => checkInteger(s, 'split', `split_size_or_sections[${i}]`));
    const total = sizeOrSections.reduce((n, s) => n + s, 0);
    if (total !== size || sizeOrSections.some((s) => s < 0)) {
      fail('invalid-argument', `split_with_sizes expects split_sizes to sum exactly to ${size} (input tensor's size at dimension ${d}), but got split_sizes=${shapeText(sizeOrSections)}`);
    }
    [sizes, name] = [sizeOrSections, 'SplitWithSizesBackward0'];
  } else {
    checkInteger(sizeOrSections, 'split', 'split_size');
    const step = sizeOrSections;
    if (step < 0) fail('invalid-argument', `split expects split_size be non-negative, but got split_size=${step}`);
    if (step === 0 && size !== 0) fail('invalid-argument', `split_size can only be 0 if dimension size is 0, but got dimension size of ${size}`);
    const count = step === 0 ? 1 : Math.max(1, Math.ceil(size / step));
    sizes = Array.from({ length: count }, (_, i) => (step === 0 ? 0 : Math.min(step, size - i * step)));
    name = 'SplitBackward0';
  }
  let start = 0;
  return sizes.map((s, i) => {
    const part = slice(a, d, start, start + s, 1, name, { multiple: true, nr: i });
    start += s;
    return part;
  });
}

export function chunk(a: Tensor, chunks: number, dim = 0): Tensor[] {
  checkInteger(chunks, 'chunk', 'chunks');
  if (a.ndim === 0) fail('invalid-argument', 'chunk expects at least a 1-dimensional tensor');
  if (chunks <= 0) fail('invalid-argument', `chunk expects \`chunks\` to be greater than 0, got: ${chunks}`);
  const d = normalizeDim(dim, a.ndim, 'chunk');
  // An empty dim gives `chunks` empty pieces (split_with_sizes): a size of 0 would give one.
  if (a.shape[d] === 0) return split(a, new Array<number>(chunks).fill(0), d);
  return split(a, Math.ceil(a.shape[d]! / chunks), d);
}

/** x.contiguous(): itself when already contiguous, else a contiguous copy (CloneBackward0). */
export const contiguous = (a: Tensor) => (isContiguous(a.geometry) ? a : clone(a));

// ----- writes through views (views.rebase) -----

/**
 * PyTorch's handle_view_on_rebase: views made in no-grad mode, and outputs of multi-output ops,
 * may not be written in place (directly) or used after their storage was written (indirectly).
 */
export function refuseView(v: Tensor, indirect: boolean): never {
  const info = v.viewInfo!;
  const what = indirect ? 'its base or another view of its base has been' : 'is being';
  const fn = v.ownGradFn;
  let message = fn
    ? `Output ${info.outputNr} of ${fn.name()} is a view and ${what} modified inplace.`
    : `A view was created in no_grad mode and ${what} modified inplace with grad mode enabled.`;
  message += info.creation === 'multi-output'
    ? ' This view is the output of a function that returns multiple views. Such functions do not allow the output views to be modified inplace. You should replace the inplace operation by an out-of-place one.'
    : " Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked).";
  fail('leaf-inplace', message);
}

/** Where a view's elements sit among its base's, as flat row-major positions. */
const placeInBase = (v: Tensor, base: Geometry) => positionsWithin(v.geometry, base);

/** The grad_fn of a view whose storage was written: AsStridedBackward0 over the base's current history. */
function regenerate(v: Tensor): GradNode {
  const base = v.viewInfo!.base;
  const attrs = { at: placeInBase(v, base.geometry), shape: [...v.shape], inputShape: [...base.shape] };
  return new OpNode('AsStridedBackward0', [base.gradientEdge()], OPS.asStrided as NodeOp, attrs, [base.shape], [base.dtype]);
}

viewHooks.regenerate = regenerate;
viewHooks.refuse = refuseView;

/** After an in-place op on view `v` recorded `node`: the base takes CopySlices; v's grad_fn is rebuilt when read. */
export function rebaseOnView(v: Tensor, node: GradNode): void {
  const base = v.viewInfo!.base;
  base.takeHistory(new CopySlices(base.gradientEdge(), placeInBase(v, base.geometry), [...v.shape], node));
}
