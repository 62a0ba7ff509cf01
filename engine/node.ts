import { fail } from './errors.ts';
import { isGradEnabled } from './grad-mode.ts';
import { Tensor } from './tensor.ts';

export type SavedName = 'self' | 'other' | 'result';

/** A tensor kept for the backward pass, with the version its storage had when it was saved. */
interface Saved {
  tensor: Tensor;
  version: number;
  /** For a saved output: this node and the output index, for error messages; null for inputs. */
  producer: { name: string; output: number } | null;
}

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

/** A retained non-leaf gradient: stored, then summed out of place on later passes (backward.retain-grad). */
export function retainInto(t: Tensor, g: Tensor): void {
  t.grad = t.grad === null ? (isGradEnabled() && g.gradFn ? g : new Tensor(g.data.slice(), g.shape, g.dtype)) : t.grad.add(g);
}

/**
 * The first gradient is stored, later ones are added. In grad mode (createGraph) the sum is out
 * of place and differentiable; otherwise it is done in place on `.grad`, whose version moves.
 */
export function accumulateInto(t: Tensor, g: Tensor): void {
  const current = t.grad;
  if (current === null) {
    t.grad = isGradEnabled() && g.gradFn ? g : new Tensor(g.data.slice(), g.shape, g.dtype);
  } else if (isGradEnabled()) {
    t.grad = current.add(g);
  } else {
    const data = current.data;
    const add = g.values();
    for (let i = 0; i < data.length; i++) data[i] = data[i]! + add[i]!;
    current.counter.value++;
  }
}

/** A node created by an op of the op table. */
export class OpNode extends GradNode {
  /** Saved values by name; most nodes save one or none, so a small list beats a Map. */
  private saved: [SavedName, Saved][] | null = null;
  private freed = false;

  constructor(
    private readonly gradFnName: string,
    readonly next: readonly Edge[],
    /** Computes the input gradients from the output gradient; reads saved values through `unpack`. */
    private readonly backwardFn: (grad: Tensor, node: OpNode) => (Tensor | null)[],
  ) {
    super();
  }

  nodeName(): string {
    return this.gradFnName;
  }

  save(name: SavedName, tensor: Tensor, producer: Saved['producer']): void {
    (this.saved ??= []).push([name, { tensor, version: tensor.version, producer }]);
  }

  /** A saved value, checked as PyTorch checks it: not freed, and not modified in place since. */
  unpack(name: SavedName): Tensor {
    if (this.freed) fail('freed-graph', FREED_MESSAGE);
    const s = this.saved?.find(([n]) => n === name)?.[1];
    if (!s) throw new Error(`gradspec bug: ${this.gradFnName} did not save ${name}`);
    if (s.tensor.version !== s.version) {
      const kind = s.tensor.dtype === 'float64' ? 'DoubleTensor' : 'FloatTensor';
      // A saved output names the node that saved it; a saved input names its current grad_fn.
      const producer = s.producer ?? (s.tensor.gradFn ? { name: s.tensor.gradFn.name(), output: 0 } : null);
      const which = producer ? `, which is output ${producer.output} of ${producer.name},` : '';
      fail(
        'saved-modified',
        `one of the variables needed for gradient computation has been modified by an inplace operation: [torch.${kind} [${s.tensor.shape.join(', ')}]]${which} is at version ${s.tensor.version}; expected version ${s.version} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True).`,
      );
    }
    return s.tensor;
  }

  apply(grad: Tensor): (Tensor | null)[] {
    return this.backwardFn(grad, this);
  }

  /** Later passes fail only if they unpack a saved value: PyTorch raises only when one is needed. */
  override release(): void {
    this.freed = true;
    this.saved = null;
  }
}
