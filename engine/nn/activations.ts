/*
 * The activations of `F` (torch.nn.functional): softplus, leakyRelu, elu, gelu, silu, softmax and
 * logSoftmax, each an op-table row or a composition of rows as PyTorch 1.13 records it. The
 * argument checks give PyTorch's messages; defaults are PyTorch's.
 */
import { apply } from '../dispatch.ts';
import { fail, guard, typeName } from '../errors.ts';
import { OPS } from '../ops.ts';
import { normalizeDim } from '../shape.ts';
import { Tensor } from '../tensor.ts';

function checkInput(x: unknown, op: string): asserts x is Tensor {
  if (!(x instanceof Tensor)) fail('invalid-argument', `${op}(): argument 'input' (position 1) must be Tensor, not ${typeName(x)}`);
}

/** PyTorch names the position of a positional option only (softplus's are keyword-only in its message). */
function checkOption(v: unknown, op: string, name: string, position?: number): asserts v is number {
  const where = position === undefined ? '' : ` (position ${position})`;
  if (typeof v !== 'number') fail('invalid-argument', `${op}(): argument '${name}'${where} must be Number, not ${typeName(v)}`);
}

/** `F.softplus(x, beta=1, threshold=20)`: log1p(exp(x·β))/β, and x itself where x·β > threshold. */
export function softplus(x: Tensor, options: { beta?: number; threshold?: number } = {}): Tensor {
  return guard('softplus', [x], () => {
    checkInput(x, 'softplus');
    const { beta = 1, threshold = 20 } = options;
    checkOption(beta, 'softplus', 'beta');
    checkOption(threshold, 'softplus', 'threshold');
    return apply(OPS.softplus, [x], { beta, threshold });
  });
}

/** `F.leaky_relu(x, negative_slope=0.01)`. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return guard('leakyRelu', [x], () => {
    checkInput(x, 'leaky_relu');
    checkOption(negativeSlope, 'leaky_relu', 'negative_slope', 2);
    return apply(OPS.leakyRelu, [x], { negativeSlope });
  });
}

/** `F.elu(x, alpha=1.0)`. */
export function elu(x: Tensor, alpha = 1): Tensor {
  return guard('elu', [x], () => {
    checkInput(x, 'elu');
    checkOption(alpha, 'elu', 'alpha', 2);
    return apply(OPS.elu, [x], { alpha });
  });
}

/** `F.gelu(x, approximate='none')`: x·Φ(x) with erf, or PyTorch's tanh approximation. */
export function gelu(x: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  return guard('gelu', [x], () => {
    checkInput(x, 'gelu');
    const { approximate = 'none' } = options;
    if (approximate !== 'none' && approximate !== 'tanh') fail('invalid-argument', 'approximate argument must be either none or tanh.');
    return apply(OPS.gelu, [x], { approximate });
  });
}

/** `F.silu(x)`: x·sigmoid(x), computed as x / (1 + exp(-x)). */
export function silu(x: Tensor): Tensor {
  return guard('silu', [x], () => {
    checkInput(x, 'silu');
    return apply(OPS.silu, [x], {});
  });
}

function softmaxDim(x: Tensor, dim: number, op: string): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim)) fail('invalid-argument', `${op}(): argument 'dim' must be an integer, not ${typeName(dim)}`);
  return normalizeDim(dim, x.ndim, op);
}

/** `F.softmax(x, dim)` and `x.softmax(dim)`: the dim is required (PyTorch's implicit choice is deprecated). */
export function softmax(x: Tensor, dim: number): Tensor {
  return guard('softmax', [x], () => {
    checkInput(x, 'softmax');
    return apply(OPS.softmax, [x], { dim: softmaxDim(x, dim, 'softmax') });
  });
}

/** `F.log_softmax(x, dim)` and `x.log_softmax(dim)`. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return guard('logSoftmax', [x], () => {
    checkInput(x, 'log_softmax');
    return apply(OPS.logSoftmax, [x], { dim: softmaxDim(x, dim, 'log_softmax') });
  });
}
