import type { DType } from '../spec/program.ts';
import { settle, type Result } from './kernels.ts';
import type { Geometry } from './geometry.ts';
import { isGradEnabled } from './grad-mode.ts';
import { OpNode, type NodeOp, type SavedName, type SavedValues } from './node.ts';
import { Tensor, type ViewCreation } from './tensor.ts';

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
  /** Computes the result's elements; view ops have `view` instead. */
  forward?: (inputs: readonly Tensor[], attrs: A, dtype: DType) => Result;
  /** One rule per tensor input, in input order. */
  grads: readonly Rule<A>[];
  /**
   * The result's dtype, when the op decides it (casts, float results of integer inputs, int64
   * results such as indices); otherwise type promotion decides. It may refuse a dtype with
   * PyTorch's message (bool negation). Results in int64 or bool never require grad.
   */
  dtype?: (inputs: readonly Tensor[], attrs: A) => DType;
  /**
   * A view op: the result's geometry over the input's storage. The result aliases its input
   * (views.alias): it shares storage and version counter, and is a view of the input's base.
   */
  view?: (input: Geometry, attrs: A) => Geometry;
  /**
   * How many leading inputs are constants of the op (where's condition): saved like inputs
   * ('self' is inputs[0]), but not differentiable and not among the next functions, as PyTorch's
   * non_differentiable arguments. `grads` then has one rule per later input.
   */
  constants?: number;
}

/** PyTorch's ScalarType name of a dtype, as its messages spell it (`expected scalar type Long`). */
export const scalarTypeName = (d: DType): string => ({ float32: 'Float', float64: 'Double', int64: 'Long', bool: 'Bool' })[d];

/** Order of promotion within one group: bool < int64 < float32 < float64. */
const RANK: Record<DType, number> = { bool: 0, int64: 1, float32: 2, float64: 3 };
const promote = (a: DType, b: DType): DType => (RANK[a] >= RANK[b] ? a : b);
const floating = (d: DType) => d === 'float32' || d === 'float64';

/**
 * The dtype a Python number stands for: an integer-valued number is a Python int (int64), any
 * other a Python float, which counts as the default dtype float32 (PyTorch's wrapped numbers).
 */
export const numberDtype = (x: number): DType => (Number.isInteger(x) ? 'int64' : 'float32');

/**
 * PyTorch 1.13's type promotion (c10 ResultTypeState): operands fall in three groups, tensors
 * with dims, 0-d tensors, and wrapped Python numbers, each promoted within itself; a higher
 * group decides the result unless a lower one is of a higher category (bool < integer <
 * floating), which then raises it: int64 tensor + 0-d float64 is float64, + 2.5 is float32.
 */
export function resultDtype(inputs: readonly Tensor[]): DType {
  const group = (ts: readonly Tensor[]): DType | null =>
    ts.reduce<DType | null>((acc, t) => (acc === null ? t.dtype : promote(acc, t.dtype)), null);
  const dims = group(inputs.filter((t) => !t.wrappedNumber && t.shape.length > 0));
  const zero = group(inputs.filter((t) => !t.wrappedNumber && t.shape.length === 0));
  const wrapped = group(inputs.filter((t) => t.wrappedNumber));
  // c10's combine_categories(higher, lower).
  const combine = (higher: DType | null, lower: DType | null): DType | null => {
    if (higher === null) return lower;
    if (lower === null || floating(higher)) return higher;
    if (higher === 'bool' || floating(lower)) return promote(higher, lower);
    return higher;
  };
  return combine(dims, combine(zero, wrapped)) ?? 'float32';
}

/**
 * Runs one op: forward on the data, then, when grad mode is on and an input requires grad,
 * a graph node that saves what the rules need and reduces each input's gradient to its shape.
 */
export function apply<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A, output?: { multiple: boolean; nr: number }): Tensor {
  const dtype = op.dtype ? op.dtype(inputs, attrs) : resultDtype(inputs);
  let out: Tensor;
  if (op.view) {
    out = Tensor.alias(inputs[0]!, op.view(inputs[0]!.geometry, attrs));
    markView(out, inputs[0]!, output?.multiple ?? false, output?.nr ?? 0);
  } else {
    const { shape, data } = op.forward!(inputs, attrs, dtype);
    settle(data, dtype);
    out = new Tensor(data, shape, dtype);
  }
  // Only floating results are differentiable: a comparison or a float->int64 cast is a constant.
  if (!Tensor.recording(inputs) || !floating(dtype)) return out;

  const name = typeof op.gradFn === 'string' ? op.gradFn : op.gradFn(inputs, attrs);
  const differentiable = op.constants ? inputs.slice(op.constants) : inputs;
  const next = differentiable.map((t) => t.gradientEdge());
  const node = new OpNode(name, next, op as NodeOp, attrs, differentiable.map((t) => t.shape), differentiable.map((t) => t.dtype));
  for (const [i, rule] of op.grads.entries()) {
    if (next[i] === null) continue;
    for (const what of rule.saves) node.save(what, what === 'self' ? inputs[0]! : what === 'other' ? inputs[1]! : what === 'third' ? inputs[2]! : out);
  }
  out.attachGradFn(node);
  return out;
}

/**
 * Records what a view keeps of its base (PyTorch's as_view): the base is the start of the chain,
 * and how the view was made decides whether it may be written in place (views.inplace-refusals).
 * A view of a view made in no-grad mode or by a multi-output op inherits that, unless it is
 * itself such a view.
 */
function markView(out: Tensor, input: Tensor, multiple: boolean, nr: number): void {
  const parent = input.viewInfo;
  let creation: ViewCreation = !isGradEnabled() ? 'no-grad' : multiple ? 'multi-output' : 'default';
  if (parent !== null && creation === 'default') creation = parent.creation;
  out.viewInfo = { base: parent?.base ?? input, creation, outputNr: nr, attrVersion: out.counter.value };
}
