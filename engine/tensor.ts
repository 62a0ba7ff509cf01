import type { DType, Reduction } from '../spec/program.ts';
import { EngineError, fail, guard, typeName } from './errors.ts';
import { viewHooks } from './view-hooks.ts';
import * as F from './functional.ts';
import * as V from './views.ts';
import * as I from './indexing.ts';
import type { IndexItem } from './indexing.ts';
import * as activations from './nn/activations.ts';
import { isGradEnabled } from './grad-mode.ts';
import { alloc, type Buffer } from './kernels.ts';
import { AccumulateGrad, type GradNode } from './node.ts';
import { formatTensor } from './repr.ts';
import { numel, stridesOf, type Shape } from './shape.ts';
import { isContiguous, positions, type Geometry } from './geometry.ts';

/** The version counter, shared by a tensor and everything that aliases or views it. */
export interface VersionCounter {
  value: number;
}

/**
 * How a view was made, as PyTorch's CreationMeta: in-place writes are refused on views made in
 * no-grad mode and on outputs of ops that return several views (views.inplace-refusals).
 */
export type ViewCreation = 'default' | 'no-grad' | 'multi-output';

/** What a differentiable view keeps of its base (PyTorch's ViewInfo and DifferentiableViewMeta). */
export interface ViewInfo {
  /** The tensor the chain of views started from: never itself a view (PyTorch's `_base`). */
  readonly base: Tensor;
  creation: ViewCreation;
  /** Which output of the view op this is (unbind, split and chunk make several). */
  readonly outputNr: number;
  /** The version at which the view's grad_fn was last set; a later write makes it stale. */
  attrVersion: number;
}

/** Shared strides of the commonest contiguous tensors (0-d and 1-D): a deep graph holds millions. */
const NO_STRIDES: readonly number[] = Object.freeze([]);
const UNIT_STRIDE: readonly number[] = Object.freeze([1]);

/**
 * A tensor: a geometry (shape, strides, offset) over a storage, and the autograd state PyTorch
 * keeps on it. The math lives in the op table (ops.ts); this class only holds state, and its
 * methods call the table.
 */
export class Tensor {
  /** Set for a differentiable view (views.alias): its base and how it was made. */
  viewInfo: ViewInfo | null = null;
  /** True for Python numbers turned into tensors: they never decide the dtype of a result. */
  wrappedNumber = false;
  retainsGrad = false;
  private history: GradNode | null = null;
  private requires = false;
  private gradValue: Tensor | null = null;
  private accumulator: AccumulateGrad | null = null;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
  /** The elements, shared by every view of them. */
  readonly storage: Buffer;

  constructor(
    data: Buffer,
    shape: Shape,
    readonly dtype: DType,
    readonly counter: VersionCounter = { value: 0 },
    geometry?: Geometry,
  ) {
    this.storage = data;
    this.shape = geometry ? geometry.shape : shape;
    this.strides = geometry ? geometry.strides : shape.length === 0 ? NO_STRIDES : shape.length === 1 ? UNIT_STRIDE : stridesOf(shape);
    this.offset = geometry ? geometry.offset : 0;
    this.whole = !geometry || (this.offset === 0 && numel(this.shape) === data.length && isContiguous(geometry));
  }

  /** The tensor is its whole storage in row-major order (every op result, most views): data is the storage. */
  private readonly whole: boolean;

  /** A tensor over the same storage and version counter with another geometry (no autograd state). */
  static alias(source: Tensor, geometry: Geometry): Tensor {
    return new Tensor(source.storage, geometry.shape, source.dtype, source.counter, geometry);
  }

  get geometry(): Geometry {
    return { shape: this.shape, strides: this.strides, offset: this.offset };
  }

  /**
   * The elements in row-major order: the storage itself when the tensor covers all of it in
   * order (so writes to it are writes to the tensor), otherwise a fresh copy.
   */
  get data(): Buffer {
    if (this.whole) return this.storage;
    const n = numel(this.shape);
    const out = alloc(this.dtype, n);
    const at = positions(this.geometry);
    for (let i = 0; i < n; i++) out[i] = this.storage[at[i]!]!;
    return out;
  }

  /** Writes row-major values through the geometry into the storage (in-place ops). */
  write(values: ArrayLike<number>): void {
    if (this.whole) {
      this.storage.set(values);
      return;
    }
    const at = positions(this.geometry);
    for (let i = 0; i < at.length; i++) this.storage[at[i]!] = values[i]!;
  }

  /** PyTorch's grad_fn; a view whose storage was written since gets AsStridedBackward0 here. */
  get gradFn(): GradNode | null {
    const view = this.viewInfo;
    if (view !== null && view.attrVersion !== this.counter.value && (this.history !== null || view.base.requiresGrad)) {
      if (view.creation !== 'default') viewHooks.refuse!(this, true);
      this.history = viewHooks.regenerate!(this);
      view.attrVersion = this.counter.value;
    }
    return this.history;
  }

  set gradFn(node: GradNode | null) {
    this.history = node;
  }

  /** The grad_fn as last set, without rebuilding a stale view's (for messages about it). */
  get ownGradFn(): GradNode | null {
    return this.history;
  }

  /** Where this tensor's gradient goes when it is an op's input: its grad_fn, or its leaf's accumulator. */
  gradientEdge(): GradNode | null {
    return this.gradFn ?? (this.requires ? this.gradAccumulator() : null);
  }

  get version(): number {
    return this.counter.value;
  }

  /** A leaf's own flag, or a grad_fn; a view also requires grad when its base does. */
  get requiresGrad(): boolean {
    return this.requires || this.history !== null || (this.viewInfo !== null && this.viewInfo.base.requiresGrad);
  }

  set requiresGrad(flag: boolean) {
    guard('requiresGrad_', [this], () => {
      // PyTorch's attribute setter words this differently from requires_grad_().
      if (flag === true && !this.floating) fail('invalid-argument', 'only Tensors of floating point and complex dtype can require gradients');
      this.setRequiresGrad(flag);
    });
  }

  /** float32 and float64: the dtypes that can require grad. */
  get floating(): boolean {
    return this.dtype === 'float32' || this.dtype === 'float64';
  }

  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  get ndim(): number {
    return this.shape.length;
  }

  numel(): number {
    return numel(this.shape);
  }

  /** `.grad`: accumulated gradient of a leaf (or of a non-leaf that called retainGrad). */
  get grad(): Tensor | null {
    return this.gradValue;
  }

  set grad(g: Tensor | null) {
    guard('grad', [this, g], () => {
      if (g !== null && !(g instanceof Tensor)) {
        fail('invalid-argument', `assigned grad expected to be a Tensor or None but got ${typeName(g)}`);
      }
      if (g && (g.dtype !== this.dtype || g.shape.length !== this.shape.length || g.shape.some((d, i) => d !== this.shape[i]))) {
        fail('shape-mismatch', 'assigned grad has data of a different size or type');
      }
      this.gradValue = g;
    });
  }

  /** PyTorch's `requires_grad_`: only leaves may change the flag. */
  requiresGrad_(flag = true): this {
    return guard('requiresGrad_', [this], () => this.setRequiresGrad(flag));
  }

  private setRequiresGrad(flag: boolean): this {
    if (typeof flag !== 'boolean') fail('invalid-argument', `requires_grad_(): argument 'requires_grad' must be a boolean, not ${typeName(flag)}`);
    if (flag && !this.floating) fail('invalid-argument', 'only Tensors of floating point dtype can require gradients');
    if (!this.isLeaf) {
      if (flag) return this;
      fail(
        'non-leaf-requires-grad',
        "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
      );
    }
    this.requires = flag;
    return this;
  }

  /** Marks a result of a recorded op; only the op dispatcher calls this. */
  attachGradFn(node: GradNode): void {
    this.history = node;
  }

  /** After an in-place op: the tensor is now the output of the op's node (inplace.history). */
  adoptHistory(result: Tensor): void {
    if (this.retainsGrad && this.gradFn) this.gradFn.retainer = null;
    this.history = result.gradFn;
    if (this.retainsGrad && this.history) this.history.retainer = this;
  }

  /** Takes a new grad_fn made elsewhere (CopySlices on a base after a write through its view). */
  takeHistory(node: GradNode): void {
    if (this.retainsGrad && this.history) this.history.retainer = null;
    this.history = node;
    if (this.retainsGrad) node.retainer = this;
  }

  /** A copy of the current value that keeps the current history, for in-place ops to save. */
  snapshot(): Tensor {
    const copy = new Tensor(this.data.slice(), this.shape, this.dtype);
    copy.gradFn = this.gradFn;
    copy.requires = this.requires;
    copy.accumulator = this.isLeaf && this.requires ? this.gradAccumulator() : null;
    return copy;
  }

  /** Makes the tensor a leaf again (detach_ and no-grad in-place ops on leaves). */
  makeLeaf(requiresGrad: boolean): void {
    this.history = null;
    this.requires = requiresGrad;
  }

  /** The AccumulateGrad node of a leaf that requires grad: one per leaf, as in PyTorch. */
  gradAccumulator(): AccumulateGrad {
    this.accumulator ??= new AccumulateGrad(this);
    return this.accumulator;
  }

  /** Asks a non-leaf to keep its `.grad` after backward. */
  retainGrad(): void {
    guard('retainGrad', [this], () => {
      if (!this.requiresGrad) fail('invalid-argument', "can't retain_grad on Tensor that has requires_grad=False");
      if (this.isLeaf) return; // a no-op on leaves, as in PyTorch
      this.retainsGrad = true;
      this.gradFn!.retainer = this;
    });
  }

  /** The elements in row-major order (see `data`). */
  values(): Buffer {
    return this.data;
  }

  /** The one element as a number (a bool tensor's as 1 or 0). */
  item(): number {
    return guard('item', [this], () => {
      if (this.numel() !== 1) {
        fail('invalid-argument', 'only one element tensors can be converted to Python scalars');
      }
      return this.values()[0]!;
    });
  }

  /** Nested arrays of numbers (booleans for a bool tensor), as PyTorch's `tolist()`. */
  tolist(): number | boolean | unknown[] {
    const data = guard('tolist', [this], () => this.values());
    const build = (dim: number, offset: number): number | boolean | unknown[] => {
      if (dim === this.shape.length) return this.dtype === 'bool' ? data[offset] !== 0 : data[offset]!;
      const size = this.shape[dim]!;
      const step = numel(this.shape.slice(dim + 1));
      return Array.from({ length: size }, (_, i) => build(dim + 1, offset + i * step));
    };
    return build(0, 0);
  }

  /** PyTorch's repr, e.g. `tensor(63., grad_fn=<AddBackward0>)`. */
  toString(): string {
    return formatTensor(guard('toString', [this], () => this.values()), this.shape, {
      dtype: this.dtype,
      requiresGrad: this.requiresGrad,
      gradFn: this.gradFn ? this.gradFn.className() : null,
    });
  }

  // ----- ops (functional.ts has the argument checks; ops.ts the math) -----
  // Each public call runs under guard(): an error leaves it naming the call and its operands' shapes.
  add(other: F.Operand): Tensor { return guard('add', [this, other], () => F.add(this, other)); }
  sub(other: F.Operand): Tensor { return guard('sub', [this, other], () => F.sub(this, other)); }
  mul(other: F.Operand): Tensor { return guard('mul', [this, other], () => F.mul(this, other)); }
  div(other: F.Operand): Tensor { return guard('div', [this, other], () => F.div(this, other)); }
  pow(exponent: F.Operand): Tensor { return guard('pow', [this, exponent], () => F.pow(this, exponent)); }
  /** `this * value` with value a C++ Scalar (MulBackward1): backward formulas use it. */
  mulScalar(value: number): Tensor { return guard('mul', [this], () => F.mulScalar(this, value)); }
  /** `value - this`, Python's `3 - t` (RsubBackward1). */
  rsub(value: number): Tensor { return guard('rsub', [this], () => F.rsub(this, value)); }
  powScalar(exponent: number): Tensor {
    return guard('powScalar', [this], () => {
      if (typeof exponent !== 'number') fail('invalid-argument', `powScalar(): expected a number, got ${typeName(exponent)}`);
      return F.pow(this, exponent);
    });
  }
  neg(): Tensor { return this.unary('neg'); }
  exp(): Tensor { return this.unary('exp'); }
  log(): Tensor { return this.unary('log'); }
  sin(): Tensor { return this.unary('sin'); }
  cos(): Tensor { return this.unary('cos'); }
  tan(): Tensor { return this.unary('tan'); }
  tanh(): Tensor { return this.unary('tanh'); }
  sigmoid(): Tensor { return this.unary('sigmoid'); }
  relu(): Tensor { return this.unary('relu'); }
  sqrt(): Tensor { return this.unary('sqrt'); }
  abs(): Tensor { return this.unary('abs'); }
  reciprocal(): Tensor { return this.unary('reciprocal'); }
  sgn(): Tensor { return this.unary('sgn'); }
  log1p(): Tensor { return this.unary('log1p'); }
  expm1(): Tensor { return this.unary('expm1'); }
  erf(): Tensor { return this.unary('erf'); }
  atan(): Tensor { return this.unary('atan'); }
  asin(): Tensor { return this.unary('asin'); }
  acos(): Tensor { return this.unary('acos'); }
  sinh(): Tensor { return this.unary('sinh'); }
  cosh(): Tensor { return this.unary('cosh'); }
  asinh(): Tensor { return this.unary('asinh'); }
  acosh(): Tensor { return this.unary('acosh'); }
  atanh(): Tensor { return this.unary('atanh'); }
  rsqrt(): Tensor { return this.unary('rsqrt'); }
  sign(): Tensor { return this.unary('sign'); }
  floor(): Tensor { return this.unary('floor'); }
  ceil(): Tensor { return this.unary('ceil'); }
  round(): Tensor { return this.unary('round'); }
  trunc(): Tensor { return this.unary('trunc'); }
  /** PyTorch's square is `self ** 2`: PowBackward0. */
  square(): Tensor { return this.powScalar(2); }
  private unary(name: F.UnaryName): Tensor { return guard(name, [this], () => F.unary(name, this)); }
  /** relu's backward: this gradient where `result` > 0, else 0. */
  thresholdBackward(result: Tensor): Tensor { return guard('thresholdBackward', [this, result], () => F.thresholdBackward(this, result)); }
  /** binary_cross_entropy's backward (a row of its own, so its second derivatives are PyTorch's). */
  bceBackward(input: Tensor, target: Tensor, reduction: Reduction): Tensor {
    return guard('bceBackward', [this, input, target], () => F.bceBackward(this, input, target, reduction));
  }
  /** nll_loss of this [N, C] or [C] tensor and int64 class targets, and its backward (rows of their own). */
  nllLoss(target: Tensor, reduction: Reduction): Tensor {
    return guard('nllLoss', [this, target], () => F.nllLoss(this, target, reduction));
  }
  nllLossBackward(input: Tensor, target: Tensor, reduction: Reduction): Tensor {
    return guard('nllLossBackward', [this, input, target], () => F.nllLossBackward(this, input, target, reduction));
  }
  matmul(other: Tensor): Tensor { return guard('matmul', [this, other], () => F.matmul(this, other)); }
  mm(other: Tensor): Tensor { return guard('mm', [this, other], () => F.product('mm', this, other)); }
  mv(other: Tensor): Tensor { return guard('mv', [this, other], () => F.product('mv', this, other)); }
  bmm(other: Tensor): Tensor { return guard('bmm', [this, other], () => F.product('bmm', this, other)); }
  sum(dim?: number | number[], keepdim = false): Tensor { return guard('sum', [this], () => F.sum(this, dim, keepdim)); }
  mean(dim?: number | number[], keepdim = false): Tensor { return guard('mean', [this], () => F.mean(this, dim, keepdim)); }
  softmax(dim: number): Tensor { return activations.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return activations.logSoftmax(this, dim); }
  logsumexp(dim: number | number[], keepdim = false): Tensor { return guard('logsumexp', [this], () => F.logsumexp(this, dim, keepdim)); }
  var(dim?: number | number[], options?: { unbiased?: boolean; keepdim?: boolean }): Tensor { return guard('var', [this], () => F.moment('var', this, dim, options)); }
  std(dim?: number | number[], options?: { unbiased?: boolean; keepdim?: boolean }): Tensor { return guard('std', [this], () => F.moment('std', this, dim, options)); }
  norm(p?: number, dim?: number | number[], keepdim = false): Tensor { return guard('norm', [this], () => F.norm(this, p, dim, keepdim)); }
  prod(dim?: number, keepdim = false): Tensor { return guard('prod', [this], () => F.prod(this, dim, keepdim)); }
  cumsum(dim: number): Tensor { return guard('cumsum', [this], () => F.scan('cumsum', this, dim)); }
  cumprod(dim: number): Tensor { return guard('cumprod', [this], () => F.scan('cumprod', this, dim)); }
  /** torch.flip(t, [dim]) and the shifts of prod's backward, used by the backward rules. */
  flipDim(dim: number): Tensor { return guard('flip', [this], () => F.flip(this, [dim])); }
  /** Reverses the order along each of dims. */
  flip(dims: number[]): Tensor { return guard('flip', [this], () => F.flip(this, dims)); }
  /** Shifts elements along dims (wrapping around); without dims, of the flattened tensor. */
  roll(shifts: number | number[], dims?: number | number[]): Tensor { return guard('roll', [this], () => F.roll(this, shifts, dims)); }
  /** Tiles the tensor sizes[i] times along each dim; extra leading sizes add dims. */
  repeat(sizes: number[]): Tensor { return guard('repeat', [this], () => F.repeat(this, sizes)); }
  shiftDim(dim: number, by: 1 | -1, fill: number): Tensor { return guard('shift', [this], () => F.shift(this, dim, by, fill)); }
  /** The largest element (ties share the gradient evenly; nan if any element is nan). */
  max(): Tensor;
  /** Along one dim: the values (the gradient goes to the returned index) and the int64 indices of the first largest. */
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return guard('max', [this], () => (dim === undefined ? F.selectAll(this, 'max') : F.selectDim(this, 'max', dim, keepdim)));
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return guard('min', [this], () => (dim === undefined ? F.selectAll(this, 'min') : F.selectDim(this, 'min', dim, keepdim)));
  }
  amax(dim?: number | number[], keepdim = false): Tensor { return guard('amax', [this], () => F.selectDims(this, 'max', dim, keepdim)); }
  amin(dim?: number | number[], keepdim = false): Tensor { return guard('amin', [this], () => F.selectDims(this, 'min', dim, keepdim)); }
  /** Elementwise larger of the two (broadcasting); ties give each side half the gradient. */
  maximum(other: Tensor): Tensor { return guard('maximum', [this, other], () => F.selectPair(this, other, 'maximum')); }
  minimum(other: Tensor): Tensor { return guard('minimum', [this, other], () => F.selectPair(this, other, 'minimum')); }
  /** Limits every element to [min, max] (a null bound is open); the gradient passes at both bounds. */
  clamp(min: number | null = null, max: number | null = null): Tensor { return guard('clamp', [this], () => F.clamp(this, min, max, 'clamp')); }
  clampMin(min: number): Tensor { return guard('clamp_min', [this], () => F.clamp(this, min, null, 'clamp_min')); }
  clampMax(max: number): Tensor { return guard('clamp_max', [this], () => F.clamp(this, null, max, 'clamp_max')); }
  /** The first index of the largest element (flattened without dim), as int64; never requires grad. */
  argmax(dim?: number, keepdim = false): Tensor { return guard('argmax', [this], () => F.argSelect(this, 'max', dim, keepdim)); }
  argmin(dim?: number, keepdim = false): Tensor { return guard('argmin', [this], () => F.argSelect(this, 'min', dim, keepdim)); }
  reshape(shape: number[]): Tensor { return guard('reshape', [this], () => F.reshape(this, shape)); }
  view(shape: number[]): Tensor { return guard('view', [this], () => F.view(this, shape)); }
  transpose(dim0: number, dim1: number): Tensor { return guard('transpose', [this], () => F.transpose(this, dim0, dim1)); }
  t(): Tensor { return guard('t', [this], () => F.t(this)); }
  permute(dims: number[]): Tensor { return guard('permute', [this], () => F.permute(this, dims)); }
  /** A permutation recorded under another grad_fn name (the backward of transpose and t). */
  permuteAs(dims: number[], gradFnName: string): Tensor { return guard('permute', [this], () => F.permute(this, dims, gradFnName)); }
  unsqueeze(dim: number): Tensor { return guard('unsqueeze', [this], () => F.unsqueeze(this, dim)); }
  squeeze(dim?: number): Tensor { return guard('squeeze', [this], () => F.squeeze(this, dim)); }
  expand(shape: number[]): Tensor { return guard('expand', [this], () => F.expand(this, shape)); }
  clone(): Tensor { return guard('clone', [this], () => F.clone(this)); }
  // ----- views of a part (views.alias): they alias this tensor's storage -----
  select(dim: number, index: number): Tensor { return guard('select', [this], () => V.select(this, dim, index)); }
  narrow(dim: number, start: number, length: number): Tensor { return guard('narrow', [this], () => V.narrow(this, dim, start, length)); }
  diagonal(offset = 0, dim1 = 0, dim2 = 1): Tensor { return guard('diagonal', [this], () => V.diagonal(this, offset, dim1, dim2)); }
  /** Views of each index along dim; outputs of one op, so none may be written in place. */
  unbind(dim = 0): Tensor[] { return guard('unbind', [this], () => V.unbind(this, dim)); }
  split(sizeOrSections: number | number[], dim = 0): Tensor[] { return guard('split', [this], () => V.split(this, sizeOrSections, dim)); }
  chunk(chunks: number, dim = 0): Tensor[] { return guard('chunk', [this], () => V.chunk(this, chunks, dim)); }
  /** Python's `x[...]`: numbers, slices, null, '...' make a view; int64 or bool tensors and number arrays gather a copy. */
  index(...items: IndexItem[]): Tensor { return guard('index', [this], () => I.index(this, items)); }
  contiguous(): Tensor { return guard('contiguous', [this], () => V.contiguous(this)); }
  // ----- layout (views.layout) -----
  stride(): number[] { return [...this.strides]; }
  storageOffset(): number { return this.offset; }
  isContiguous(): boolean { return isContiguous(this.geometry); }
  /** PyTorch's `_is_view()`: made by a view op (detach's result is not one). */
  isView(): boolean { return this.viewInfo !== null; }
  /** Whether the two tensors' elements live in the same storage. */
  sharesStorage(other: Tensor): boolean { return other instanceof Tensor && other.storage === this.storage; }
  // ----- the backward of views: moves between a part and the whole (internal) -----
  extractAt(at: Float64Array, shape: number[]): Tensor { return F.extractAt(this, at, shape); }
  embedAt(at: Float64Array, shape: number[]): Tensor { return F.embedAt(this, at, shape); }
  replaceAt(src: Tensor, at: Float64Array): Tensor { return F.replaceAt(this, src, at); }
  /** PyTorch's masked_fill: `value` (a number or a 0-d tensor) where the bool mask is true. */
  maskedFill(mask: Tensor, value: F.Operand): Tensor { return guard('masked_fill', [this, mask, value], () => F.maskedFill(this, mask, value)); }
  /** The slices along dim at the int64 indices (0-d or 1-d); repeated indices repeat slices. */
  indexSelect(dim: number, index: Tensor): Tensor { return guard('index_select', [this, index], () => F.indexSelect(this, dim, index)); }
  /** out[p] = this[p with index[p] along dim]; the int64 index has this tensor's rank. */
  gather(dim: number, index: Tensor): Tensor { return guard('gather', [this, index], () => F.gather(this, dim, index)); }
  /** A copy with src's elements (or the number) written where index points along dim. */
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor { return guard('scatter', [this, index, src], () => F.scatter(this, dim, index, src)); }
  /** A copy with src's elements added where index points along dim. */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return guard('scatter_add', [this, index, src], () => F.scatterAdd(this, dim, index, src)); }
  /** A copy with alpha times source's slices added at the indices along dim. */
  indexAdd(dim: number, index: Tensor, source: Tensor, options: { alpha?: number } = {}): Tensor {
    return guard('index_add', [this, index, source], () => F.indexAdd(this, dim, index, source, options.alpha ?? 1));
  }
  /** PyTorch's `x.where(condition, y)`: `torch.where(condition, x, y)`. */
  where(condition: Tensor, other: F.Operand): Tensor { return guard('where', [condition, this, other], () => F.where(condition, this, other)); }
  gt(other: F.Operand): Tensor { return guard('gt', [this, other], () => F.compare('gt', this, other)); }
  ge(other: F.Operand): Tensor { return guard('ge', [this, other], () => F.compare('ge', this, other)); }
  lt(other: F.Operand): Tensor { return guard('lt', [this, other], () => F.compare('lt', this, other)); }
  le(other: F.Operand): Tensor { return guard('le', [this, other], () => F.compare('le', this, other)); }
  eq(other: F.Operand): Tensor { return guard('eq', [this, other], () => F.compare('eq', this, other)); }
  ne(other: F.Operand): Tensor { return guard('ne', [this, other], () => F.compare('ne', this, other)); }
  to(dtype: DType): Tensor { return guard('to', [this], () => F.to(this, dtype)); }
  detach(): Tensor { return F.detach(this); }

  /** PyTorch's `detach_`: the tensor leaves the graph and becomes a leaf that needs no grad. */
  detach_(): this {
    return guard('detach_', [this], () => {
      if (this.viewInfo !== null) {
        fail('invalid-argument', "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence detach_() cannot be called on these gradients. To fix this error, please refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.");
      }
      this.makeLeaf(false);
      return this;
    });
  }

  // ----- in-place ops: they bump the version counter -----
  add_(other: F.Operand): this { return this.inplace('add_', [this, other], (o) => F.add(o, other)); }
  sub_(other: F.Operand): this { return this.inplace('sub_', [this, other], (o) => F.sub(o, other)); }
  mul_(other: F.Operand): this { return this.inplace('mul_', [this, other], (o) => F.mul(o, other)); }
  div_(other: F.Operand): this { return this.inplace('div_', [this, other], (o) => F.div(o, other)); }
  zero_(): this { return this.inplace('zero_', [this], (o) => F.zero(o)); }
  fill_(value: number): this { return this.inplace('fill_', [this], (o) => F.fill(o, value)); }
  /** Copies src's values (broadcast, cast to this dtype) into this tensor (CopyBackwards). */
  copy_(src: F.Operand): this { return this.inplace('copy_', [this, src], (o) => F.copy(o, src)); }
  /** Python's `x[items] = values` (accumulate: `index_put_(..., accumulate=True)`). */
  indexPut_(items: IndexItem[], values: F.Operand, options?: { accumulate?: boolean }): this {
    guard('indexPut_', [this, values], () => I.indexPut(this, items, values, options?.accumulate ?? false));
    return this;
  }
  private inplace(op: string, operands: readonly unknown[], compute: (original: Tensor) => Tensor): this {
    guard(op, operands, () => F.inplace(this, op, operands, compute));
    return this;
  }

  /** Runs backward from this tensor (see backward.ts). */
  backward(gradient?: Tensor | null, options?: { retainGraph?: boolean; createGraph?: boolean }): void {
    guard('backward', [this, gradient], () =>
      F.backwardFrom([this], gradient === undefined || gradient === null ? [null] : [gradient], options, 'backward'));
  }

  /** Whether an op applied to these inputs now must record a graph node. */
  static recording(inputs: readonly Tensor[]): boolean {
    return isGradEnabled() && inputs.some((t) => t.requiresGrad);
  }
}
