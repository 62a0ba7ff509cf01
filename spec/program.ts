/**
 * The engine-neutral program format (see spec/program.md and spec/program.schema.json).
 *
 * A program is a list of steps that an engine executes in order. Steps bind names to tensors,
 * apply ops, run backward passes, change grad mode, and record observations. What an engine
 * returns is an `Observations` record: it never sees expected values.
 *
 * This file only declares types and constants; spec/ imports nothing.
 */

/** The dtypes a tensor may have; only the floating ones carry gradients. */
export type DType = 'float32' | 'float64' | 'int64' | 'bool';
/** The dtypes that can require grad: a program's default dtype and every tolerance is one of these. */
export type FloatDType = 'float32' | 'float64';
export const isFloating = (d: DType): d is FloatDType => d === 'float32' || d === 'float64';

/**
 * A number, or a value JSON cannot carry spelled as a string: NaN and the infinities, and negative
 * zero (JSON.stringify(-0) is "0", so `-0` must be written "-0" to keep its sign).
 */
export type Scalar = number | 'nan' | 'inf' | '-inf' | '-0' | boolean;

/** The values of the spelled scalars. */
export const SPELLED: Readonly<Record<string, number>> = { nan: NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 };

/** A scalar's number (a spelled one decoded, a boolean as 1 or 0); anything unknown is NaN. */
export const scalarValue = (s: unknown): number =>
  (typeof s === 'string' ? SPELLED[s] ?? NaN : typeof s === 'boolean' ? Number(s) : (s as number));

/**
 * A scalar or nested arrays of scalars, as `torch.tensor` takes them. Values of bool tensors are
 * JSON booleans (PyTorch's tolist() gives Python bools); int64 values are JSON integers.
 */
export type Data = Scalar | Data[];

/** A name bound by an earlier step (`"x"`), or the `.grad` of such a tensor (`"x.grad"`). */
export type Ref = string;

/** An op argument: a tensor reference, or a plain number where PyTorch takes a Python scalar. */
export type Arg = Ref | number;

export const UNARY_OPS = [
  'neg', 'exp', 'log', 'sin', 'cos', 'tan', 'tanh', 'sigmoid', 'relu', 'sqrt', 'abs', 'reciprocal',
  'log1p', 'expm1', 'erf', 'atan', 'asin', 'acos', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh', 'rsqrt', 'square',
  'sign', 'floor', 'ceil', 'round', 'trunc',
] as const;
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'matmul'] as const;
export const REDUCTION_OPS = ['sum', 'mean'] as const;
export const SHAPE_OPS = [
  'reshape', 'view', 'transpose', 't', 'permute', 'unsqueeze', 'squeeze', 'expand',
] as const;
export const OTHER_OPS = ['clone', 'detach'] as const;
/**
 * torch.nn.functional's activations (F.softplus, ...) and the softmax family, which are also Tensor
 * methods (`x.softmax(dim)`, `x.logsumexp(dim, keepdim=True)`).
 */
export const ACTIVATION_OPS = ['softplus', 'leakyRelu', 'elu', 'gelu', 'silu', 'softmax', 'logSoftmax', 'logsumexp'] as const;
/** Products, running sums and products, variance, standard deviation and norms: where engines break at zeros and zero spread. */
export const STATISTIC_OPS = ['prod', 'cumsum', 'cumprod', 'var', 'std', 'norm'] as const;
/** Comparisons (`a > b`, bool results) and `torch.where(condition, a, b)`. */
export const COMPARISON_OPS = ['gt', 'ge', 'lt', 'le', 'eq', 'ne', 'where'] as const;
/**
 * Ops whose gradient goes to the elements they select: max and min over all, amax and amin over
 * dims, the elementwise maximum and minimum of two tensors, clamp with number bounds, and the
 * int64 indices of argmax and argmin (no gradient).
 */
export const SELECTION_OPS = ['max', 'min', 'amax', 'amin', 'maximum', 'minimum', 'clamp', 'clampMin', 'clampMax', 'argmax', 'argmin'] as const;
/** The losses of torch.nn.functional, by the engine's names (`F.mseLoss` is `F.mse_loss`): (input, target). */
export const LOSS_OPS = ['mseLoss', 'l1Loss', 'smoothL1Loss', 'binaryCrossEntropy', 'binaryCrossEntropyWithLogits', 'nllLoss', 'crossEntropy'] as const;
/**
 * Views that pick part of a tensor (select, narrow, diagonal, Python indexing `x[1:, None, idx]`),
 * views that split it into several (unbind, split, chunk: their step binds a list of names), and
 * `contiguous`, which copies only a tensor that is not contiguous.
 */
export const VIEW_OPS = ['select', 'narrow', 'diagonal', 'unbind', 'split', 'chunk', 'index', 'contiguous'] as const;
/** View ops that return a list of tensors: their step's `let` is a list with one name per tensor. */
export const MULTI_OUTPUT_OPS = ['unbind', 'split', 'chunk'] as const;
/**
 * Joining and repeating: `torch.cat` and `torch.stack` of the tensors in `args` (at least one),
 * and the tensor methods flip, roll and repeat. Every output element is one input element.
 */
export const JOIN_OPS = ['cat', 'stack', 'flip', 'roll', 'repeat'] as const;
/**
 * The gather family: an int64 index tensor picks elements (indexSelect, gather) or places to
 * write or add to (scatter, scatterAdd, indexAdd); maskedFill writes a value where a bool mask is true.
 */
export const INDEX_OPS = ['indexSelect', 'gather', 'scatter', 'scatterAdd', 'indexAdd', 'maskedFill'] as const;
export const OP_NAMES = [...UNARY_OPS, ...BINARY_OPS, ...REDUCTION_OPS, ...SHAPE_OPS, ...OTHER_OPS, ...COMPARISON_OPS, ...SELECTION_OPS, ...ACTIVATION_OPS, ...STATISTIC_OPS, ...LOSS_OPS, ...VIEW_OPS, ...JOIN_OPS, ...INDEX_OPS] as const;
export type OpName = (typeof OP_NAMES)[number];

/**
 * In-place ops; any of them may target a view, and then writes through it into its base (PyTorch
 * semantics). `copy_(src)` copies a broadcastable tensor or a number in; `indexPut_` is
 * `x[items] = values` (with `accumulate`, `x.index_put_(indices, values, accumulate=True)`).
 */
export const INPLACE_OPS = ['add_', 'sub_', 'mul_', 'div_', 'zero_', 'fill_', 'copy_', 'indexPut_'] as const;
export type InplaceName = (typeof INPLACE_OPS)[number];

/** Op attributes, by the PyTorch keyword they stand for. */
export interface Attrs {
  dim?: number | number[];
  keepdim?: boolean;
  /** var and std: divide by n - 1 (true, the default) or by n. */
  unbiased?: boolean;
  /** norm: the order, 1, 2 (the default) or "inf". */
  p?: 1 | 2 | 'inf';
  shape?: number[];
  /** permute's order; flip's dims; roll's dims (one per shift; none: the flattened tensor rolls). */
  dims?: number[];
  /** roll: the shift of each of dims (one shift without dims). */
  shifts?: number | number[];
  /** repeat: how many times along each dim (more sizes than dims add leading dims). */
  sizes?: number[];
  dim0?: number;
  dim1?: number;
  /** softplus; smoothL1Loss's threshold between its quadratic and linear parts (default 1, at least 0). */
  beta?: number;
  threshold?: number;
  /** leakyRelu (PyTorch's negative_slope) */
  negativeSlope?: number;
  /** elu; indexAdd's multiplier of source (default 1). */
  alpha?: number;
  /** gelu */
  approximate?: 'none' | 'tanh';
  /** clamp's bounds (PyTorch's min= and max=); null is None. */
  min?: number | null;
  max?: number | null;
  /** The losses' reduction (PyTorch's default is 'mean'). */
  reduction?: Reduction;
  /** select's index (a negative one counts from the end). */
  index?: number;
  /** narrow: `length` elements from `start` along `dim`. */
  start?: number;
  length?: number;
  /** diagonal (PyTorch's defaults: 0, 0, 1); `dim1` is also transpose's second dim. */
  offset?: number;
  dim2?: number;
  /** split: the size of each piece (the last may be smaller), or the list of sizes. */
  splitSize?: number | number[];
  /** chunk: how many pieces at most. */
  chunks?: number;
  /** index: what goes between the brackets of `x[...]`, in order. */
  items?: IndexItem[];
}

/**
 * One item of a Python index `x[...]`: an integer (selects, drops the dim), `null` (None, a new
 * dim of size 1), `"..."` (Ellipsis), a slice `{ start?, stop?, step? }` (`start:stop:step`, step at
 * least 1), an int64 tensor or a bool mask bound earlier (`{ ref }`, advanced indexing), or a
 * list of integers (an int64 index written in place, `torch.tensor([0, 0, 2])`).
 */
export type IndexItem = number | null | '...' | IndexSlice | { ref: Ref } | number[];
export interface IndexSlice { start?: number; stop?: number; step?: number }

export const REDUCTIONS = ['mean', 'sum', 'none'] as const;
export type Reduction = (typeof REDUCTIONS)[number];

export interface LeafStep { let: string; tensor: Data; requiresGrad?: boolean; dtype?: DType }
/**
 * `let` names the result; an op that returns a tuple binds a list of names, one per element, as
 * Python's `v, i = x.max(dim=0)` does (max and min with a dim: values, then int64 indices), and
 * unbind, split and chunk bind one name per piece (`a, b = y.unbind(0)`). How many pieces there
 * are depends on shapes: a list of the wrong length fails at that step, as Python's unpacking does.
 */
export interface OpStep { let: string | string[]; op: OpName; args: Arg[]; attrs?: Attrs }
export interface BackwardStep {
  backward: Ref;
  /** An explicit gradient (the v of the vector-Jacobian product): data or a reference. */
  gradient?: Data | { ref: Ref };
  retainGraph?: boolean;
  createGraph?: boolean;
}
export interface AutogradBackwardStep {
  autogradBackward: Ref[];
  gradTensors?: (Ref | null)[];
  retainGraph?: boolean;
  createGraph?: boolean;
}
export interface GradStep {
  /** Names for the returned gradients, one per input; a `null` result binds nothing usable. */
  let: string[];
  grad: {
    outputs: Ref[];
    inputs: Ref[];
    gradOutputs?: (Ref | null)[];
    retainGraph?: boolean;
    createGraph?: boolean;
    allowUnused?: boolean;
  };
}
export interface NoGradStep { noGrad: Step[] }
export interface EnableGradStep { enableGrad: Step[] }
export interface SetGradEnabledStep { setGradEnabled: boolean }
export interface InplaceStep {
  inplace: InplaceName;
  target: Ref;
  args?: Arg[];
  /** indexPut_ only: where to write (`target[items] = args[0]`), and whether to add instead. */
  attrs?: { items: IndexItem[]; accumulate?: boolean };
}
export interface RequiresGradStep { requiresGrad_: Ref; flag?: boolean }
export interface RetainGradStep { retainGrad: Ref }
export interface DetachInplaceStep { detach_: Ref }
/** `x.grad = None`. (Zeroing in place is the in-place step `zero_` on `"x.grad"`.) */
export interface ClearGradStep { clearGrad: Ref }
/**
 * Records the tensor; with `item`, records `t.item()` instead (a number, one-element tensors only).
 * `layout` adds how the tensor lies in its storage (stride, storageOffset, isContiguous, isView);
 * `sameStorage` adds whether it shares its storage with that other tensor (sharesStorage).
 */
export interface ObserveStep { observe: Ref; label?: string; item?: boolean; layout?: boolean; sameStorage?: Ref }
/**
 * `for _ in range(repeat):` around `steps`. A body step may rebind a name bound before it (the
 * loop variable of a chain, `y = y + x`); error paths inside read `"<step>.<iteration>.<body step>"`.
 */
export interface RepeatStep { repeat: number; steps: Step[] }

export type Step =
  | LeafStep | OpStep | BackwardStep | AutogradBackwardStep | GradStep
  | NoGradStep | EnableGradStep | SetGradEnabledStep | InplaceStep
  | RequiresGradStep | RetainGradStep | DetachInplaceStep | ClearGradStep | ObserveStep
  | RepeatStep;

export interface Program {
  /** Stable id, e.g. `document.one-step`. */
  id: string;
  /** Default dtype of leaves that do not name one (PyTorch's default is float32). */
  dtype?: FloatDType;
  steps: Step[];
}

/** What an engine reports for one `observe` step. A field an engine cannot report is left out. */
export interface Observation {
  label: string;
  /** True when the reference is None (a `.grad` not yet set, or an unused input's result of autograd.grad); no other field is then given. */
  none?: boolean;
  value?: Data;
  shape?: number[];
  dtype?: DType;
  requiresGrad?: boolean;
  isLeaf?: boolean;
  /** PyTorch's grad_fn class name, or null for a tensor without one. */
  gradFn?: string | null;
  /** Names of `gradFn.next_functions`, in order; null entries stand for inputs that need no gradient. */
  nextFunctions?: (string | null)[];
  /** The tensor's printed form, as `print(t)` shows it. */
  repr?: string;
  /** The storage's version counter. */
  version?: number;
  /** With `layout`: PyTorch's `t.stride()`, `t.storage_offset()`, `t.is_contiguous()`, `t._is_view()`. */
  stride?: number[];
  storageOffset?: number;
  isContiguous?: boolean;
  isView?: boolean;
  /** With `sameStorage`: whether both tensors use one storage (`a.storage().data_ptr() == b.storage().data_ptr()`). */
  sharesStorage?: boolean;
}

/** Error categories: what went wrong, independent of the exact message of an engine version. */
export const ERROR_CATEGORIES = [
  'freed-graph',          // backward through a graph whose saved values were freed
  'implicit-non-scalar',  // implicit gradient for a non-scalar output
  'no-grad-fn',           // backward of a tensor that does not require grad
  'leaf-inplace',         // in-place op autograd refuses: on a leaf that requires grad or a view of one, or on a view it cannot rebase (an output of unbind, split or chunk; a view made in no_grad mode)
  'saved-modified',       // a saved tensor was modified in place (version counter)
  'non-leaf-requires-grad', // requiresGrad_ on a non-leaf
  'input-no-grad',        // autograd.grad with respect to a tensor that does not require grad
  'unused-input',         // autograd.grad input not reached from the outputs, without allowUnused
  'shape-mismatch',       // incompatible shapes for an op, a view, or a gradient
  'invalid-argument',     // anything else the engine refuses: bad dims, ragged data, wrong dtypes
] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

export interface ObservedError {
  /**
   * Path of the failing step: `"4"` for the fifth top-level step, `"4.1"` for the second step
   * inside it (a block), `"4.17.0"` for the first body step of a repeat step 4 in iteration 17.
   */
  step: string;
  category: ErrorCategory;
  message: string;
}

export interface Observations {
  observations: Observation[];
  /** The first error thrown; execution stops there. */
  error: ObservedError | null;
}
