import type { Reduction } from '../spec/program.ts';
import { apply, numberDtype, scalarTypeName } from './dispatch.ts';
import { fail, typeName } from './errors.ts';
import { isGradEnabled } from './grad-mode.ts';
import { alloc } from './kernels.ts';
import { OPS } from './ops.ts';
import { broadcastShapes, checkDims, checkSizeList, inferShape, normalizeDim, numel, sameShape, shapeText } from './shape.ts';
import { Tensor } from './tensor.ts';
export { backwardFrom } from './backward.ts';

/*
 * The public ops: argument checks with PyTorch's messages, then one row of the op table, or a
 * composite of rows where PyTorch itself composes (matmul, `3 / t`).
 */

export type Operand = Tensor | number;
const none = {};

/**
 * A Python number next to a tensor: a 0-d tensor of the tensor's dtype that never decides dtypes.
 * These are never modified or exposed, so equal ones are shared: a long chain of `x * 0.5` then
 * holds one such tensor instead of one per node.
 */
const wrapped = new Map<string, Tensor>();

export function wrap(x: Operand, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number') fail('invalid-argument', `expected a Tensor or a number, got ${typeName(x)}`);
  // Next to a float tensor the number takes its dtype (PyTorch computes in it); next to int64 or
  // bool an integer is a Python int (int64) and anything else a Python float (float32).
  const dtype = like.floating ? like.dtype : numberDtype(x);
  const key = `${dtype}:${Object.is(x, -0) ? '-0' : x}`;
  let t = wrapped.get(key);
  if (!t) {
    if (wrapped.size >= 4096) wrapped.clear();
    t = new Tensor(alloc(dtype, 1), [], dtype);
    t.data[0] = x;
    t.wrappedNumber = true;
    wrapped.set(key, t);
  }
  return t;
}

function checkTensor(t: unknown, op: string): asserts t is Tensor {
  if (!(t instanceof Tensor)) fail('invalid-argument', `${op}(): expected a Tensor, got ${typeName(t)}`);
}

function checkNumber(x: unknown, op: string, what: string): asserts x is number {
  if (typeof x !== 'number') fail('invalid-argument', `${op}(): argument '${what}' must be a number, not ${typeName(x)}`);
}

export type UnaryName = 'neg' | 'exp' | 'log' | 'sin' | 'cos' | 'tan' | 'tanh' | 'sigmoid' | 'relu' | 'sqrt' | 'abs' | 'reciprocal' | 'sgn'
  | 'log1p' | 'expm1' | 'erf' | 'atan' | 'asin' | 'acos' | 'sinh' | 'cosh' | 'asinh' | 'acosh' | 'atanh' | 'rsqrt'
  | 'sign' | 'floor' | 'ceil' | 'round' | 'trunc';
export const unary = (name: UnaryName, a: Tensor) => apply(OPS[name], [a], none);

export const add = (a: Tensor, b: Operand) => apply(OPS.add, [a, wrap(b, a)], none);
export const sub = (a: Tensor, b: Operand) => apply(OPS.sub, [a, wrap(b, a)], none);
export const mul = (a: Tensor, b: Operand) => apply(OPS.mul, [a, wrap(b, a)], none);
export const div = (a: Tensor, b: Operand) => apply(OPS.div, [a, wrap(b, a)], none);
/** `value - a`, Python's `3 - t`. */
export function rsub(a: Tensor, value: number): Tensor {
  checkNumber(value, 'rsub', 'value');
  return apply(OPS.rsub, [a], { value });
}

/** `a ** b`: a number exponent is PowBackward0, a tensor exponent PowBackward1. */
export function pow(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return apply(OPS.powScalar, [a], { exponent: b });
  if (!(b instanceof Tensor)) fail('invalid-argument', `pow(): expected a Tensor or a number as exponent, got ${typeName(b)}`);
  return apply(OPS.pow, [a, b], none);
}

/**
 * `torch.where(condition, a, b)`: a where the bool condition is true, b elsewhere, all three
 * broadcast. a and b may be Python numbers (wrapped next to the other value, or both numbers).
 */
export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  checkTensor(condition, 'where');
  if (condition.dtype !== 'bool') {
    fail('invalid-argument', `where expected condition to be a boolean tensor, but got a tensor with dtype ${scalarTypeName(condition.dtype)}`);
  }
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : condition;
  return apply(OPS.where, [condition, wrap(a, like), wrap(b, like)], none);
}

export type ComparisonName = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';
/** `a > b` and the other comparisons: a bool tensor that never requires grad. */
export const compare = (name: ComparisonName, a: Tensor, b: Operand) => apply(OPS[name], [a, wrap(b, a)], none);

export function thresholdBackward(g: Tensor, result: Tensor): Tensor {
  checkTensor(result, 'thresholdBackward');
  return apply(OPS.thresholdBackward, [g, result], none);
}

export function bceBackward(g: Tensor, input: Tensor, target: Tensor, reduction: Reduction): Tensor {
  return apply(OPS.bceBackward, [g, input, target], { reduction, beta: 0 });
}

export const nllLoss = (x: Tensor, target: Tensor, reduction: Reduction) => apply(OPS.nllLoss, [x], { reduction, target });
export const nllLossBackward = (g: Tensor, x: Tensor, target: Tensor, reduction: Reduction) => apply(OPS.nllLossBackward, [g, x], { reduction, target });

export function checkDtype(dtype: unknown, op: string): asserts dtype is Tensor['dtype'] {
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int64' && dtype !== 'bool') {
    fail('invalid-argument', `${op}(): unsupported dtype ${typeof dtype === 'string' ? dtype : typeName(dtype)}`);
  }
}

export function to(a: Tensor, dtype: Tensor['dtype']): Tensor {
  checkDtype(dtype, 'to');
  return dtype === a.dtype ? a : apply(OPS.to, [a], { dtype });
}

function reduceDims(a: Tensor, dim: number | number[] | undefined, keepdim: boolean, op: string): { dims: number[]; all: boolean } {
  if (typeof keepdim !== 'boolean') fail('invalid-argument', `${op}(): argument 'keepdim' must be a boolean, not ${typeName(keepdim)}`);
  if (dim === undefined) return { dims: a.shape.map((_, i) => i), all: true };
  if (Array.isArray(dim)) checkSizeList(dim, op, 'dim');
  const list: unknown[] = Array.isArray(dim) ? dim : [dim];
  const dims: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const d = normalizeDim(list[i], a.ndim, op);
    if (d < a.ndim) dims.push(d); // a 0-d tensor accepts dim 0 and -1 and has nothing to reduce
  }
  dims.forEach((d, i) => {
    if (dims.indexOf(d) !== i) fail('invalid-argument', `dim ${d} appears multiple times in the list of dims`);
  });
  // An empty list reduces every dim, as PyTorch 1.13 does (it still records the dim variant).
  return { dims: list.length === 0 ? a.shape.map((_, i) => i) : dims, all: false };
}

export function sum(a: Tensor, dim?: number | number[], keepdim = false): Tensor {
  const { dims, all } = reduceDims(a, dim, keepdim, 'sum');
  return apply(all ? OPS.sum : OPS.sumDim, [a], { dims, keepdim, inputShape: [...a.shape] });
}

export function mean(a: Tensor, dim?: number | number[], keepdim = false): Tensor {
  const { dims, all } = reduceDims(a, dim, keepdim, 'mean');
  return apply(all ? OPS.mean : OPS.meanDim, [a], { dims, keepdim, inputShape: [...a.shape] });
}

// The row is looked up per call, so this module loads whichever engine module is imported first.
const reshapeWith = (row: 'reshape' | 'view' | 'unsafeView', name: string) => (a: Tensor, shape: number[]) =>
  apply(OPS[row], [a], { shape: inferShape(shape, a.numel(), name), inputShape: [...a.shape] });
/** reshape records ReshapeAliasBackward0: reference tensors are always contiguous (op.reshape). */
export const reshape = reshapeWith('reshape', 'reshape');
export const view = reshapeWith('view', 'view');
const unsafeView = reshapeWith('unsafeView', 'matmul');

const reshapeNamed = (a: Tensor, shape: number[], name: string) =>
  apply({ ...OPS.view, gradFn: name }, [a], { shape, inputShape: [...a.shape] });

export function unsqueeze(a: Tensor, dim: number): Tensor {
  checkDims(a.ndim + 1);
  const d = normalizeDim(dim, a.ndim + 1, 'unsqueeze');
  const shape = [...a.shape];
  shape.splice(d, 0, 1);
  return reshapeNamed(a, shape, 'UnsqueezeBackward0');
}

/** squeeze() drops every size-1 dim (SqueezeBackward0); squeeze(d) only dim d, if it has size 1. */
export function squeeze(a: Tensor, dim?: number, name?: string): Tensor {
  if (dim === undefined) return reshapeNamed(a, a.shape.filter((s) => s !== 1), name ?? 'SqueezeBackward0');
  const d = normalizeDim(dim, a.ndim, 'squeeze');
  return reshapeNamed(a, a.shape.filter((s, i) => i !== d || s !== 1), name ?? 'SqueezeBackward1');
}

export function permute(a: Tensor, dims: number[], name = 'PermuteBackward0'): Tensor {
  checkSizeList(dims, 'permute', 'dims');
  if (dims.length !== a.ndim) {
    fail('invalid-argument', `permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${a.ndim} is not equal to len(dims) = ${dims.length}`);
  }
  const norm: number[] = [];
  for (let i = 0; i < dims.length; i++) norm.push(normalizeDim(dims[i], a.ndim, 'permute'));
  if (new Set(norm).size !== norm.length) fail('invalid-argument', 'permute(): duplicate dims are not allowed.');
  return apply(OPS.permute, [a], { dims: norm, name });
}

export function transpose(a: Tensor, dim0: number, dim1: number): Tensor {
  const d0 = normalizeDim(dim0, a.ndim, 'transpose');
  const d1 = normalizeDim(dim1, a.ndim, 'transpose');
  const dims = a.shape.map((_, i) => (i === d0 ? d1 : i === d1 ? d0 : i));
  return apply(OPS.permute, [a], { dims, name: 'TransposeBackward0' });
}

export function t(a: Tensor): Tensor {
  if (a.ndim > 2) fail('invalid-argument', `t() expects a tensor with <= 2 dimensions, but self is ${a.ndim}D`);
  return apply(OPS.permute, [a], { dims: a.ndim === 2 ? [1, 0] : a.shape.map((_, i) => i), name: 'TBackward0' });
}

export function expand(a: Tensor, sizes: number[]): Tensor {
  checkSizeList(sizes, 'expand', 'size');
  for (let i = 0; i < sizes.length; i++) {
    const s: unknown = sizes[i];
    if (typeof s !== 'number' || !Number.isInteger(s)) {
      fail('invalid-argument', `expand(): argument 'size' must be a list of integers, but found ${typeName(s)} at pos ${i}`);
    }
  }
  if (sizes.length < a.ndim) {
    fail('invalid-argument', `expand(torch.${scalarTypeName(a.dtype)}Tensor{${shapeText(a.shape)}}, size=${shapeText(sizes)}): the number of sizes provided (${sizes.length}) must be greater or equal to the number of dimensions in the tensor (${a.ndim})`);
  }
  const lead = sizes.length - a.ndim;
  const shape = sizes.map((s, i) => {
    const own = i < lead ? undefined : a.shape[i - lead]!;
    if (s === -1) {
      if (own === undefined) fail('invalid-argument', `The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension ${i}`);
      return own;
    }
    if (s < 0) fail('invalid-argument', `invalid expanded size ${s}`);
    if (own !== undefined && own !== s && own !== 1) {
      fail('shape-mismatch', `The expanded size of the tensor (${s}) must match the existing size (${own}) at non-singleton dimension ${i}.  Target sizes: ${shapeText(sizes)}.  Tensor sizes: ${shapeText(a.shape)}`);
    }
    return s;
  });
  return apply(OPS.expand, [a], { shape });
}

/**
 * matmul as PyTorch 1.13's at::matmul composes it, so grad_fn names match: dot, mv, mm,
 * `unsqueeze(0).mm().squeeze_(0)` for vector-matrix, and folded or batched products otherwise.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor(b, 'matmul');
  const [ra, rb] = [a.ndim, b.ndim];
  if (ra === 0 || rb === 0) {
    fail('invalid-argument', `both arguments to matmul need to be at least 1D, but they are ${ra}D and ${rb}D`);
  }
  const k = a.shape[ra - 1]!;
  if (ra === 1 && rb === 1) return apply(OPS.dot, [a, b], none);
  if (ra === 2 && rb === 1) return apply(OPS.mv, [a, b], none);
  if (ra === 1 && rb === 2) {
    // PyTorch squeezes the product in place (squeeze_), so the result is at version 1.
    const product = apply(OPS.mm, [unsqueeze(a, 0), b], none);
    const out = apply({ ...OPS.view, gradFn: 'SqueezeBackward3', view: false }, [product], { shape: [b.shape[1]!], inputShape: [...product.shape] });
    out.counter.value++;
    return out;
  }
  if (ra === 2 && rb === 2) return apply(OPS.mm, [a, b], none);
  if (ra >= 3 && rb <= 2) {
    // The count, not -1: a [3, 5, 0] @ [0, 2] product folds to [15, 0], where -1 is ambiguous.
    const folded = reshape(a, [numel(a.shape.slice(0, -1)), k]);
    const out = rb === 2 ? apply(OPS.mm, [folded, b], none) : apply(OPS.mv, [folded, b], none);
    return unsafeView(out, [...a.shape.slice(0, -1), ...(rb === 2 ? [b.shape[1]!] : [])]);
  }
  if (ra === 1 && rb >= 3) return matmul(transpose(b, -1, -2), a);
  if (ra === 2 && rb >= 3) return clone(transpose(matmul(transpose(b, -1, -2), t(a)), -1, -2));
  // Batched: broadcast the batch dims, fold them into one, bmm, and view the result.
  const a3 = ra === 1 ? unsqueeze(a, 0) : a;
  const b3 = rb === 1 ? unsqueeze(b, -1) : b;
  const batch = broadcastShapes(a3.shape.slice(0, -2), b3.shape.slice(0, -2));
  const [n, m] = [a3.shape[a3.ndim - 2]!, b3.shape[b3.ndim - 1]!];
  const count = numel(batch);
  const lhs = reshape(expand(a3, [...batch, n, k]), [count, n, k]);
  const kb = b3.shape[b3.ndim - 2]!; // b keeps its own inner size: bmm reports a mismatch
  const rhs = reshape(expand(b3, [...batch, kb, m]), [count, kb, m]);
  return unsafeView(apply(OPS.bmm, [lhs, rhs], none), [...batch, ...(ra > 1 ? [n] : []), ...(rb > 1 ? [m] : [])]);
}

export const clone = (a: Tensor) => apply(OPS.clone, [a], none);
/** The products without matmul's dispatch: operands of the wrong rank are refused (ops.ts). */
export function product(op: 'mm' | 'mv' | 'bmm', a: Tensor, b: Tensor): Tensor {
  checkTensor(b, op);
  return apply(OPS[op], [a, b], none);
}

/** A new leaf sharing data and version counter with `a`, outside the graph (graph.detach). */
export function detach(a: Tensor): Tensor {
  return new Tensor(a.data, a.shape, a.dtype, a.counter);
}

/**
 * In-place ops: compute out of place, write the data back, bump the version counter, and move
 * the tensor's history onto the new node (inplace.history).
 */
export function inplace(target: Tensor, op: string, compute: (original: Tensor) => Tensor): Tensor {
  if (target.viewVersion !== null) {
    // PyTorch refuses this first (inplace.views); the reference refuses every other in-place op on a view.
    const base = target.viewBase!;
    if (isGradEnabled() && base.isLeaf && base.requiresGrad) {
      fail('leaf-inplace', 'a view of a leaf Variable that requires grad is being used in an in-place operation.');
    }
    fail('invalid-argument', `${op}: in-place operations on views are outside the reference engine (spec: inplace.views)`);
  }
  if (isGradEnabled() && target.isLeaf && target.requiresGrad) {
    fail('leaf-inplace', 'a leaf Variable that requires grad is being used in an in-place operation.');
  }
  // The op sees a snapshot of the old value with the old history, so what it saves as `self` is
  // the original, as PyTorch's in-place formulas do; the target itself gets the new history.
  const original = target.snapshot();
  const result = compute(original);
  if (!canCast(result.dtype, target.dtype)) {
    fail('invalid-argument', `result type ${scalarTypeName(result.dtype)} can't be cast to the desired output type ${scalarTypeName(target.dtype)}`);
  }
  if (!sameShape(result.shape, target.shape)) {
    fail('shape-mismatch', `output with shape ${shapeText(target.shape)} doesn't match the broadcast shape ${shapeText(result.shape)}`);
  }
  target.data.set(result.data);
  target.counter.value++;
  if (result.gradFn) target.adoptHistory(result);
  return target;
}

/** PyTorch's canCast for in-place results: never from floating to int64 or bool, nor from int64 to bool. */
function canCast(from: Tensor['dtype'], to: Tensor['dtype']): boolean {
  const category = { bool: 0, int64: 1, float32: 2, float64: 2 };
  return category[from] <= category[to];
}

export function fill(a: Tensor, value: number): Tensor {
  checkNumber(value, 'fill_', 'value');
  return apply(OPS.fill, [a], { value, name: 'FillBackward2' });
}
export const zero = (a: Tensor) => apply(OPS.fill, [a], { value: 0, name: 'ZeroBackward0' });
