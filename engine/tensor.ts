import type { DType } from '../spec/program.ts';
import { EngineError, fail } from './errors.ts';
import * as F from './functional.ts';
import { isGradEnabled } from './grad-mode.ts';
import type { Buffer } from './kernels.ts';
import { AccumulateGrad, type GradNode } from './node.ts';
import { formatTensor } from './repr.ts';
import { numel, type Shape } from './shape.ts';

/** The version counter, shared by a tensor and everything that aliases or views it. */
export interface VersionCounter {
  value: number;
}

/**
 * A tensor: data, shape and the autograd state PyTorch keeps on it. The math lives in the op
 * table (ops.ts); this class only holds state, and its methods (added in methods.ts) call the table.
 */
export class Tensor {
  /** Set when the tensor was made by a view op: the version of the shared counter at that time. */
  viewVersion: number | null = null;
  /** True for Python numbers turned into tensors: they never decide the dtype of a result. */
  wrappedNumber = false;
  retainsGrad = false;
  gradFn: GradNode | null = null;
  private requires = false;
  private gradValue: Tensor | null = null;
  private accumulator: AccumulateGrad | null = null;

  constructor(
    readonly data: Buffer,
    readonly shape: Shape,
    readonly dtype: DType,
    readonly counter: VersionCounter = { value: 0 },
  ) {}

  get version(): number {
    return this.counter.value;
  }

  get requiresGrad(): boolean {
    return this.requires;
  }

  set requiresGrad(flag: boolean) {
    this.requiresGrad_(flag);
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
    if (g && (g.dtype !== this.dtype || g.shape.length !== this.shape.length || g.shape.some((d, i) => d !== this.shape[i]))) {
      fail('shape-mismatch', 'assigned grad has data of a different size or type', {
        op: 'grad', shapes: [this.shape, g.shape],
      });
    }
    this.gradValue = g;
  }

  /** PyTorch's `requires_grad_`: only leaves may change the flag. */
  requiresGrad_(flag = true): this {
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
    this.gradFn = node;
    this.requires = true;
  }

  /** After an in-place op: the tensor is now the output of the op's node (inplace.history). */
  adoptHistory(result: Tensor): void {
    if (this.retainsGrad && this.gradFn) this.gradFn.retainer = null;
    this.gradFn = result.gradFn;
    if (this.retainsGrad && this.gradFn) this.gradFn.retainer = this;
    this.requires = result.requires;
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
    this.gradFn = null;
    this.requires = requiresGrad;
  }

  /** The AccumulateGrad node of a leaf that requires grad: one per leaf, as in PyTorch. */
  gradAccumulator(): AccumulateGrad {
    this.accumulator ??= new AccumulateGrad(this);
    return this.accumulator;
  }

  /** Asks a non-leaf to keep its `.grad` after backward. */
  retainGrad(): void {
    if (!this.requires) fail('invalid-argument', "can't retain_grad on Tensor that has requires_grad=False");
    if (this.isLeaf) return; // a no-op on leaves, as in PyTorch
    this.retainsGrad = true;
    this.gradFn!.retainer = this;
  }

  /** Reads the data; refuses a view whose base changed in place since (aliasing is not modelled). */
  values(): Buffer {
    if (this.viewVersion !== null && this.viewVersion !== this.counter.value) {
      throw new EngineError(
        'invalid-argument',
        'this view was made before its base was modified in place; the reference engine copies views instead of aliasing them (spec: inplace.views)',
      );
    }
    return this.data;
  }

  item(): number {
    if (this.numel() !== 1) {
      fail('invalid-argument', 'only one element tensors can be converted to Python scalars');
    }
    return this.values()[0]!;
  }

  /** Nested arrays of numbers, as PyTorch's `tolist()`. */
  tolist(): number | unknown[] {
    const data = this.values();
    const build = (dim: number, offset: number): number | unknown[] => {
      if (dim === this.shape.length) return data[offset]!;
      const size = this.shape[dim]!;
      const step = numel(this.shape.slice(dim + 1));
      return Array.from({ length: size }, (_, i) => build(dim + 1, offset + i * step));
    };
    return build(0, 0);
  }

  /** PyTorch's repr, e.g. `tensor(63., grad_fn=<AddBackward0>)`. */
  toString(): string {
    return formatTensor(this.values(), this.shape, {
      dtype: this.dtype,
      requiresGrad: this.requires,
      gradFn: this.gradFn ? this.gradFn.name() : null,
    });
  }

  // ----- ops (functional.ts has the argument checks; ops.ts the math) -----
  add(other: F.Operand): Tensor { return F.add(this, other); }
  sub(other: F.Operand): Tensor { return F.sub(this, other); }
  mul(other: F.Operand): Tensor { return F.mul(this, other); }
  div(other: F.Operand): Tensor { return F.div(this, other); }
  pow(exponent: F.Operand): Tensor { return F.pow(this, exponent); }
  /** `value - this`, Python's `3 - t` (RsubBackward1). */
  rsub(value: number): Tensor { return F.rsub(this, value); }
  powScalar(exponent: number): Tensor { return F.pow(this, exponent); }
  neg(): Tensor { return F.unary('neg', this); }
  exp(): Tensor { return F.unary('exp', this); }
  log(): Tensor { return F.unary('log', this); }
  sin(): Tensor { return F.unary('sin', this); }
  cos(): Tensor { return F.unary('cos', this); }
  tan(): Tensor { return F.unary('tan', this); }
  tanh(): Tensor { return F.unary('tanh', this); }
  sigmoid(): Tensor { return F.unary('sigmoid', this); }
  relu(): Tensor { return F.unary('relu', this); }
  sqrt(): Tensor { return F.unary('sqrt', this); }
  abs(): Tensor { return F.unary('abs', this); }
  reciprocal(): Tensor { return F.unary('reciprocal', this); }
  sgn(): Tensor { return F.unary('sgn', this); }
  /** relu's backward: this gradient where `result` > 0, else 0. */
  thresholdBackward(result: Tensor): Tensor { return F.thresholdBackward(this, result); }
  matmul(other: Tensor): Tensor { return F.matmul(this, other); }
  mm(other: Tensor): Tensor { return F.mm(this, other); }
  mv(other: Tensor): Tensor { return F.mv(this, other); }
  bmm(other: Tensor): Tensor { return F.bmm(this, other); }
  sum(dim?: number | number[], keepdim = false): Tensor { return F.sum(this, dim, keepdim); }
  mean(dim?: number | number[], keepdim = false): Tensor { return F.mean(this, dim, keepdim); }
  reshape(shape: number[]): Tensor { return F.reshape(this, shape); }
  view(shape: number[]): Tensor { return F.view(this, shape); }
  transpose(dim0: number, dim1: number): Tensor { return F.transpose(this, dim0, dim1); }
  t(): Tensor { return F.t(this); }
  permute(dims: number[]): Tensor { return F.permute(this, dims); }
  /** A permutation recorded under another grad_fn name (the backward of transpose and t). */
  permuteAs(dims: number[], gradFnName: string): Tensor { return F.permute(this, dims, gradFnName); }
  unsqueeze(dim: number): Tensor { return F.unsqueeze(this, dim); }
  squeeze(dim?: number): Tensor { return F.squeeze(this, dim); }
  expand(shape: number[]): Tensor { return F.expand(this, shape); }
  clone(): Tensor { return F.clone(this); }
  where(mask: Tensor, fill: number): Tensor { return F.where(this, mask, fill); }
  to(dtype: DType): Tensor { return dtype === this.dtype ? this : F.to(this, dtype); }
  detach(): Tensor { return F.detach(this); }

  /** PyTorch's `detach_`: the tensor leaves the graph and becomes a leaf that needs no grad. */
  detach_(): this {
    if (this.viewVersion !== null) {
      fail('invalid-argument', "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence detach_() cannot be called on these gradients. To fix this error, please refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.");
    }
    this.makeLeaf(false);
    return this;
  }

  // ----- in-place ops: they bump the version counter -----
  add_(other: F.Operand): this { F.inplace(this, 'add_', (o) => F.add(o, other)); return this; }
  sub_(other: F.Operand): this { F.inplace(this, 'sub_', (o) => F.sub(o, other)); return this; }
  mul_(other: F.Operand): this { F.inplace(this, 'mul_', (o) => F.mul(o, other)); return this; }
  div_(other: F.Operand): this { F.inplace(this, 'div_', (o) => F.div(o, other)); return this; }
  zero_(): this { F.inplace(this, 'zero_', (o) => F.zero(o)); return this; }
  fill_(value: number): this { F.inplace(this, 'fill_', (o) => F.fill(o, value)); return this; }

  /** Runs backward from this tensor (see backward.ts). */
  backward(gradient?: Tensor | null, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    F.backwardFrom([this], gradient === undefined || gradient === null ? [null] : [gradient], options);
  }

  /** Whether an op applied to these inputs now must record a graph node. */
  static recording(inputs: readonly Tensor[]): boolean {
    return isGradEnabled() && inputs.some((t) => t.requires);
  }
}
