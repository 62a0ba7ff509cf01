import * as tf from '@tensorflow/tfjs-core';
import type { Attrs, OpName } from '../../spec/program.ts';
import { notSupported } from './errors.ts';
import { applyView } from './views.ts';

/**
 * The program's ops as tfjs ops. Arguments are translated only where PyTorch and tfjs spell the
 * same thing differently (negative dims in a permutation, -1 in expand, vectors in matmul); every
 * check on shapes and dims is left to tfjs, so its refusals are what the harness sees.
 */
export function applyOp(op: OpName, args: (tf.Tensor | number)[], attrs: Attrs): tf.Tensor {
  const [a, b] = args.map((x) => (typeof x === 'number' ? tf.scalar(x) : x)) as [tf.Tensor, tf.Tensor];
  switch (op) {
    case 'add': return tf.add(a, b);
    case 'sub': return tf.sub(a, b);
    case 'mul': return tf.mul(a, b);
    case 'div': return tf.div(a, b);
    case 'pow': return tf.pow(a, b);
    case 'matmul': return matmul(a, b);
    case 'neg': return tf.neg(a);
    case 'exp': return tf.exp(a);
    case 'log': return tf.log(a);
    case 'sin': return tf.sin(a);
    case 'cos': return tf.cos(a);
    case 'tan': return tf.tan(a);
    case 'tanh': return tf.tanh(a);
    case 'sigmoid': return tf.sigmoid(a);
    case 'relu': return tf.relu(a);
    case 'sqrt': return tf.sqrt(a);
    case 'abs': return tf.abs(a);
    case 'reciprocal': return tf.reciprocal(a);
    case 'log1p': return tf.log1p(a);
    case 'expm1': return tf.expm1(a);
    case 'erf': return tf.erf(a);
    case 'atan': return tf.atan(a);
    case 'asin': return tf.asin(a);
    case 'acos': return tf.acos(a);
    case 'sinh': return tf.sinh(a);
    case 'cosh': return tf.cosh(a);
    case 'asinh': return tf.asinh(a);
    case 'acosh': return tf.acosh(a);
    case 'atanh': return tf.atanh(a);
    case 'rsqrt': return tf.rsqrt(a);
    case 'square': return tf.square(a);
    case 'sign': return tf.sign(a);
    case 'floor': return tf.floor(a);
    case 'ceil': return tf.ceil(a);
    // tfjs documents its round as banker's rounding (half to even), as PyTorch's.
    case 'round': return tf.round(a);
    // tfjs has no trunc op; a composition such as sign(x) * floor(|x|) would be the adapter's, not tfjs's.
    case 'trunc': throw notSupported('trunc (tfjs has no trunc op)');
    case 'sum': return tf.sum(a, axes(attrs.dim), attrs.keepdim ?? false);
    case 'mean': return tf.mean(a, axes(attrs.dim), attrs.keepdim ?? false);
    case 'maximum': return tf.maximum(a, b);
    case 'minimum': return tf.minimum(a, b);
    // tfjs's clipByValue takes both bounds; an open bound is ±Infinity. With neither, PyTorch's
    // refusal has no tfjs counterpart to compare.
    case 'clamp':
      if ((attrs.min ?? null) === null && (attrs.max ?? null) === null) throw notSupported('clamp without bounds (tfjs clipByValue takes both)');
      return tf.clipByValue(a, attrs.min ?? -Infinity, attrs.max ?? Infinity);
    case 'clampMin': return tf.clipByValue(a, attrs.min!, Infinity);
    case 'clampMax': return tf.clipByValue(a, -Infinity, attrs.max!);
    // tfjs's argMax gives int32 indices, outside the program format's dtypes.
    case 'argmax': case 'argmin': throw notSupported(`${op} (tfjs indices are int32)`);
    case 'max': return tf.max(a);
    case 'min': return tf.min(a);
    case 'amax': return tf.max(a, axes(attrs.dim), attrs.keepdim ?? false);
    case 'amin': return tf.min(a, axes(attrs.dim), attrs.keepdim ?? false);
    case 'reshape': case 'view': return tf.reshape(a, attrs.shape ?? []);
    case 'expand': return tf.broadcastTo(a, expandShape(a.shape, attrs.shape ?? []));
    case 'transpose': {
      // tfjs has no two-axis transpose: swap the two axes in an identity permutation.
      const [d0, d1] = tf.util.parseAxisParam([attrs.dim0 ?? 0, attrs.dim1 ?? 1], a.shape) as [number, number];
      const perm = a.shape.map((_, i) => i);
      [perm[d0], perm[d1]] = [d1, d0];
      return tf.transpose(a, perm);
    }
    // PyTorch's t() swaps the two axes of a matrix and leaves vectors and scalars alone; the
    // permutation [1, 0] makes tfjs refuse more than two dimensions, as PyTorch does.
    case 't': return a.rank < 2 ? tf.transpose(a) : tf.transpose(a, [1, 0]);
    // tfjs permutations take no negative axes; tfjs's own axis parser normalizes (and checks) them.
    case 'permute': return tf.transpose(a, tf.util.parseAxisParam(attrs.dims ?? [], a.shape));
    case 'unsqueeze': return tf.expandDims(a, attrs.dim as number);
    case 'squeeze': return attrs.dim === undefined ? tf.squeeze(a) : tf.squeeze(a, [attrs.dim as number]);
    case 'clone': return tf.clone(a);
    case 'detach': return stopGradient(a);
    // tfjs's activations have PyTorch's defaults fixed: other options are not supported.
    case 'softplus':
      if ((attrs.beta ?? 1) !== 1 || (attrs.threshold ?? 20) !== 20) throw notSupported('softplus with beta or threshold (tfjs has neither)');
      return tf.softplus(a);
    case 'leakyRelu': return tf.leakyRelu(a, attrs.negativeSlope ?? 0.01); // tfjs's own default slope is 0.2
    case 'elu':
      if ((attrs.alpha ?? 1) !== 1) throw notSupported('elu with alpha (tfjs has none)');
      return tf.elu(a);
    case 'gelu': throw notSupported('gelu (tfjs has no gelu op)');
    case 'silu': throw notSupported('silu (tfjs has no silu op)');
    case 'softmax': return scalarAsVector(a, attrs, (v, dim) => tf.softmax(v, dim as number));
    case 'logSoftmax': return scalarAsVector(a, attrs, (v, dim) => tf.logSoftmax(v, dim as number));
    case 'logsumexp': return scalarAsVector(a, attrs, (v, dim) => tf.logSumExp(v, dim, attrs.keepdim ?? false));
    case 'cat': return tf.concat(args as tf.Tensor[], (attrs.dim as number | undefined) ?? 0);
    case 'stack': return tf.stack(args as tf.Tensor[], (attrs.dim as number | undefined) ?? 0);
    case 'flip': return tf.reverse(a, attrs.dims ?? []);
    case 'roll': throw notSupported('roll (tfjs has no roll op)');
    // tf.tile takes one size per dim; PyTorch's extra leading sizes tile leading dims of 1.
    case 'repeat': {
      const sizes = attrs.sizes ?? [];
      const lead = sizes.length - a.rank;
      return tf.tile(lead > 0 ? tf.reshape(a, [...sizes.slice(0, lead).map(() => 1), ...a.shape]) : a, sizes);
    }
    case 'prod': return tf.prod(a, attrs.dim as number | undefined, attrs.keepdim ?? false);
    case 'cumsum': return tf.cumsum(a, attrs.dim as number);
    case 'cumprod': return tf.cumprod(a, attrs.dim as number);
    // tf.losses take (labels, predictions): the target first. Their default reduction is
    // SUM_BY_NONZERO_WEIGHTS, so the reduction is always passed.
    case 'mseLoss': return tf.losses.meanSquaredError(b, a, undefined, reduction(attrs));
    case 'l1Loss': return tf.losses.absoluteDifference(b, a, undefined, reduction(attrs));
    // huberLoss with delta d is d times smooth_l1_loss with beta d: the same loss only at beta = 1.
    case 'smoothL1Loss':
      if ((attrs.beta ?? 1) !== 1) throw notSupported('smoothL1Loss with beta other than 1 (tfjs has huberLoss, smooth L1 scaled by beta)');
      return tf.losses.huberLoss(b, a, undefined, 1, reduction(attrs));
    // tf.losses.logLoss clamps with epsilon 1e-7 (log(x + 1e-7)), not at -100: a different loss.
    // sigmoidCrossEntropy(labels, logits): max(x, 0) - x·y + log(1 + exp(-|x|)).
    case 'binaryCrossEntropyWithLogits': return tf.losses.sigmoidCrossEntropy(b, a, undefined, 0, reduction(attrs));
    // tfjs has no nll loss (softmaxCrossEntropy takes one-hot labels and logits).
    case 'nllLoss': throw notSupported('nllLoss (tfjs has no nll loss)');
    // softmaxCrossEntropy takes one-hot labels; the program's targets are int64 class indices, which
    // tfjs cannot hold (no int64), so no faithful one-hot can be made from them.
    case 'crossEntropy': throw notSupported('crossEntropy (tfjs softmaxCrossEntropy takes one-hot labels, not int64 class targets)');
    case 'binaryCrossEntropy': throw notSupported('binaryCrossEntropy (tfjs has logLoss, which adds 1e-7 inside the logs)');
    case 'select': case 'narrow': case 'diagonal': case 'index': case 'contiguous': return applyView(op, a, attrs);
    // Ops of several outputs run through applyPieces (run-program.ts binds one name per piece).
    case 'unbind': case 'split': case 'chunk': throw new Error(`${op} returns several tensors`);
    case 'gt': return tf.greater(a, b);
    case 'ge': return tf.greaterEqual(a, b);
    case 'lt': return tf.less(a, b);
    case 'le': return tf.lessEqual(a, b);
    case 'eq': return tf.equal(a, b);
    case 'ne': return tf.notEqual(a, b);
    // The int64 index of the gather family cannot reach tfjs (int32 only: int64 leaves are refused),
    // though tf.gather has index_select's meaning and tf.scatterND, tf.gatherND exist.
    case 'indexSelect': case 'gather': case 'scatter': case 'scatterAdd': case 'indexAdd':
      throw notSupported(`${op} (its index is an int64 tensor; tfjs has int32 only)`);
    // masked_fill(mask, value) is where(mask, value, x), broadcast as masked_fill broadcasts.
    case 'maskedFill': {
      const v = args[2];
      return tf.where(b, typeof v === 'number' ? tf.scalar(v) : v!, a);
    }
    // tf.where broadcasts its three operands, as torch.where does.
    case 'where': {
      const c = args[2];
      return tf.where(a, b, typeof c === 'number' ? tf.scalar(c) : c!);
    }
    // tf.norm is a vector norm over no axis (all elements) or one axis; over two axes it is a matrix norm.
    case 'norm': {
      const axis = axes(attrs.dim);
      if (Array.isArray(axis) && axis.length > 1) throw notSupported('norm over several dims (tfjs takes two axes as a matrix norm)');
      const ord = attrs.p === 'inf' ? Infinity : attrs.p === 1 ? 1 : 'euclidean';
      return tf.norm(a, ord, Array.isArray(axis) ? axis[0] : axis, attrs.keepdim ?? false);
    }
    // tfjs has no var or std: tf.moments gives the biased variance only, and anything else would
    // be the adapter's composition, not tfjs's.
    case 'var':
      if (attrs.unbiased === false) return tf.moments(a, axes(attrs.dim), attrs.keepdim ?? false).variance;
      throw notSupported('var with unbiased=True (tfjs has only the biased variance of tf.moments)');
    case 'std': throw notSupported('std (tfjs has no std op)');
  }
}

/**
 * PyTorch lets a 0-d tensor take dim 0 or -1 as if it were a vector of one element; tfjs's axes
 * do not exist there. The same call on that one-element vector, shaped back to 0-d, is what PyTorch computes.
 */
function scalarAsVector(a: tf.Tensor, attrs: Attrs, f: (v: tf.Tensor, dim: Attrs['dim']) => tf.Tensor): tf.Tensor {
  const dims = Array.isArray(attrs.dim) ? attrs.dim : [attrs.dim];
  if (a.rank > 0 || !dims.every((d) => d === 0 || d === -1)) return f(a, attrs.dim);
  return tf.reshape(f(tf.reshape(a, [1]), attrs.dim), []);
}

const REDUCTION = { mean: tf.Reduction.MEAN, sum: tf.Reduction.SUM, none: tf.Reduction.NONE } as const;
const reduction = (attrs: Attrs) => REDUCTION[attrs.reduction ?? 'mean'];

/** PyTorch 1.13 reduces over every dim for `dim=[]`; tfjs spells that as no axis (its `[]` reduces nothing). */
const axes = (dim: number | number[] | undefined) => (Array.isArray(dim) && dim.length === 0 ? undefined : dim);

/**
 * PyTorch's matmul on tfjs's matMul, which takes rank >= 2 only: as PyTorch's documentation
 * defines it, a vector operand gets a dimension of 1 (prepended on the left, appended on the
 * right) that is removed from the result.
 */
function matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const left = a.rank === 1 ? tf.expandDims(a, 0) : a;
  const right = b.rank === 1 ? tf.expandDims(b, 1) : b;
  let out = tf.matMul(left, right);
  if (a.rank === 1) out = tf.squeeze(out, [out.rank - 2]);
  if (b.rank === 1) out = tf.squeeze(out, [out.rank - 1]);
  return out;
}

/** PyTorch's expand sizes for tfjs's broadcastTo: -1 keeps the size of the aligned existing dimension. */
function expandShape(shape: readonly number[], sizes: readonly number[]): number[] {
  const lead = sizes.length - shape.length;
  return sizes.map((s, i) => (s === -1 && i >= lead ? shape[i - lead]! : s));
}

/**
 * tfjs has no stop_gradient (tensorflow/tfjs#967, #7438). Its documented workaround is an
 * identity with a custom zero gradient: the value passes, no gradient flows back. Unlike
 * PyTorch's detach, the result stays connected to its input, with a zero gradient.
 */
const stopGradient = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;
