import type { DType } from '../spec/program.ts';
import { fail } from './errors.ts';
import type { Result } from './kernels.ts';
import { OpNode, type SavedName } from './node.ts';
import { sameShape, type Shape } from './shape.ts';
import { Tensor } from './tensor.ts';

/** The saved values a vector-Jacobian rule may read; each read is checked (freed graph, versions). */
export interface SavedValues {
  readonly self: Tensor;
  readonly other: Tensor;
  readonly result: Tensor;
}

/** How the gradient of one input is computed from the gradient `g` of the output. */
export interface Rule<A> {
  /** What the rule reads; saved only when this input needs a gradient, as PyTorch does. */
  saves: readonly SavedName[];
  vjp: (g: Tensor, s: SavedValues, attrs: A) => Tensor;
}

/** One row of the op table. */
export interface OpDef<A> {
  /** PyTorch 1.13's grad_fn class name for this call. */
  gradFn: string | ((inputs: readonly Tensor[], attrs: A) => string);
  forward: (inputs: readonly Tensor[], attrs: A, dtype: DType) => Result;
  /** One rule per tensor input, in input order. */
  grads: readonly Rule<A>[];
  /** The result's dtype, when the op decides it (casts); otherwise type promotion decides. */
  dtype?: (inputs: readonly Tensor[], attrs: A) => DType;
  /** The result views its input (PyTorch view ops): it shares the version counter. */
  view?: boolean;
}

/**
 * PyTorch's type promotion for our two float dtypes: tensors with dims outrank 0-d tensors,
 * which outrank wrapped Python numbers; within the winning group float64 wins.
 */
export function resultDtype(inputs: readonly Tensor[]): DType {
  const groups = [
    inputs.filter((t) => !t.wrappedNumber && t.shape.length > 0),
    inputs.filter((t) => !t.wrappedNumber && t.shape.length === 0),
    inputs,
  ];
  const group = groups.find((g) => g.length > 0) ?? inputs;
  return group.some((t) => t.dtype === 'float64') ? 'float64' : 'float32';
}

/**
 * Runs one op: forward on the data, then, when grad mode is on and an input requires grad,
 * a graph node that saves what the rules need and reduces each input's gradient to its shape.
 */
export function apply<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  for (const t of inputs) t.values(); // refuses stale views before any work
  const dtype = op.dtype ? op.dtype(inputs, attrs) : resultDtype(inputs);
  const { shape, data } = op.forward(inputs, attrs, dtype);
  const out = new Tensor(data, shape, dtype, op.view ? inputs[0]!.counter : undefined);
  if (op.view) out.viewVersion = out.counter.value;
  if (!Tensor.recording(inputs)) return out;

  const name = typeof op.gradFn === 'string' ? op.gradFn : op.gradFn(inputs, attrs);
  const shapes = inputs.map((t) => t.shape);
  const dtypes = inputs.map((t) => t.dtype);
  const next = inputs.map((t) => t.gradFn ?? (t.requiresGrad ? t.gradAccumulator() : null));
  const node = new OpNode(name, next, (g, self) => {
    const saved: SavedValues = {
      get self() { return self.unpack('self'); },
      get other() { return self.unpack('other'); },
      get result() { return self.unpack('result'); },
    };
    return op.grads.map((rule, i) => {
      if (next[i] === null) return null;
      return fitGrad(rule.vjp(g, saved, attrs), shapes[i]!, dtypes[i]!);
    });
  });
  for (const [i, rule] of op.grads.entries()) {
    if (next[i] === null) continue;
    for (const what of rule.saves) {
      const t = what === 'self' ? inputs[0]! : what === 'other' ? inputs[1]! : out;
      const producer = what === 'result' ? { name, output: 0 } : null;
      node.save(what, t, producer);
    }
  }
  out.attachGradFn(node);
  return out;
}

/**
 * Sums a broadcast gradient back to the input's shape and casts it to the input's dtype, as
 * PyTorch's engine does for every input. Written with differentiable ops so createGraph works.
 */
function fitGrad(g: Tensor, shape: Shape, dtype: DType): Tensor {
  let r = g;
  if (!sameShape(r.shape, shape)) {
    const lead = r.shape.length - shape.length;
    if (lead < 0) fail('shape-mismatch', 'gradient has fewer dims than its input', { op: 'backward', shapes: [r.shape, shape] });
    const dims: number[] = [];
    r.shape.forEach((d, i) => {
      if (i < lead || (shape[i - lead] === 1 && d !== 1)) dims.push(i);
    });
    if (dims.length > 0) r = r.sum(dims, true);
    if (!sameShape(r.shape, shape)) r = r.reshape([...shape]);
  }
  return r.dtype === dtype ? r : r.to(dtype);
}
