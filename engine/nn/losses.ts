/*
 * The losses of `F` (torch.nn.functional), each with `reduction: 'mean' | 'sum' | 'none'`, as
 * op-table rows or compositions of rows as PyTorch 1.13 records them.
 */
import { REDUCTIONS, type Reduction } from '../../spec/program.ts';
import { apply, scalarTypeName } from '../dispatch.ts';
import { fail, guard, typeName } from '../errors.ts';
import { expand } from '../functional.ts';
import { OPS } from '../ops.ts';
import { logSoftmax } from './activations.ts';
import { broadcastShapes, sameShape } from '../shape.ts';
import { Tensor } from '../tensor.ts';

export interface LossOptions { reduction?: Reduction }
export interface SmoothL1Options extends LossOptions { beta?: number }

function reductionOf(options: LossOptions | undefined): Reduction {
  const r: unknown = options?.reduction ?? 'mean';
  if (!(REDUCTIONS as readonly unknown[]).includes(r)) fail('invalid-argument', `${String(r)} is not a valid value for reduction`);
  return r as Reduction;
}

/** Input and target as tensors, or PyTorch's refusal naming the argument (`positions`: cross_entropy's form). */
function tensors(op: string, input: unknown, target: unknown, positions = false): [Tensor, Tensor] {
  for (const [t, what, at] of [[input, 'input', 1], [target, 'target', 2]] as const) {
    if (!(t instanceof Tensor)) fail('invalid-argument', `${op}(): argument '${what}'${positions ? ` (position ${at})` : ''} must be Tensor, not ${typeName(t)}`);
  }
  return [input as Tensor, target as Tensor];
}

/**
 * The pair as F.mse_loss passes it on: torch.broadcast_tensors expands the operand whose shape
 * differs from the broadcast shape (ExpandBackward0) and leaves the other as it is.
 */
function broadcastPair(op: string, input: unknown, target: unknown): [Tensor, Tensor] {
  const [x, y] = tensors(op, input, target);
  if (sameShape(x.shape, y.shape)) return [x, y];
  const shape = broadcastShapes(x.shape, y.shape);
  return [sameShape(x.shape, shape) ? x : expand(x, shape), sameShape(y.shape, shape) ? y : expand(y, shape)];
}

/** apply_loss_reduction: the mean (MeanBackward0), the sum (SumBackward0) or the elements. */
const reduce = (t: Tensor, reduction: Reduction): Tensor => (reduction === 'mean' ? t.mean() : reduction === 'sum' ? t.sum() : t);

/** `F.mse_loss`: (input - target)², reduced; one row, MseLossBackward0, with a gradient for the target too. */
export function mseLoss(input: Tensor, target: Tensor, options?: LossOptions): Tensor {
  return guard('mseLoss', [input, target], () => {
    const reduction = reductionOf(options);
    return apply(OPS.mseLoss, broadcastPair('mse_loss', input, target), { reduction, beta: 0 });
  });
}

/** `F.l1_loss`: PyTorch 1.13 composes it, (input - target).abs() then the reduction. */
export function l1Loss(input: Tensor, target: Tensor, options?: LossOptions): Tensor {
  return guard('l1Loss', [input, target], () => {
    const reduction = reductionOf(options);
    const [x, y] = broadcastPair('l1_loss', input, target);
    return reduce(x.sub(y).abs(), reduction);
  });
}

/** `F.smooth_l1_loss`: one row, SmoothL1LossBackward0, for every beta >= 0 (beta = 0 included). */
export function smoothL1Loss(input: Tensor, target: Tensor, options?: SmoothL1Options): Tensor {
  return guard('smoothL1Loss', [input, target], () => {
    const reduction = reductionOf(options);
    const beta: unknown = options?.beta ?? 1;
    if (typeof beta !== 'number') fail('invalid-argument', `smooth_l1_loss(): argument 'beta' must be float, not ${typeName(beta)}`);
    if (beta < 0) fail('invalid-argument', 'smooth_l1_loss does not support negative values for beta.');
    return apply(OPS.smoothL1Loss, broadcastPair('smooth_l1_loss', input, target), { reduction, beta });
  });
}

const sizeText = (shape: readonly number[]) => `torch.Size([${shape.join(', ')}])`;

/**
 * `F.binary_cross_entropy`: one row, BinaryCrossEntropyBackward0, with gradients for input and
 * target. Input and target must have the same shape (1.13 refuses to broadcast them), and every
 * input element must lie in [0, 1].
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options?: LossOptions): Tensor {
  return guard('binaryCrossEntropy', [input, target], () => {
    const reduction = reductionOf(options);
    tensors('binary_cross_entropy', input, target);
    if (!sameShape(input.shape, target.shape)) {
      fail('invalid-argument', `Using a target size (${sizeText(target.shape)}) that is different to the input size (${sizeText(input.shape)}) is deprecated. Please ensure they have the same size.`);
    }
    return apply(OPS.binaryCrossEntropy, [input, target], { reduction, beta: 0 });
  });
}

/**
 * `F.binary_cross_entropy_with_logits`: one row, BinaryCrossEntropyWithLogitsBackward0, with
 * gradients for input and target. Input and target must have the same shape.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options?: LossOptions): Tensor {
  return guard('binaryCrossEntropyWithLogits', [input, target], () => {
    const reduction = reductionOf(options);
    tensors('binary_cross_entropy_with_logits', input, target);
    if (!sameShape(input.shape, target.shape)) {
      fail('invalid-argument', `Target size (${sizeText(target.shape)}) must be the same as input size (${sizeText(input.shape)})`);
    }
    return apply(OPS.binaryCrossEntropyWithLogits, [input, target], { reduction, beta: 0 });
  });
}

/**
 * `F.nll_loss(input, target)`: input [N, C] or [C], target int64 [N] or 0-d; one row, NllLossBackward0.
 * Inputs of more than 2 dims (1.13's NllLoss2dBackward0) are outside the reference engine.
 */
export function nllLoss(input: Tensor, target: Tensor, options?: LossOptions): Tensor {
  return guard('nllLoss', [input, target], () => {
    const reduction = reductionOf(options);
    tensors('nll_loss', input, target);
    if (input.ndim < 1 || input.ndim > 2) fail('invalid-argument', `nll_loss: inputs of ${input.ndim} dims are outside the reference engine (1 or 2 dims)`);
    if (input.ndim === 2 && (target.ndim !== 1 || target.shape[0] !== input.shape[0])) {
      fail('invalid-argument', `Expected input batch_size (${input.shape[0]}) to match target batch_size (${target.shape[0] ?? 1}).`);
    }
    if (input.ndim === 1 && target.ndim !== 0) fail('invalid-argument', `0D or 1D target tensor expected, multi-target not supported`);
    if (target.dtype !== 'int64') fail('invalid-argument', `expected scalar type Long but found ${scalarTypeName(target.dtype)}`);
    return apply(OPS.nllLoss, [input], { reduction, target });
  });
}

/**
 * `F.cross_entropy(input, target)` with int64 class targets: PyTorch 1.13 composes it,
 * nll_loss(log_softmax(input, 1), target) (dim 0 for a [C] input), so it records NllLossBackward0
 * over LogSoftmaxBackward0. Class-probability targets (a float target of the input's shape) are
 * outside the reference engine.
 */
export function crossEntropy(input: Tensor, target: Tensor, options?: LossOptions): Tensor {
  return guard('crossEntropy', [input, target], () => {
    const reduction = reductionOf(options);
    tensors('cross_entropy_loss', input, target, true);
    if (input.ndim < 1 || input.ndim > 2) fail('invalid-argument', `cross_entropy: inputs of ${input.ndim} dims are outside the reference engine (1 or 2 dims)`);
    if (target.dtype !== 'int64' && sameShape(input.shape, target.shape)) {
      fail('invalid-argument', 'cross_entropy: class-probability targets are outside the reference engine (int64 class targets only)');
    }
    return nllLoss(logSoftmax(input, input.ndim === 1 ? 0 : 1), target, { reduction });
  });
}
