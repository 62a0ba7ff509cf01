import type { DType } from '../spec/program.ts';
import type { Result } from './kernels.ts';
import { OpNode, type NodeOp, type SavedName, type SavedValues } from './node.ts';
import { Tensor } from './tensor.ts';

/** The saved values a vector-Jacobian rule may read; each read is checked (freed graph, versions). */
export type { SavedValues } from './node.ts';

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
  if (op.view) {
    out.viewVersion = out.counter.value;
    out.viewBase = inputs[0]!.viewBase ?? inputs[0]!;
  }
  if (!Tensor.recording(inputs)) return out;

  const name = typeof op.gradFn === 'string' ? op.gradFn : op.gradFn(inputs, attrs);
  const next = inputs.map((t) => t.gradFn ?? (t.requiresGrad ? t.gradAccumulator() : null));
  const node = new OpNode(name, next, op as NodeOp, attrs, inputs.map((t) => t.shape), inputs.map((t) => t.dtype));
  for (const [i, rule] of op.grads.entries()) {
    if (next[i] === null) continue;
    for (const what of rule.saves) node.save(what, what === 'self' ? inputs[0]! : what === 'other' ? inputs[1]! : what === 'third' ? inputs[2]! : out);
  }
  out.attachGradFn(node);
  return out;
}
