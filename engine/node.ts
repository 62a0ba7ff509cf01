import type { DType } from '../spec/program.ts';
import { fail } from './errors.ts';
import { isGradEnabled } from './grad-mode.ts';
import { alloc } from './kernels.ts';
import { numel, sameShape, type Shape } from './shape.ts';
import { Tensor } from './tensor.ts';

/** The first, second and third inputs (`third`: binary_cross_entropy's backward row only) and the output. */
export type SavedName = 'self' | 'other' | 'third' | 'result';

const FREED_MESSAGE =
  'Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.';

/** An edge to the node that receives the gradient of one input; null when that input needs none. */
export type Edge = GradNode | null;

/**
 * A node of the backward graph, PyTorch's grad_fn. `apply` turns the gradient of the node's
 * output into one gradient per input, in input order.
 */
export abstract class GradNode {
  /** Where each input's gradient goes, in input order (PyTorch's next_functions). */
  abstract readonly next: readonly Edge[];
  /** The non-leaf whose `.grad` this node fills, after `retainGrad()` (backward.retain-grad). */
  retainer: Tensor | null = null;
  abstract nodeName(): string;
  abstract apply(grad: Tensor): (Tensor | null)[];
  /** Drops saved tensors after a backward pass that does not retain the graph. */
  release(): void {}

  /** PyTorch's `grad_fn.name()`. */
  name(): string {
    return this.nodeName();
  }

  /** The class name Python shows (`type(t.grad_fn).__name__`, `grad_fn=<...>`); name() for all but CopySlices. */
  className(): string {
    return this.nodeName();
  }

  /** PyTorch's `grad_fn.next_functions`: (node, output index) pairs. */
  get nextFunctions(): [GradNode | null, number][] {
    return this.next.map((n) => [n, 0]);
  }
}

/** The sink for a leaf that requires grad: it accumulates into `leaf.grad` (backward.accumulate). */
export class AccumulateGrad extends GradNode {
  readonly next: readonly Edge[] = [];
  constructor(readonly variable: Tensor) {
    super();
  }
  nodeName(): string {
    return 'AccumulateGrad';
  }
  apply(grad: Tensor): (Tensor | null)[] {
    // A leaf whose requiresGrad was turned off after the graph was built receives nothing.
    if (this.variable.requiresGrad) accumulateInto(this.variable, grad);
    return [];
  }
}

/**
 * A stored gradient owns its data: it shares none with the pass's tensors or the caller's gradient,
 * and is no view (of the gradient of a t()). Under createGraph it is a differentiable clone, also
 * of a caller's gradient that requires grad, as in PyTorch; otherwise a plain copy, which is what
 * a clone gives there too, without a trip through dispatch on every stored gradient.
 */
function ownCopy(g: Tensor): Tensor {
  return isGradEnabled() ? g.clone() : new Tensor(g.data.slice(), g.shape, g.dtype);
}

/** A retained non-leaf gradient: stored, then summed out of place on later passes (backward.retain-grad). */
export function retainInto(t: Tensor, g: Tensor): void {
  t.grad = t.grad === null ? ownCopy(g) : t.grad.add(g);
}

/**
 * The first gradient is stored, later ones are added. In grad mode (createGraph) the sum is out
 * of place and differentiable; otherwise it is done in place on `.grad`, whose version moves.
 */
export function accumulateInto(t: Tensor, g: Tensor): void {
  const current = t.grad;
  if (current === null) {
    t.grad = ownCopy(g);
  } else if (isGradEnabled()) {
    t.grad = current.add(g);
  } else {
    // Through the layout: a .grad set by the caller may be a view of another tensor's storage.
    const data = current.data;
    const add = g.values();
    const sum = Float64Array.from(data, (v, i) => v + add[i]!);
    current.write(sum);
    current.counter.value++;
  }
}

/**
 * PyTorch's CopySlices: the base's new history after an in-place op on one of its views. The
 * base's gradient passes through unchanged outside the view; inside, the in-place op's node turns
 * it into the gradient of the view's old value. The op's other inputs get their gradients as usual.
 */
export class CopySlices extends GradNode {
  readonly next: readonly Edge[];

  constructor(
    baseEdge: Edge,
    private readonly at: Float64Array,
    private readonly viewShape: number[],
    private readonly fn: GradNode,
  ) {
    super();
    this.next = [baseEdge, ...fn.next.slice(1)];
  }

  nodeName(): string {
    return 'torch::autograd::CopySlices';
  }

  override className(): string {
    return 'CopySlices';
  }

  apply(grad: Tensor): (Tensor | null)[] {
    const slice = grad.extractAt(this.at, this.viewShape);
    const res = this.fn.apply(slice);
    const viewGrad = res[0] ?? new Tensor(alloc(grad.dtype, numel(this.viewShape)), this.viewShape, grad.dtype);
    return [this.next[0] === null ? null : grad.replaceAt(viewGrad, this.at), ...res.slice(1)];
  }

  override release(): void {
    this.fn.release();
  }
}

/** The op-table row a node was made by, as the node needs it (dispatch.ts has the full type). */
export interface NodeOp {
  grads: readonly { saves: readonly SavedName[]; vjp: (g: Tensor, s: SavedValues, attrs: never) => Tensor }[];
}

export interface SavedValues {
  readonly self: Tensor;
  readonly other: Tensor;
  readonly third: Tensor;
  readonly result: Tensor;
}

/**
 * A node created by an op of the op table. It keeps what PyTorch's node keeps: the edges, the
 * inputs' shapes and dtypes (to reduce and cast their gradients), and the saved tensors with the
 * versions they had. Saved values live in plain slots: a deep graph holds millions of these.
 */
export class OpNode extends GradNode implements SavedValues {
  private selfT: Tensor | null = null;
  private selfV = 0;
  private otherT: Tensor | null = null;
  private otherV = 0;
  private thirdT: Tensor | null = null;
  private thirdV = 0;
  private resultT: Tensor | null = null;
  private resultV = 0;
  private freed = false;

  constructor(
    private readonly gradFnName: string,
    readonly next: readonly Edge[],
    private readonly op: NodeOp,
    private readonly attrs: unknown,
    private readonly inputShapes: readonly Shape[],
    private readonly inputDtypes: readonly DType[],
  ) {
    super();
  }

  nodeName(): string {
    return this.gradFnName;
  }

  save(name: SavedName, tensor: Tensor): void {
    if (name === 'self') [this.selfT, this.selfV] = [tensor, tensor.version];
    else if (name === 'other') [this.otherT, this.otherV] = [tensor, tensor.version];
    else if (name === 'third') [this.thirdT, this.thirdV] = [tensor, tensor.version];
    else [this.resultT, this.resultV] = [tensor, tensor.version];
  }

  get self(): Tensor { return this.unpack(this.selfT, this.selfV, null); }
  get other(): Tensor { return this.unpack(this.otherT, this.otherV, null); }
  get third(): Tensor { return this.unpack(this.thirdT, this.thirdV, null); }
  get result(): Tensor { return this.unpack(this.resultT, this.resultV, this.gradFnName); }

  /** A saved value, checked as PyTorch checks it: not freed, and not modified in place since. */
  private unpack(t: Tensor | null, version: number, savedBy: string | null): Tensor {
    if (this.freed) fail('freed-graph', FREED_MESSAGE);
    if (!t) throw new Error(`gradspec bug: ${this.gradFnName} did not save a value it reads`);
    if (t.version !== version) {
      // PyTorch's legacy type name: torch.FloatTensor, DoubleTensor, LongTensor (an int64 index), BoolTensor.
      const kind = `${({ float32: 'Float', float64: 'Double', int64: 'Long', bool: 'Bool' } as const)[t.dtype]}Tensor`;
      // A saved output names the node that saved it; a saved input names its current grad_fn,
      // which for a view written since is a rebuilt AsStridedBackward0 (views.rebase).
      const producer = savedBy ?? t.gradFn?.name() ?? null;
      const which = producer ? `, which is output 0 of ${producer},` : '';
      fail(
        'saved-modified',
        `one of the variables needed for gradient computation has been modified by an inplace operation: [torch.${kind} [${t.shape.join(', ')}]]${which} is at version ${t.version}; expected version ${version} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).`,
      );
    }
    return t;
  }

  /** One gradient per input, reduced to the input's shape and cast to its dtype. */
  apply(grad: Tensor): (Tensor | null)[] {
    return this.op.grads.map((rule, i) => {
      if (this.next[i] === null) return null;
      return fitGrad(rule.vjp(grad, this, this.attrs as never), this.inputShapes[i]!, this.inputDtypes[i]!);
    });
  }

  /** Later passes fail only if they unpack a saved value: PyTorch raises only when one is needed. */
  override release(): void {
    this.freed = true;
    this.selfT = this.otherT = this.thirdT = this.resultT = null;
  }
}

/**
 * Sums a broadcast gradient back to the input's shape and casts it to the input's dtype, as
 * PyTorch's engine does for every input. Written with differentiable ops so createGraph works.
 */
function fitGrad(g: Tensor, shape: Shape, dtype: DType): Tensor {
  let r = g;
  if (!sameShape(r.shape, shape)) {
    const lead = r.shape.length - shape.length;
    if (lead < 0) fail('shape-mismatch', `gradient of shape [${r.shape.join(', ')}] has fewer dims than its input's shape [${shape.join(', ')}]`);
    const dims: number[] = [];
    r.shape.forEach((d, i) => {
      if (i < lead || (shape[i - lead] === 1 && d !== 1)) dims.push(i);
    });
    if (dims.length > 0) r = r.sum(dims, true);
    if (!sameShape(r.shape, shape)) r = r.reshape([...shape]);
  }
  return r.dtype === dtype ? r : r.to(dtype);
}
