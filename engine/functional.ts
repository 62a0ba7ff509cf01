import type { Reduction } from '../spec/program.ts';
import { apply, numberDtype, resultDtype, scalarTypeName } from './dispatch.ts';
import { fail, typeName } from './errors.ts';
import { isGradEnabled } from './grad-mode.ts';
import { alloc } from './kernels.ts';
import { OpNode } from './node.ts';
import { OPS } from './ops.ts';
import { checkGather, checkIndexAdd, checkIndexSelect, checkMaskedFill, checkScatter } from './index-rules.ts';
import { broadcastShapes, checkDims, checkElements, checkSizeList, inferShape, normalizeDim, numel, sameShape, shapeText } from './shape.ts';
import { catRules, skipped, stackRules } from './join-rules.ts';
import { Tensor } from './tensor.ts';
import { overlaps } from './geometry.ts';
import { rebaseOnView, refuseView, reshape, squeeze, unsafeView, unsqueeze, view } from './views.ts';
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

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * clamp with number bounds, either of them null (not both); clampMin and clampMax take one.
 * ClampBackward1, ClampMinBackward0 and ClampMaxBackward0 are PyTorch's names for the three calls.
 */
export function clamp(a: Tensor, min: number | null, max: number | null, op: 'clamp' | 'clamp_min' | 'clamp_max'): Tensor {
  for (const [b, what] of [[min, 'min'], [max, 'max']] as const) {
    if (b !== null && typeof b !== 'number') fail('invalid-argument', `${op}(): argument '${what}' must be a number, not ${typeName(b)}`);
    // PyTorch converts a bound to the tensor's dtype first: a float32 tensor refuses 1e39.
    if (b !== null && a.dtype === 'float32' && Number.isFinite(b) && Math.abs(b) > FLOAT32_MAX) {
      fail('invalid-argument', 'value cannot be converted to type float without overflow');
    }
  }
  if (min === null && max === null) fail('invalid-argument', "torch.clamp: At least one of 'min' or 'max' must not be None");
  const name = op === 'clamp' ? 'ClampBackward1' : op === 'clamp_min' ? 'ClampMinBackward0' : 'ClampMaxBackward0';
  const dtype = resultDtype([a, ...[min, max].filter((b): b is number => b !== null).map((b) => wrap(b, a))]);
  return apply(OPS.clamp, [a], { min, max, name, dtype });
}

/** argmax and argmin: the first index of the largest (smallest) element along one dim, or of all flattened. */
export function argSelect(a: Tensor, mode: 'max' | 'min', dim?: number, keepdim = false): Tensor {
  const op = mode === 'max' ? 'argmax' : 'argmin';
  if (typeof keepdim !== 'boolean') fail('invalid-argument', `${op}(): argument 'keepdim' must be a boolean, not ${typeName(keepdim)}`);
  if (dim !== undefined && (typeof dim !== 'number' || !Number.isInteger(dim))) {
    fail('invalid-argument', `${op}(): argument 'dim' (position 1) must be int, not ${Array.isArray(dim) ? 'list' : typeName(dim)}`);
  }
  const d = dim === undefined ? null : normalizeDim(dim, a.ndim, op);
  if (a.numel() === 0) {
    if (d === null) fail('invalid-argument', `${op}(): Expected reduction dim to be specified for input.numel() == 0.`);
    // Unlike amax, argmax names the dim wrapped (-1 of a [2, 0] tensor is dim 1).
    if (a.shape[d] === 0) fail('invalid-argument', `${op}(): Expected reduction dim ${d} to have non-zero size.`);
  }
  // A 0-d tensor's dim 0 (or -1) is the tensor itself.
  return apply(OPS.argSelect, [a], { mode, dim: d !== null && a.ndim === 0 ? null : d, keepdim });
}

/**
 * max and min along one dim: the indices are argmax's (int64 constants), the values a row that
 * gathers them, whose gradient goes to the returned index only (MaxBackward0/MinBackward0). The
 * node saves the indices, as PyTorch's does, so a second backward fails and an in-place change
 * of the indices is noticed.
 */
export function selectDim(a: Tensor, mode: 'max' | 'min', dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
  const op = mode === 'max' ? 'max' : 'min';
  if (typeof dim !== 'number' || !Number.isInteger(dim)) fail('invalid-argument', `${op}(): argument 'dim' (position 1) must be int, not ${Array.isArray(dim) ? 'list' : typeName(dim)}`);
  const d = normalizeDim(dim, a.ndim, op);
  if (a.ndim > 0 && a.shape[d] === 0) fail('invalid-argument', `${op}(): Expected reduction dim ${d} to have non-zero size.`);
  const indices = argSelect(a, mode, dim, keepdim);
  const values = apply(OPS.selectIndex, [a], { dim: a.ndim === 0 ? null : d, keepdim, index: indices, mode, inputShape: [...a.shape] });
  if (values.gradFn instanceof OpNode) values.gradFn.save('other', indices);
  return { values, indices };
}

/** maximum and minimum take a tensor on both sides (PyTorch refuses a number with a TypeError). */
export function selectPair(a: Tensor, b: Tensor, mode: 'maximum' | 'minimum'): Tensor {
  if (!(b instanceof Tensor)) fail('invalid-argument', `${mode}(): argument 'other' (position 1) must be Tensor, not ${typeName(b)}`);
  return apply(OPS[mode], [a, b], none);
}

export const add = (a: Tensor, b: Operand) => apply(OPS.add, [a, wrap(b, a)], none);
export const sub = (a: Tensor, b: Operand) => apply(OPS.sub, [a, wrap(b, a)], none);
export const mul = (a: Tensor, b: Operand) => apply(OPS.mul, [a, wrap(b, a)], none);
export const div = (a: Tensor, b: Operand) => apply(OPS.div, [a, wrap(b, a)], none);
/** `a * value` with value a C++ Scalar (MulBackward1), as backward formulas write it. */
export const mulScalar = (a: Tensor, value: number) => apply(OPS.mulScalar, [a], { value });
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
 * `a.masked_fill(mask, value)`: value where the bool mask (broadcast with a) is true. A number is
 * MaskedFillBackward0; a 0-d tensor value is MaskedFillBackward1, and gets the masked gradient's sum.
 */
export function maskedFill(a: Tensor, mask: Tensor, value: Operand): Tensor {
  checkTensor(mask, 'masked_fill');
  if (value instanceof Tensor) {
    checkMaskedFill(a, mask, value);
    return apply(OPS.maskedFillTensor, [mask, a, value], none);
  }
  checkNumber(value, 'masked_fill', 'value');
  checkMaskedFill(a, mask, null);
  return apply(OPS.maskedFill, [mask, a], { value });
}

/** `a.index_select(dim, index)`: the slices along dim at a 0-d or 1-d int64 index. */
export function indexSelect(a: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor(index, 'index_select');
  const d = normalizeDim(dim, a.ndim, 'index_select');
  checkIndexSelect(a, index);
  return apply(OPS.indexSelect, [index, a], { dim: d, inputShape: [...a.shape] });
}

/** `a.gather(dim, index)` (sparse_grad=False): out[p] = a[p with index[p] along dim]. */
export function gather(a: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor(index, 'gather');
  const d = normalizeDim(dim, a.ndim, 'gather');
  checkGather(a, d, index);
  return apply(OPS.gather, [index, a], { dim: d });
}

/** `a.scatter(dim, index, src)` with a tensor src (ScatterBackward0) or a number (ScatterBackward1). */
export function scatter(a: Tensor, dim: number, index: Tensor, src: Operand): Tensor {
  checkTensor(index, 'scatter');
  const d = normalizeDim(dim, a.ndim, 'scatter');
  if (src instanceof Tensor) {
    checkScatter(a, d, index, src);
    return apply(OPS.scatter, [index, a, src], { dim: d, srcShape: [...src.shape], gradFn: 'ScatterBackward0' });
  }
  checkNumber(src, 'scatter', 'value');
  checkScatter(a, d, index, null);
  return apply(OPS.scatterValue, [index, a], { dim: d, value: src });
}

/** `a.scatter_add(dim, index, src)`: src's elements added at the places index points at. */
export function scatterAdd(a: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  checkTensor(index, 'scatter_add');
  if (!(src instanceof Tensor)) fail('invalid-argument', `scatter_add(): argument 'src' (position 3) must be Tensor, not ${typeName(src)}`);
  const d = normalizeDim(dim, a.ndim, 'scatter_add');
  checkScatter(a, d, index, src);
  return apply(OPS.scatterAdd, [index, a, src], { dim: d, srcShape: [...src.shape], gradFn: 'ScatterAddBackward0' });
}

/** `a.index_add(dim, index, source, alpha=alpha)`: alpha·source's slices added at the indices along dim. */
export function indexAdd(a: Tensor, dim: number, index: Tensor, source: Tensor, alpha = 1): Tensor {
  checkTensor(index, 'index_add');
  checkTensor(source, 'index_add');
  checkNumber(alpha, 'index_add', 'alpha');
  const d = normalizeDim(dim, a.ndim, 'index_add');
  checkIndexAdd(a, d, index, source);
  return apply(OPS.indexAdd, [index, a, source], { dim: d, alpha });
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

/** `x.logsumexp(dim, keepdim)`: dim is required; an empty list is refused (PyTorch 1.13 fails on it with a shape error). */
export function logsumexp(a: Tensor, dim: number | number[], keepdim = false): Tensor {
  if (dim === undefined) fail('invalid-argument', "logsumexp(): argument 'dim' is required");
  if (Array.isArray(dim) && dim.length === 0) fail('invalid-argument', 'logsumexp(): an empty dim list is outside the reference engine (spec: op.logsumexp)');
  const { dims } = reduceDims(a, dim, keepdim, 'logsumexp');
  return apply(OPS.logsumexp, [a], { dims, keepdim });
}

export function mean(a: Tensor, dim?: number | number[], keepdim = false): Tensor {
  const { dims, all } = reduceDims(a, dim, keepdim, 'mean');
  return apply(all ? OPS.mean : OPS.meanDim, [a], { dims, keepdim, inputShape: [...a.shape] });
}

/** var and std over every dim or the given ones; unbiased (the default) divides by n - 1. */
export function moment(op: 'var' | 'std', a: Tensor, dim?: number | number[], options: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
  const { unbiased = true, keepdim = false } = options;
  if (typeof unbiased !== 'boolean') fail('invalid-argument', `${op}(): argument 'unbiased' must be a boolean, not ${typeName(unbiased)}`);
  const { dims, all } = reduceDims(a, dim, keepdim, op);
  // An empty list reduces every dim but is kept empty: the backward counts the listed dims.
  const listed = all ? null : Array.isArray(dim) && dim.length === 0 ? [] : dims;
  return apply(OPS[op], [a], { dims, listed, correction: unbiased ? 1 : 0, keepdim: all ? false : keepdim });
}

/**
 * The vector p-norm (p = 1, 2 or inf; undefined is PyTorch's default 'fro') over every dim or the
 * given ones; keepdim also without a dim. The default p over a list of two dims is PyTorch 1.13's
 * frobenius_norm, composed as sqrt((x * x).sum(dims)): its gradient at 0 is nan, not 0 (op.norm).
 */
export function norm(a: Tensor, p?: number, dim?: number | number[], keepdim = false): Tensor {
  if (p !== undefined && p !== 1 && p !== 2 && p !== Infinity) fail('invalid-argument', `norm(): p = ${String(p)} is outside the reference engine (spec: op.norm takes 1, 2 and inf)`);
  if (p === undefined && Array.isArray(dim) && dim.length === 2) {
    const [d0, d1] = dim.map((d) => normalizeDim(d, a.ndim, 'norm')) as [number, number];
    if (d0 === d1) fail('invalid-argument', `Expected dims to be different, got [${dim.join(', ')}] instead`);
    return unary('sqrt', sum(mul(a, a), dim, keepdim));
  }
  const { dims } = reduceDims(a, dim, keepdim, 'norm');
  return apply(OPS.norm, [a], { p: p ?? 2, dims, keepdim });
}

/** x.prod() (ProdBackward0) or x.prod(dim, keepdim) (ProdBackward1): one dim, an integer. */
export function prod(a: Tensor, dim?: number, keepdim = false): Tensor {
  if (typeof keepdim !== 'boolean') fail('invalid-argument', `prod(): argument 'keepdim' must be a boolean, not ${typeName(keepdim)}`);
  if (dim === undefined) return apply(OPS.prod, [a], { dim: null, keepdim: false });
  return apply(OPS.prodDim, [a], { dim: normalizeDim(dim, a.ndim, 'prod'), keepdim });
}

/** cumsum and cumprod along one dim (a 0-d tensor takes dim 0 or -1). */
export function scan(op: 'cumsum' | 'cumprod', a: Tensor, dim: number): Tensor {
  return apply(OPS[op], [a], { dim: normalizeDim(dim, a.ndim, op) });
}

/** The shifts of prod's backward (internal: not a program op). */
export const shift = (a: Tensor, dim: number, by: 1 | -1, fill: number) => apply(OPS.shift, [a], { dim, by, fill });

const EMPTY_ALL = (op: string) =>
  `${op}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.`;

/** max() and min() over every element: a 0-d tensor; an empty input has none to select. */
export function selectAll(a: Tensor, mode: 'max' | 'min'): Tensor {
  if (a.numel() === 0) fail('invalid-argument', EMPTY_ALL(mode));
  return apply(OPS.selectAll, [a], { mode });
}

/** amax and amin over dims (all without dim or with an empty list); each reduced dim must be non-empty. */
export function selectDims(a: Tensor, mode: 'max' | 'min', dim?: number | number[], keepdim = false): Tensor {
  const op = mode === 'max' ? 'amax' : 'amin';
  const { dims } = reduceDims(a, dim ?? [], keepdim, op);
  const given = dim === undefined ? [] : Array.isArray(dim) ? dim : [dim];
  if (a.numel() === 0) {
    if (given.length === 0) fail('invalid-argument', EMPTY_ALL(op));
    // PyTorch names the first empty dim as it was written (-2 stays -2).
    const empty = given.find((d) => a.shape[normalizeDim(d, a.ndim, op)] === 0);
    if (empty !== undefined) fail('invalid-argument', `${op}(): Expected reduction dim ${empty} to have non-zero size.`);
  }
  return apply(OPS.selectDims, [a], { dims, keepdim, inputShape: [...a.shape], mode });
}

export { reshape, view, unsqueeze, squeeze };

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
  // A view allocates nothing, but reading it would: the engine's size limit holds for views too.
  checkElements(numel(shape));
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
    const out = unsafeView(product, [b.shape[1]!], 'SqueezeBackward3');
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

/** A new leaf sharing storage and version counter with `a`, outside the graph and no view (graph.detach). */
export function detach(a: Tensor): Tensor {
  return Tensor.alias(a, a.geometry);
}

/**
 * In-place ops: compute out of place, write the data back, bump the version counter, and move
 * the tensor's history onto the new node (inplace.history).
 */
export function inplace(target: Tensor, op: string, operands: readonly unknown[], compute: (original: Tensor) => Tensor): Tensor {
  // PyTorch's check_inplace: only when the op will be recorded (grad mode, an input requiring grad).
  if (isGradEnabled() && operands.some((t) => t instanceof Tensor && t.requiresGrad)) {
    const view = target.viewInfo;
    if (view !== null) {
      if (view.creation !== 'default') refuseView(target, false);
      if (target.requiresGrad && view.base.isLeaf) {
        fail('leaf-inplace', 'a view of a leaf Variable that requires grad is being used in an in-place operation.');
      }
    }
    if (target.requiresGrad && target.isLeaf) {
      fail('leaf-inplace', 'a leaf Variable that requires grad is being used in an in-place operation.');
    }
  }
  if (overlaps(target.geometry)) {
    fail('invalid-argument', 'unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation.');
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
  // Written through the geometry: the base and every other view of the storage see it (views.rebase).
  target.write(result.data);
  target.counter.value++;
  if (result.gradFn) {
    if (target.viewInfo !== null) rebaseOnView(target, result.gradFn);
    else target.adoptHistory(result);
  }
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
/** x.copy_(src)'s out-of-place value: src must be a tensor; it is broadcast and cast to x. */
export function copy(a: Tensor, src: Operand): Tensor {
  const s = wrap(src, a);
  broadcastShapes(a.shape, s.shape); // PyTorch names a size mismatch as broadcasting does
  return apply(OPS.copy, [a, s], { dtype: a.dtype });
}
export const extractAt = (a: Tensor, at: Float64Array, shape: number[]) => apply(OPS.extractAt, [a], { at, shape, inputShape: [...a.shape] });
export const embedAt = (g: Tensor, at: Float64Array, inputShape: number[]) => apply(OPS.embedAt, [g], { at, shape: [...g.shape], inputShape });
export const replaceAt = (a: Tensor, src: Tensor, at: Float64Array) => apply(OPS.replaceAt, [a, src], { at, srcShape: [...src.shape] });
export const zero = (a: Tensor) => apply(OPS.fill, [a], { value: 0, name: 'ZeroBackward0' });

// ----- joining and repeating (op.cat, op.stack, op.flip, op.roll, op.repeat) -----

function checkTensorList(tensors: unknown, op: string): asserts tensors is Tensor[] {
  if (!Array.isArray(tensors)) fail('invalid-argument', `${op}(): argument 'tensors' must be a list of Tensors, not ${typeName(tensors)}`);
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) fail('invalid-argument', `expected Tensor as element ${i} in argument 0, but got ${typeName(t)}`);
  });
}

function checkIntList(values: unknown, op: string, what: string): asserts values is number[] {
  checkSizeList(values, op, what);
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) fail('invalid-argument', `${op}(): argument '${what}' must be a list of integers, but found ${typeName(v)} at pos ${i}`);
  });
}

/**
 * torch.cat: the checks in 1.13's order (0-d inputs, the dim wrapped by the first input that is
 * not a 1-d empty one, an empty list, then each input's rank and sizes against that first one).
 */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  checkTensorList(tensors, 'cat');
  tensors.forEach((t, i) => {
    if (t.ndim === 0) fail('invalid-argument', `zero-dimensional tensor (at position ${i}) cannot be concatenated`);
  });
  const first = tensors.find((t) => !skipped(t.shape));
  const d = first ? normalizeDim(dim, first.ndim, 'cat') : dim;
  if (tensors.length === 0) fail('invalid-argument', 'torch.cat(): expected a non-empty list of Tensors');
  if (first) {
    tensors.forEach((t, i) => {
      if (skipped(t.shape)) return;
      if (t.ndim !== first.ndim) fail('shape-mismatch', `Tensors must have same number of dimensions: got ${first.ndim} and ${t.ndim}`);
      t.shape.forEach((size, j) => {
        if (j !== d && size !== first.shape[j]) {
          fail('shape-mismatch', `Sizes of tensors must match except in dimension ${d}. Expected size ${first.shape[j]} but got size ${size} for tensor number ${i} in the list.`);
        }
      });
    });
  }
  const attrs = { dim: d, shapes: tensors.map((t) => [...t.shape]) };
  return apply({ ...OPS.cat, grads: catRules(attrs) }, tensors, attrs);
}

/** torch.stack: a new dim at dim (wrapped over the first input's rank + 1); all shapes equal. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  checkTensorList(tensors, 'stack');
  if (tensors.length === 0) fail('invalid-argument', 'stack expects a non-empty TensorList');
  const d = normalizeDim(dim, tensors[0]!.ndim + 1, 'stack');
  tensors.forEach((t, i) => {
    if (!sameShape(t.shape, tensors[0]!.shape)) {
      fail('shape-mismatch', `stack expects each tensor to be equal size, but got ${shapeText(tensors[0]!.shape)} at entry 0 and ${shapeText(t.shape)} at entry ${i}`);
    }
  });
  checkDims(tensors[0]!.ndim + 1);
  const attrs = { dim: d, count: tensors.length };
  return apply({ ...OPS.stack, grads: stackRules(attrs) }, tensors, attrs);
}

/** flip over dims, each wrapped in order (a 0-d tensor takes 0 and -1); a dim given twice is refused. */
export function flip(a: Tensor, dims: number[]): Tensor {
  checkIntList(dims, 'flip', 'dims');
  const seen: number[] = [];
  for (const dim of dims) {
    const d = normalizeDim(dim, a.ndim, 'flip');
    if (seen.includes(d)) fail('invalid-argument', `dim ${d} appears multiple times in the list of dims`);
    seen.push(d);
  }
  return apply(OPS.flip, [a], { dims: a.ndim === 0 ? [] : seen });
}

/**
 * roll: without dims one shift of the flattened tensor; with dims one shift per dim, in order.
 * An empty tensor is returned as it is, its dims unchecked (1.13 returns a clone first).
 */
export function roll(a: Tensor, shifts: number | number[], dims?: number | number[]): Tensor {
  const s = typeof shifts === 'number' ? [shifts] : shifts;
  const ds = dims === undefined ? [] : typeof dims === 'number' ? [dims] : dims;
  checkIntList(s, 'roll', 'shifts');
  checkIntList(ds, 'roll', 'dims');
  if (s.length === 0) fail('invalid-argument', '`shifts` required');
  if (!(ds.length === 0 && s.length === 1) && s.length !== ds.length) {
    fail('invalid-argument', `shifts and dimensions must align. shifts: ${s.length}, dims:${ds.length}`);
  }
  const wrapped = a.numel() === 0 ? ds : ds.map((dim) => {
    if (a.ndim === 0) fail('invalid-argument', `Dimension specified as ${dim} but tensor has no dimensions`);
    return normalizeDim(dim, a.ndim, 'roll');
  });
  return apply(OPS.roll, [a], { shifts: [...s], dims: wrapped });
}

/** repeat: at least one size per dim; more sizes add leading dims; a negative output size is refused. */
export function repeat(a: Tensor, sizes: number[]): Tensor {
  checkIntList(sizes, 'repeat', 'repeats');
  if (sizes.length < a.ndim) fail('invalid-argument', 'Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor');
  const padded = [...sizes.slice(0, sizes.length - a.ndim).map(() => 1), ...a.shape];
  const out = padded.map((d, i) => d * sizes[i]!);
  const negative = out.find((d) => d < 0);
  if (negative !== undefined) fail('invalid-argument', `Trying to create tensor with negative dimension ${negative}: ${shapeText(out)}`);
  checkElements(numel(out));
  return apply(OPS.repeat, [a], { repeats: [...sizes], inputShape: [...a.shape] });
}
