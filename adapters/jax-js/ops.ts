import { lax, nn, numpy as np } from '@jax-js/jax';
import type { Attrs, OpName } from '../../spec/program.ts';
import { notSupported } from './errors.ts';
import { viewFunction } from './views.ts';

/** An op operand: an array (consumed by the op, as jax-js's move semantics want) or a Python number. */
export type Operand = np.Array | number;

/** The op as a function of its operands, usable on plain arrays and on jax-js tracers alike. */
export type OpFunction = (args: Operand[]) => np.Array;

const tensor = (a: Operand | undefined): np.Array => a as np.Array;

/**
 * Each program op as the jax-js call a JAX user would write. `shape` is the first operand's
 * shape, needed only to spell PyTorch's `-1` in `expand` sizes the way broadcastTo wants them.
 */
export function opFunction(op: OpName, attrs: Attrs, shape: readonly number[]): OpFunction {
  switch (op) {
    // Binary ops take numbers on either side (`3 - t`, `2 ** t`) as jax-js weakly typed scalars.
    case 'add': return ([a, b]) => np.add(a!, b!);
    case 'sub': return ([a, b]) => np.subtract(a!, b!);
    case 'mul': return ([a, b]) => np.multiply(a!, b!);
    case 'div': return ([a, b]) => np.trueDivide(a!, b!);
    case 'pow': return ([a, b]) => np.power(a!, b!);
    case 'matmul': return ([a, b]) => np.matmul(a!, b!);
    case 'neg': return ([a]) => np.negative(tensor(a));
    case 'exp': return ([a]) => np.exp(tensor(a));
    case 'log': return ([a]) => np.log(tensor(a));
    case 'sin': return ([a]) => np.sin(tensor(a));
    case 'cos': return ([a]) => np.cos(tensor(a));
    case 'tan': return ([a]) => np.tan(tensor(a));
    case 'tanh': return ([a]) => np.tanh(tensor(a));
    case 'sigmoid': return ([a]) => nn.sigmoid(tensor(a));
    case 'relu': return ([a]) => nn.relu(tensor(a));
    case 'sqrt': return ([a]) => np.sqrt(tensor(a));
    case 'abs': return ([a]) => np.absolute(tensor(a));
    case 'reciprocal': return ([a]) => np.reciprocal(tensor(a));
    case 'log1p': return ([a]) => np.log1p(tensor(a));
    case 'expm1': return ([a]) => np.expm1(tensor(a));
    case 'erf': return ([a]) => lax.erf(tensor(a));
    case 'atan': return ([a]) => np.arctan(tensor(a));
    case 'asin': return ([a]) => np.arcsin(tensor(a));
    case 'acos': return ([a]) => np.arccos(tensor(a));
    case 'sinh': return ([a]) => np.sinh(tensor(a));
    case 'cosh': return ([a]) => np.cosh(tensor(a));
    case 'asinh': return ([a]) => np.arcsinh(tensor(a));
    case 'acosh': return ([a]) => np.arccosh(tensor(a));
    case 'atanh': return ([a]) => np.arctanh(tensor(a));
    // JAX's rsqrt is lax.rsqrt, which jax-js does not have; 1 / sqrt(x) would be the adapter's formula.
    case 'rsqrt': throw notSupported('rsqrt (jax-js has no lax.rsqrt)');
    case 'square': return ([a]) => np.square(tensor(a));
    case 'sign': return ([a]) => np.sign(tensor(a));
    case 'floor': return ([a]) => np.floor(tensor(a));
    case 'ceil': return ([a]) => np.ceil(tensor(a));
    // np.round with 0 decimals rounds half to even, as PyTorch's round does.
    case 'round': return ([a]) => np.round(tensor(a));
    case 'trunc': return ([a]) => np.trunc(tensor(a));
    case 'sum': case 'mean': case 'amax': case 'amin': {
      // PyTorch's dim=[] reduces over every dim; jax-js spells "every axis" as no axis.
      const axis = Array.isArray(attrs.dim) && attrs.dim.length === 0 ? undefined : attrs.dim;
      const keepdims = attrs.keepdim ?? false;
      const reduce = { sum: np.sum, mean: np.mean, amax: np.max, amin: np.min }[op];
      return ([a]) => reduce(tensor(a), axis, { keepdims });
    }
    case 'maximum': return ([a, b]) => np.maximum(tensor(a), tensor(b));
    case 'minimum': return ([a, b]) => np.minimum(tensor(a), tensor(b));
    // np.clip takes undefined for an open bound; with neither it is the identity, where PyTorch refuses.
    case 'clamp':
      if ((attrs.min ?? null) === null && (attrs.max ?? null) === null) throw notSupported('clamp without bounds (np.clip without bounds is the identity)');
      return ([a]) => np.clip(tensor(a), attrs.min ?? undefined, attrs.max ?? undefined);
    case 'clampMin': return ([a]) => np.clip(tensor(a), attrs.min!, undefined);
    case 'clampMax': return ([a]) => np.clip(tensor(a), undefined, attrs.max!);
    // jax-js's argmax gives int32 indices, outside the program format's dtypes.
    case 'argmax': case 'argmin': throw notSupported(`${op} (jax-js indices are int32)`);
    case 'max': return ([a]) => np.max(tensor(a));
    case 'min': return ([a]) => np.min(tensor(a));
    // jax-js arrays are values, not storage: view and reshape are the same operation.
    case 'reshape': case 'view': return ([a]) => np.reshape(tensor(a), attrs.shape ?? []);
    case 'expand': {
      const target = (attrs.shape ?? []).map((size, i) => {
        const existing = shape[i - ((attrs.shape ?? []).length - shape.length)];
        return size === -1 && existing !== undefined ? existing : size;
      });
      return ([a]) => np.broadcastTo(tensor(a), target);
    }
    case 'transpose': return ([a]) => np.swapaxes(tensor(a), attrs.dim0 ?? 0, attrs.dim1 ?? 1);
    // JAX's counterpart of t() is `.T`, which reverses the axes of an array of any rank.
    case 't': return ([a]) => np.transpose(tensor(a));
    case 'permute': return ([a]) => np.transpose(tensor(a), attrs.dims ?? []);
    case 'unsqueeze': return ([a]) => np.expandDims(tensor(a), attrs.dim as number);
    case 'squeeze': {
      // PyTorch's squeeze(dim) leaves a dim whose size is not 1 alone (and a 0-d tensor has a
      // dim 0 of size 1); numpy's squeeze refuses both, so those valid calls are the identity.
      // A dim out of range still goes to jax-js, which refuses it.
      const dim = attrs.dim as number | undefined;
      const size = dim === undefined ? 1 : shape.length === 0 && (dim === 0 || dim === -1) ? 0 : shape[dim < 0 ? dim + shape.length : dim];
      if (size === 0 || (size !== undefined && size !== 1)) return ([a]) => tensor(a);
      return ([a]) => np.squeeze(tensor(a), dim);
    }
    // Arrays are immutable, so a clone is the array itself (jax-js has no copy op).
    case 'clone': return ([a]) => tensor(a);
    // JAX's documented equivalent of detach().
    case 'detach': return ([a]) => lax.stopGradient(tensor(a));
    // jax's softplus has no beta and no threshold: only PyTorch's defaults map to it (the
    // threshold's switch to the identity changes a value by less than float64's tolerance).
    case 'softplus':
      if ((attrs.beta ?? 1) !== 1 || (attrs.threshold ?? 20) !== 20) throw notSupported('softplus with beta or threshold (jax-js has neither)');
      return ([a]) => nn.softplus(tensor(a));
    case 'leakyRelu': return ([a]) => nn.leakyRelu(tensor(a), attrs.negativeSlope ?? 0.01);
    case 'elu': return ([a]) => nn.elu(tensor(a), attrs.alpha ?? 1);
    // jax's gelu defaults to the tanh approximation; PyTorch's to erf.
    case 'gelu': return ([a]) => nn.gelu(tensor(a), { approximate: attrs.approximate === 'tanh' });
    case 'silu': return ([a]) => nn.silu(tensor(a));
    // PyTorch lets a 0-d tensor take dim 0 or -1 as if it were a vector of one element; numpy's
    // axes do not exist there. The same call on that vector, reshaped back to 0-d, is PyTorch's.
    case 'softmax': case 'logSoftmax': case 'logsumexp': {
      const dims = Array.isArray(attrs.dim) ? attrs.dim : [attrs.dim];
      const scalar = shape.length === 0 && dims.every((d) => d === 0 || d === -1);
      const f = op === 'softmax' ? (x: np.Array) => nn.softmax(x, attrs.dim as number)
        : op === 'logSoftmax' ? (x: np.Array) => nn.logSoftmax(x, attrs.dim as number)
          : (x: np.Array) => nn.logsumexp(x, attrs.dim, { keepdims: attrs.keepdim ?? false });
      return scalar ? ([a]) => np.reshape(f(np.reshape(tensor(a), [1])), []) : ([a]) => f(tensor(a));
    }
    case 'cat': return (xs) => np.concatenate(xs as np.Array[], (attrs.dim as number | undefined) ?? 0);
    case 'stack': return (xs) => np.stack(xs as np.Array[], (attrs.dim as number | undefined) ?? 0);
    case 'flip': return ([a]) => np.flip(tensor(a), attrs.dims ?? []);
    // numpy's roll: a shift per axis, or without axes one shift of the flattened array.
    case 'roll': return ([a]) => np.roll(tensor(a), attrs.shifts ?? [], attrs.dims);
    // numpy's tile is PyTorch's repeat (extra leading reps add leading dims).
    case 'repeat': return ([a]) => np.tile(tensor(a), attrs.sizes ?? []);
    case 'prod': return ([a]) => np.prod(tensor(a), attrs.dim as number | undefined, { keepdims: attrs.keepdim ?? false });
    case 'cumsum': return ([a]) => np.cumsum(tensor(a), attrs.dim as number);
    case 'cumprod': return ([a]) => np.cumprod(tensor(a), attrs.dim as number);
    // jax-js, like JAX, has no losses (JAX users take them from optax); a composition would be the adapter's.
    case 'mseLoss': case 'l1Loss': case 'smoothL1Loss': case 'binaryCrossEntropy': case 'binaryCrossEntropyWithLogits': case 'nllLoss': case 'crossEntropy': throw notSupported(`${op} (jax-js has no losses)`);
    case 'select': case 'narrow': case 'diagonal': case 'index': case 'contiguous': return viewFunction(op, attrs, shape);
    // Ops of several outputs: one function per piece (views.ts pieceFunction), bound by run-program.ts.
    case 'unbind': case 'split': case 'chunk': throw new Error(`${op} returns several arrays`);
    case 'gt': return ([a, b]) => np.greater(a!, b!);
    case 'ge': return ([a, b]) => np.greaterEqual(a!, b!);
    case 'lt': return ([a, b]) => np.less(a!, b!);
    case 'le': return ([a, b]) => np.lessEqual(a!, b!);
    case 'eq': return ([a, b]) => np.equal(a!, b!);
    case 'ne': return ([a, b]) => np.notEqual(a!, b!);
    case 'where': return ([c, a, b]) => np.where(c!, a!, b!);
    // The int64 index of the gather family cannot reach jax-js (int32 integers only: no int64 leaves).
    case 'indexSelect': case 'gather': case 'scatter': case 'scatterAdd': case 'indexAdd':
      throw notSupported(`${op} (its index is an int64 tensor; jax-js integers are int32)`);
    // masked_fill(mask, value) is where(mask, value, x).
    case 'maskedFill': return ([a, m, v]) => np.where(m!, v!, a!);
    // PyTorch's x.norm(p, dim) is a vector norm over the dims, jax's linalg.vectorNorm.
    case 'norm': {
      const axis = Array.isArray(attrs.dim) && attrs.dim.length === 0 ? undefined : attrs.dim;
      const ord = attrs.p === 'inf' ? Infinity : attrs.p ?? 2;
      return ([a]) => np.linalg.vectorNorm(tensor(a), { ord, ...(axis === undefined ? {} : { axis }), keepdims: attrs.keepdim ?? false });
    }
    case 'var': case 'std': {
      // PyTorch's dim=[] reduces over every dim; jax-js spells "every axis" as no axis.
      const axis = Array.isArray(attrs.dim) && attrs.dim.length === 0 ? undefined : attrs.dim;
      const opts = { keepdims: attrs.keepdim ?? false, correction: attrs.unbiased === false ? 0 : 1 };
      return op === 'var' ? ([a]) => np.var_(tensor(a), axis, opts) : ([a]) => np.std(tensor(a), axis, opts);
    }
  }
}
