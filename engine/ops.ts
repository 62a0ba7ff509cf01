import type { DType } from '../spec/program.ts';
import { apply, resultDtype, scalarTypeName, type OpDef, type Rule } from './dispatch.ts';
import { fail } from './errors.ts';
import { alloc, kernels, rounder, type Result } from './kernels.ts';
import { contiguousGeometry, diagonalGeometry, dropDims, expandGeometry, permuteGeometry, positions, selectGeometry, sliceGeometry, unsqueezeGeometry, viewGeometry, type Geometry } from './geometry.ts';
import { extractAt, embedAt, replaceAt, putAt } from './view-rules.ts';
import { broadcastShapes, broadcastStrides, stridesOf, type Shape } from './shape.ts';
import { Tensor } from './tensor.ts';
import { type None, none, isFloat, floatResult, noBool, notForBool, SUB_BOOL, SUB_BOOLS, wrapped, intPow, unary, binary, comparison, where, mask, maskZip, nonzero, zerosLike, constantLike, constantZip, erf, zerosOf } from './op-helpers.ts';
import { type SelectAttrs, type ArgAttrs, type IndexAttrs, indexMask, type ClampAttrs, selectForward, argSelectForward, keptResult, halfAtTies, clampValue, clampMask } from './selection-rules.ts';
import { type IndexSelectAttrs, type GatherAttrs, type ScatterAttrs, type ScatterValueAttrs, type IndexAddAttrs, checkSrcGradient, indexSelectForward, gatherForward, scatterForward, indexAddForward } from './index-rules.ts';
import { type SoftplusAttrs, type SlopeAttrs, type AlphaAttrs, type GeluAttrs, type LogsumexpAttrs, softplusForward, geluForward, softmaxForward, logsumexpForward, softplusBackward, leakyReluBackward, eluBackward, geluBackward } from './activation-rules.ts';
import { type LossAttrs, type NllAttrs, lossForward, lossNorm, smoothL1Grad, BCE_EPSILON, BCE_EPS, meanOf, bceForward, bceWithLogitsForward, nllPicks } from './loss-rules.ts';
import { type CatAttrs, type StackAttrs, type FlipAttrs, type RollAttrs, type RepeatAttrs, catForward, stackForward, flipForward, rollForward, repeatForward, repeatBackward } from './join-rules.ts';
import { type ShiftAttrs, type NormAttrs, type ProdAttrs, moment, normBackward, reversedCumsum, othersProduct, cumprodWithZeros } from './statistic-rules.ts';

/*
 * THE op table. One row per primitive: PyTorch 1.13's grad_fn name, the forward on data, and one
 * vector-Jacobian rule per tensor input, written with tensor ops so higher derivatives work.
 * Broadcast reduction and dtype casts of the gradients happen once, in dispatch.ts.
 * Composite ops (matmul, the reflected scalar forms) are built from these rows in functional.ts.
 * What the rows are made of lives beside the table, one family per file: op-helpers.ts (row
 * factories, dtype rules, masks), selection-rules.ts, statistic-rules.ts, activation-rules.ts and
 * loss-rules.ts (forwards and backward formulas too long for a row).
 */

export interface ReduceAttrs { dims: number[]; keepdim: boolean; inputShape: number[] }
export interface ShapeAttrs { shape: number[] }
export interface PermuteAttrs { dims: number[]; name: string }
export interface PowAttrs { exponent: number }
export interface ScalarAttrs { value: number }
export interface DtypeAttrs { dtype: DType }
export interface DimAttrs { dim: number }
export interface SqueezeAttrs { dims: number[]; name: string; inputShape: number[] }
export interface SelectViewAttrs { dim: number; index: number; name: string; inputShape: number[] }
export interface SliceAttrs { dim: number; start: number; stop: number; step: number; name: string; inputShape: number[] }
export interface DiagonalAttrs { offset: number; dim1: number; dim2: number; inputShape: number[] }
/** Flat positions in a contiguous tensor of `inputShape`, read into a tensor of `shape`. */
export interface AtAttrs { at: Float64Array; shape: number[]; inputShape: number[]; name?: string }
export interface PutAttrs { at: Float64Array; shape: number[]; accumulate: boolean; dtype: DType }
export interface EmbedAttrs { at: Float64Array; shape: number[]; inputShape: number[] }
export interface ReplaceAttrs { at: Float64Array; srcShape: number[] }

export function reduceForward(x: Tensor, a: ReduceAttrs, dtype: DType, mean: boolean): Result {
  const r = kernels.sum(x.data, x.shape, a.dims, dtype);
  if (mean) {
    const count = a.dims.reduce((n, d) => n * x.shape[d]!, 1);
    for (let i = 0; i < r.data.length; i++) r.data[i] = r.data[i]! / count;
  }
  return { shape: a.keepdim ? r.shape : x.shape.filter((_, i) => !a.dims.includes(i)), data: r.data };
}

/** Gradient of a sum over dims: put the reduced dims back, then expand to the input's shape. */
function unreduce(g: Tensor, inputShape: Shape, a: ReduceAttrs): Tensor {
  let r = g;
  if (!a.keepdim) for (const d of [...a.dims].sort((p, q) => p - q)) r = r.unsqueeze(d);
  return r.expand([...inputShape]);
}

/** A constant tensor of zeros (outside the graph): the start of the gather family's backward sums. */

const copyAs = (x: Tensor, shape: number[], dtype: DType): Result => ({
  shape,
  data: dtype === x.dtype ? x.data.slice() : kernels.map(x.data, x.shape, dtype, (v) => v).data,
});


/** 2/√π as a double, the constant of erf's derivative. */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** -1, 0 or 1; 0 at -0 and at nan, as PyTorch's sgn and sign give. */
const signum = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0);

/** Rounds half to even, as PyTorch's round does: 2.5 is 2, -0.5 is -0, 1.5 is 2. */
function roundHalfEven(x: number): number {
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
}

export const OPS = {
  // ----- elementwise, one input -----
  neg: unary('NegBackward0', (x) => -x, { saves: none, vjp: (g) => g.neg() },
    noBool('Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.')),
  exp: unary('ExpBackward0', Math.exp, { saves: ['result'], vjp: (g, s) => g.mul(s.result) }),
  log: unary('LogBackward0', Math.log, { saves: ['self'], vjp: (g, s) => g.div(s.self) }),
  sin: unary('SinBackward0', Math.sin, { saves: ['self'], vjp: (g, s) => g.mul(s.self.cos()) }),
  cos: unary('CosBackward0', Math.cos, { saves: ['self'], vjp: (g, s) => g.mul(s.self.sin().neg()) }),
  tan: unary('TanBackward0', Math.tan, { saves: ['result'], vjp: (g, s) => g.mul(s.result.mul(s.result).add(1)) }),
  tanh: unary('TanhBackward0', Math.tanh, { saves: ['result'], vjp: (g, s) => g.mul(s.result.mul(s.result).rsub(1)) }),
  sigmoid: {
    gradFn: 'SigmoidBackward0',
    dtype: floatResult,
    // float32 kernels overflow exp(-x) to inf for x < -88, giving exactly 0 as PyTorch does.
    forward: ([x], _a, dtype) => kernels.map(x!.data, x!.shape, dtype,
      dtype === 'float32' ? (v) => 1 / (1 + Math.fround(Math.exp(-v))) : (v) => 1 / (1 + Math.exp(-v))),
    grads: [{ saves: ['result'], vjp: (g, s) => g.mul(s.result.mul(s.result.rsub(1))) }],
  } satisfies OpDef<None>,
  // relu'(0) = 0: the gradient is zeroed where result <= 0 (op.relu.kink), so at nan it passes, as in
  // PyTorch. relu(-0) is -0, as in PyTorch.
  relu: unary('ReluBackward0', (x) => (x < 0 ? 0 : x), {
    saves: ['result'], vjp: (g, s) => g.thresholdBackward(s.result),
  }, noBool('Boolean inputs not supported for relu')),
  // sqrt'(0) = inf, as g / (2 * result) gives (op.sqrt.zero).
  sqrt: unary('SqrtBackward0', Math.sqrt, { saves: ['result'], vjp: (g, s) => g.div(s.result.mul(2)) }),
  // abs'(0) = 0: the sign of 0 is 0 (op.abs.kink).
  // abs'(0) = 0: sgn(0) is 0 (op.abs.kink). abs'(nan) = 0 too: PyTorch's sgn(nan) is 0.
  abs: unary('AbsBackward0', Math.abs, { saves: ['self'], vjp: (g, s) => g.mul(s.self.sgn()) }, notForBool('abs_cpu')),
  sgn: unary('SgnBackward0', signum, { saves: ['self'], vjp: (_g, s) => zerosLike(s.self) }, ([x]) => x!.dtype),
  /** relu's backward as its own op, so that the gradient of a gradient is defined (and zero). */
  thresholdBackward: binary('ThresholdBackwardBackward0', (g, r) => (r <= 0 ? 0 : g),
    { saves: ['other'], vjp: (g, s) => g.thresholdBackward(s.other) },
    { saves: ['other'], vjp: (_g, s) => zerosLike(s.other) }),
  reciprocal: unary('ReciprocalBackward0', (x) => 1 / x, {
    saves: ['result'], vjp: (g, s) => g.mul(s.result.mul(s.result)).neg(),
  }),
  // The rules below follow PyTorch 1.13's derivatives.yaml, in its order of operations, so that
  // nan and inf come out where PyTorch's do (log1p's gradient at -2.5 is finite, acosh's at 0 nan).
  log1p: unary('Log1PBackward0', Math.log1p, { saves: ['self'], vjp: (g, s) => g.div(s.self.add(1)) }),
  expm1: unary('Expm1Backward0', Math.expm1, { saves: ['result'], vjp: (g, s) => g.mul(s.result.add(1)) }),
  // (2/√π)·exp(-t²)·g: exactly 0 where exp(-t²) underflows in the dtype, as in PyTorch.
  erf: unary('ErfBackward0', erf, { saves: ['self'], vjp: (g, s) => s.self.powScalar(2).neg().exp().mul(TWO_OVER_SQRT_PI).mul(g) }),
  atan: unary('AtanBackward0', Math.atan, { saves: ['self'], vjp: (g, s) => g.div(s.self.mul(s.self).add(1)) }),
  asin: unary('AsinBackward0', Math.asin, { saves: ['self'], vjp: (g, s) => g.mul(s.self.neg().mul(s.self).add(1).rsqrt()) }),
  acos: unary('AcosBackward0', Math.acos, { saves: ['self'], vjp: (g, s) => g.mul(s.self.neg().mul(s.self).add(1).rsqrt().neg()) }),
  sinh: unary('SinhBackward0', Math.sinh, { saves: ['self'], vjp: (g, s) => g.mul(s.self.cosh()) }),
  cosh: unary('CoshBackward0', Math.cosh, { saves: ['self'], vjp: (g, s) => g.mul(s.self.sinh()) }),
  asinh: unary('AsinhBackward0', Math.asinh, { saves: ['self'], vjp: (g, s) => g.mul(s.self.powScalar(2).add(1).rsqrt()) }),
  acosh: unary('AcoshBackward0', Math.acosh, { saves: ['self'], vjp: (g, s) => g.mul(s.self.powScalar(2).sub(1).rsqrt()) }),
  atanh: unary('AtanhBackward0', Math.atanh, { saves: ['self'], vjp: (g, s) => g.mul(s.self.powScalar(2).rsub(1).reciprocal()) }),
  // rsqrt(-0) is -inf, as 1 / sqrt(-0) gives; its gradient -0.5 · g · r³ is then inf.
  rsqrt: unary('RsqrtBackward0', (x) => 1 / Math.sqrt(x), { saves: ['result'], vjp: (g, s) => g.mul(-0.5).mul(s.result.powScalar(3)) }),
  // Piecewise constant: the gradient is 0 everywhere, at the jumps, at nan and at ±inf too.
  sign: unary('SignBackward0', signum, { saves: none, vjp: (g) => zerosLike(g) }, ([x]) => x!.dtype),
  floor: unary('FloorBackward0', Math.floor, { saves: none, vjp: (g) => zerosLike(g) }, notForBool('floor_vml_cpu')),
  ceil: unary('CeilBackward0', Math.ceil, { saves: none, vjp: (g) => zerosLike(g) }, notForBool('ceil_vml_cpu')),
  round: unary('RoundBackward0', roundHalfEven, { saves: none, vjp: (g) => zerosLike(g) }, notForBool('round_vml_cpu')),
  trunc: unary('TruncBackward0', Math.trunc, { saves: none, vjp: (g) => zerosLike(g) }, notForBool('trunc_vml_cpu')),

  // ----- elementwise, two inputs (broadcasting) -----
  add: binary('AddBackward0', (x, y) => x + y, { saves: none, vjp: (g) => g }, { saves: none, vjp: (g) => g }),
  sub: binary('SubBackward0', (x, y) => x - y, { saves: none, vjp: (g) => g }, { saves: none, vjp: (g) => g.neg() }, (inputs) => {
    const bools = inputs.filter((t) => t.dtype === 'bool').length;
    if (bools > 0) fail('invalid-argument', bools === 2 ? SUB_BOOLS : SUB_BOOL);
    return resultDtype(inputs);
  }),
  mul: binary('MulBackward0', (x, y) => x * y,
    { saves: ['other'], vjp: (g, s) => g.mul(s.other) },
    { saves: ['self'], vjp: (g, s) => g.mul(s.self) }),
  div: binary('DivBackward0', (x, y) => x / y,
    { saves: ['other'], vjp: (g, s) => g.div(s.other) },
    { saves: ['self', 'other'], vjp: (g, s) => g.neg().mul(s.self).div(s.other.mul(s.other)) },
    // True division: int64 / int64 is float32.
    (inputs) => { const d = resultDtype(inputs); return isFloat(d) ? d : 'float32'; }),
  // pow with a tensor exponent. d/dx is 0 where the exponent is 0; d/dy is 0 where x = 0 and y >= 0
  // (op.pow.zero-base), masks PyTorch applies so that 0 ** y stays differentiable.
  pow: {
    gradFn: 'PowBackward1',
    dtype: (inputs) => {
      if (inputs.every((t) => t.dtype === 'bool')) fail('invalid-argument', `"pow" not implemented for 'Bool'`);
      return resultDtype(inputs);
    },
    forward: ([a, b], _a, dtype) => kernels.zip(a!.data, a!.shape, b!.data, b!.shape, dtype, dtype === 'int64' ? intPow : Math.pow),
    grads: [
    {
      saves: ['self', 'other'],
      vjp: (g, s) => where(mask(s.other, (y) => y === 0), 0, g.mul(s.other.mul(s.self.pow(s.other.sub(1))))),
    },
    {
      saves: ['self', 'other', 'result'],
      // The mask sits inside the product, as in PyTorch: a nan incoming gradient stays nan at a
      // masked element (its second derivative at x = 0, y = 2 is nan, not 0).
      vjp: (g, s) => g.mul(where(maskZip(s.self, s.other, (x, y) => x === 0 && y >= 0), 0, s.result.mul(s.self.log()))),
    }],
  } satisfies OpDef<None>,

  // ----- a number exponent, a reflected scalar, masks -----
  powScalar: {
    gradFn: 'PowBackward0',
    dtype: ([x], a: PowAttrs) => {
      if (isFloat(x!.dtype)) return x!.dtype; // a number never changes a float tensor's dtype
      const d = resultDtype([x!, wrapped(a.exponent)]);
      if (!isFloat(d) && a.exponent < 0) fail('invalid-argument', 'Integers to negative integer powers are not allowed.');
      return d;
    },
    forward: ([x], a: PowAttrs, dtype) => kernels.map(x!.data, x!.shape, dtype, (v) => (dtype === 'int64' ? intPow : Math.pow)(v, a.exponent)),
    grads: [{
      saves: ['self'],
      // Exponent 0 still reads self (for its shape), as PyTorch does, so a freed graph is noticed.
      vjp: (g, s, a) => (a.exponent === 0 ? zerosLike(s.self) : g.mul(s.self.powScalar(a.exponent - 1).mul(a.exponent))),
    }],
  } satisfies OpDef<PowAttrs>,
  /** A tensor times a C++ Scalar, as backward formulas write `2.0 * grad` (MulBackward1). */
  mulScalar: {
    gradFn: 'MulBackward1',
    forward: ([x], a: ScalarAttrs, dtype) => {
      const c = dtype === 'float32' ? Math.fround(a.value) : a.value; // the Scalar is cast to the dtype first
      return kernels.map(x!.data, x!.shape, dtype, (v) => v * c);
    },
    grads: [{ saves: none, vjp: (g, _s, a) => g.mulScalar(a.value) }],
  } satisfies OpDef<ScalarAttrs>,
  rsub: {
    gradFn: 'RsubBackward1',
    dtype: ([x], a: ScalarAttrs) => {
      if (x!.dtype === 'bool') fail('invalid-argument', SUB_BOOL);
      return isFloat(x!.dtype) ? x!.dtype : resultDtype([x!, wrapped(a.value)]);
    },
    forward: ([x], a: ScalarAttrs, dtype) => kernels.map(x!.data, x!.shape, dtype, (v) => a.value - v),
    grads: [{ saves: none, vjp: (g) => g.neg() }],
  } satisfies OpDef<ScalarAttrs>,
  /**
   * where(condition, a, b): a where the bool condition is true, b elsewhere, broadcasting all
   * three; the condition is a constant (input 0, saved, not among the next functions). The
   * gradients are where(condition, g, 0) and where(condition, 0, g), as derivatives.yaml says:
   * a nan or inf in g reaches the branch that was not taken as 0, but a nan that g holds at a
   * taken element stays (op.where.nan-trap).
   */
  where: {
    gradFn: 'WhereBackward0',
    constants: 1,
    dtype: ([, a, b]) => resultDtype([a!, b!]),
    forward: ([c, a, b], _a, dtype) => {
      const shape = broadcastShapes(broadcastShapes(c!.shape, a!.shape), b!.shape);
      const [cs, as, bs] = [c!, a!, b!].map((t) => kernels.gather(t.data, shape, broadcastStrides(t.shape, shape), t.dtype === 'float32' ? 'float32' : 'float64').data);
      const data = alloc(dtype, cs!.length);
      for (let i = 0; i < data.length; i++) data[i] = cs![i] !== 0 ? as![i]! : bs![i]!;
      return { shape, data };
    },
    grads: [
      { saves: ['self'], vjp: (g, s) => where(s.self, g, 0) },
      { saves: ['self'], vjp: (g, s) => where(s.self, 0, g) },
    ],
  } satisfies OpDef<None>,
  /**
   * masked_fill: `value` where the constant bool mask (input 0, broadcast with self) is true. The
   * gradient of self is g with the masked places set to 0, exactly 0 even where g is inf or nan.
   */
  maskedFill: {
    gradFn: 'MaskedFillBackward0',
    constants: 1,
    dtype: ([, x]) => x!.dtype,
    forward: ([m, x], a: ScalarAttrs, dtype) => kernels.zip(x!.data, x!.shape, m!.data, m!.shape, dtype, (v, k) => (k !== 0 ? a.value : v)),
    grads: [{ saves: ['self'], vjp: (g, s) => g.maskedFill(s.self, 0) }],
  } satisfies OpDef<ScalarAttrs>,
  /** masked_fill with a 0-d tensor value (MaskedFillBackward1): the value's gradient is the sum of g over the masked places. */
  maskedFillTensor: {
    gradFn: 'MaskedFillBackward1',
    constants: 1,
    dtype: ([, x]) => x!.dtype,
    forward: ([m, x, v], _a, dtype) => kernels.zip(x!.data, x!.shape, m!.data, m!.shape, dtype, (e, k) => (k !== 0 ? v!.data[0]! : e)),
    grads: [
      { saves: ['self'], vjp: (g, s) => g.maskedFill(s.self, 0) },
      { saves: ['self'], vjp: (g, s) => where(s.self, g, 0).sum() },
    ],
  } satisfies OpDef<None>,

  // ----- the gather family (engine/index-rules.ts): the int64 index is input 0, a constant that
  // the rules read as `self`; the tensor the op indexes is `other`, a src or source `third` -----
  // index_select's backward is zeros(self's shape).index_add_(dim, index, g): duplicates add up.
  indexSelect: {
    gradFn: 'IndexSelectBackward0',
    constants: 1,
    dtype: ([, x]) => x!.dtype,
    forward: ([i, x], a: IndexSelectAttrs, dtype) => indexSelectForward(x!, a.dim, i!, dtype),
    grads: [{ saves: ['self'], vjp: (g, s, a) => zerosOf(a.inputShape, g.dtype).indexAdd(a.dim, s.self, g) }],
  } satisfies OpDef<IndexSelectAttrs>,
  // gather_backward: zeros_like(self).scatter_add(dim, index, g); PyTorch saves self for its shape.
  gather: {
    gradFn: 'GatherBackward0',
    constants: 1,
    dtype: ([, x]) => x!.dtype,
    forward: ([i, x], a: GatherAttrs, dtype) => gatherForward(x!, a.dim, i!, dtype),
    grads: [{ saves: ['self', 'other'], vjp: (g, s, a) => zerosOf(s.other.shape, g.dtype).scatterAdd(a.dim, s.self, g) }],
  } satisfies OpDef<GatherAttrs>,
  // self: g.scatter(dim, index, 0); src: g.gather(dim, index), which every src element that an
  // index points at receives, also one whose write another write to its place overwrote.
  scatter: {
    gradFn: 'ScatterBackward0',
    constants: 1,
    dtype: ([, x]) => x!.dtype,
    forward: ([i, x, src], a: ScatterAttrs, dtype) => scatterForward(x!, a.dim, i!, src!, false, dtype),
    grads: [
      { saves: ['self'], vjp: (g, s, a) => g.scatter(a.dim, s.self, 0) },
      { saves: ['self'], vjp: (g, s, a) => checkSrcGradient(g.gather(a.dim, s.self), a) },
    ],
  } satisfies OpDef<ScatterAttrs>,
  scatterValue: {
    gradFn: 'ScatterBackward1',
    constants: 1,
    dtype: ([, x]) => x!.dtype,
    forward: ([i, x], a: ScatterValueAttrs, dtype) => scatterForward(x!, a.dim, i!, a.value, false, dtype),
    grads: [{ saves: ['self'], vjp: (g, s, a) => g.scatter(a.dim, s.self, 0) }],
  } satisfies OpDef<ScatterValueAttrs>,
  scatterAdd: {
    gradFn: 'ScatterAddBackward0',
    constants: 1,
    dtype: ([, x]) => x!.dtype,
    forward: ([i, x, src], a: ScatterAttrs, dtype) => scatterForward(x!, a.dim, i!, src!, true, dtype),
    grads: [
      { saves: none, vjp: (g) => g },
      { saves: ['self'], vjp: (g, s, a) => checkSrcGradient(g.gather(a.dim, s.self), a) },
    ],
  } satisfies OpDef<ScatterAttrs>,
  // source: g.index_select(dim, index) expanded as source (index.squeeze(0) for a 0-d source),
  // times alpha unless alpha is 1 (maybe_multiply); PyTorch saves source for its shape.
  indexAdd: {
    gradFn: 'IndexAddBackward0',
    constants: 1,
    dtype: ([, x]) => x!.dtype,
    forward: ([i, x, source], a: IndexAddAttrs, dtype) => indexAddForward(x!, a.dim, i!, source!, a.alpha, dtype),
    grads: [
      { saves: none, vjp: (g) => g },
      {
        saves: ['self', 'third'],
        vjp: (g, s, a) => {
          const picked = s.third.ndim > 0 ? g.indexSelect(a.dim, s.self).expand([...s.third.shape]) : g.indexSelect(a.dim, s.self.squeeze(0));
          return a.alpha === 1 ? picked : picked.mulScalar(a.alpha);
        },
      },
    ],
  } satisfies OpDef<IndexAddAttrs>,
  // ----- comparisons: bool results, constants of the graph (never recorded) -----
  gt: comparison((x, y) => x > y),
  ge: comparison((x, y) => x >= y),
  lt: comparison((x, y) => x < y),
  le: comparison((x, y) => x <= y),
  eq: comparison((x, y) => x === y),
  ne: comparison((x, y) => x !== y),
  /** zero_ and fill_: every element becomes `value`; the old values get no gradient. */
  fill: {
    gradFn: (_x, a: ScalarAttrs & { name: string }) => a.name,
    forward: ([x], a: ScalarAttrs & { name: string }, dtype) => kernels.map(x!.data, x!.shape, dtype, () => a.value),
    grads: [{ saves: none, vjp: (g) => zerosLike(g) }],
  } satisfies OpDef<ScalarAttrs & { name: string }>,
  to: {
    gradFn: 'ToCopyBackward0',
    dtype: (_x, a: DtypeAttrs) => a.dtype,
    forward: ([x], a: DtypeAttrs) => copyAs(x!, [...x!.shape], a.dtype),
    grads: [{ saves: none, vjp: (g) => g }],
  } satisfies OpDef<DtypeAttrs>,

  // ----- reductions -----
  sum: reduction('SumBackward0', false, none),
  sumDim: reduction('SumBackward1', false, none),
  mean: reduction('MeanBackward0', true, none),
  // PyTorch 1.13's MeanBackward1 saves self, so a second backward through it fails.
  meanDim: reduction('MeanBackward1', true, ['self']),

  // ----- products and running sums and products (op.prod, op.cumsum, op.cumprod) -----
  // prod_backward of PyTorch 1.13: without zeros g · result / self (inf/inf is nan there); with one
  // zero the products of the others (prod_safe_zeros_backward); with several zeros in the whole
  // input a constant zero tensor, outside the graph, so its second derivative is 0 (op.prod.zeros).
  prod: {
    gradFn: 'ProdBackward0',
    forward: ([x], _a, dtype) => kernels.prod(x!.data, x!.shape, null, dtype),
    grads: [{
      saves: ['self', 'result'],
      vjp: (g, s) => {
        const x = s.self;
        if (x.ndim === 0) return g;
        const zeros = x.data.filter((v) => v === 0).length;
        if (zeros === 0) return g.mul(s.result.div(x));
        if (zeros > 1) return zerosLike(x);
        return othersProduct(g, x.view([-1]), 0).view([...x.shape]);
      },
    }],
  } satisfies OpDef<ProdAttrs>,
  // With a dim, any zero anywhere in the input takes the products-of-the-others path for every
  // slice, and that path stays differentiable: its second derivative is exact even at two zeros.
  prodDim: {
    gradFn: 'ProdBackward1',
    forward: ([x], a: ProdAttrs, dtype) => {
      const r = kernels.prod(x!.data, x!.shape, x!.ndim === 0 ? null : a.dim, dtype);
      return { shape: a.keepdim || x!.ndim === 0 ? r.shape : r.shape.filter((_, i) => i !== a.dim), data: r.data };
    },
    grads: [{
      saves: ['self', 'result'],
      vjp: (g, s, a) => {
        const x = s.self;
        if (x.ndim === 0) return g;
        const dim = a.dim!;
        // PyTorch 1.13 returns a gradient of the input's shape for 1-D inputs too ([0.].prod(0) gives [1.]).
        const unsqueeze = !a.keepdim;
        const grad = unsqueeze ? g.unsqueeze(dim) : g;
        const result = unsqueeze ? s.result.unsqueeze(dim) : s.result;
        if (!x.data.includes(0)) return grad.mul(result.div(x));
        return othersProduct(grad, x, dim);
      },
    }],
  } satisfies OpDef<ProdAttrs>,
  cumsum: {
    gradFn: 'CumsumBackward0',
    forward: ([x], a: DimAttrs, dtype) => kernels.scan(x!.data, x!.shape, a.dim, dtype, 'sum'),
    grads: [{ saves: none, vjp: (g, _s, a) => (g.numel() <= 1 || g.shape[a.dim] === 1 ? g : reversedCumsum(g, a.dim)) }],
  } satisfies OpDef<DimAttrs>,
  // cumprod_backward of PyTorch 1.13: without zeros the reversed cumulative sum of g · result,
  // divided by self; with zeros dy_j/dx_k is the running product with x_k left out (j >= k).
  cumprod: {
    gradFn: 'CumprodBackward0',
    forward: ([x], a: DimAttrs, dtype) => kernels.scan(x!.data, x!.shape, a.dim, dtype, 'prod'),
    grads: [{
      saves: ['self', 'result'],
      vjp: (g, s, a) => {
        const x = s.self;
        if (x.numel() <= 1 || x.shape[a.dim] === 1) return g;
        if (!x.data.includes(0)) return reversedCumsum(s.result.mul(g), a.dim).div(x);
        return cumprodWithZeros(g, x, a.dim);
      },
    }],
  } satisfies OpDef<DimAttrs>,
  // ----- joining and repeating: index maps (join-rules.ts), whose adjoints move g back -----
  // cat_tensors_backward: each input's part of g, g.narrow(dim, offset, size); a skipped 1-d empty input gets zeros([0]).
  cat: {
    gradFn: 'CatBackward0',
    forward: (xs, a: CatAttrs, dtype) => catForward(xs, a, dtype),
    grads: [], // one rule per input, made per call by catRules: the row takes a list
  } satisfies OpDef<CatAttrs>,
  // unbind(grad, dim): input i's gradient is g.select(dim, i).
  stack: {
    gradFn: 'StackBackward0',
    forward: (xs, a: StackAttrs, dtype) => stackForward(xs, a, dtype),
    grads: [], // one rule per input, made per call by stackRules
  } satisfies OpDef<StackAttrs>,
  /** torch.flip over a list of dims: its own adjoint (flipDim of the backward rules is flip([dim])). */
  flip: {
    gradFn: 'FlipBackward0',
    forward: ([x], a: FlipAttrs, dtype) => flipForward(x!, a, dtype),
    grads: [{ saves: none, vjp: (g, _s, a) => g.flip(a.dims) }],
  } satisfies OpDef<FlipAttrs>,
  // grad.roll(-shifts reversed, dims reversed); without dims the flattened tensor rolls back.
  roll: {
    gradFn: 'RollBackward0',
    forward: ([x], a: RollAttrs, dtype) => rollForward(x!, a, dtype),
    grads: [{ saves: none, vjp: (g, _s, a) => g.roll(a.shifts.map((v) => -v).reverse(), [...a.dims].reverse()) }],
  } satisfies OpDef<RollAttrs>,
  // repeat_backward; with a repeat of 0 the gradient is zeros of the input's shape, a constant.
  repeat: {
    gradFn: 'RepeatBackward0',
    forward: ([x], a: RepeatAttrs, dtype) => repeatForward(x!, a, dtype),
    grads: [{
      saves: none,
      vjp: (g, _s, a) => (a.repeats.includes(0) ? new Tensor(alloc(g.dtype, a.inputShape.reduce((n, d) => n * d, 1)), a.inputShape, g.dtype) : repeatBackward(g, a)),
    }],
  } satisfies OpDef<RepeatAttrs>,
  /**
   * cat([fill, x.narrow(dim, 0, n - 1)]) (by 1) or cat([x.narrow(dim, 1, n - 1), fill]) (by -1):
   * the exclusive running products of prod's backward. Its adjoint shifts back and fills 0.
   */
  shift: {
    gradFn: 'CatBackward0',
    forward: ([x], a: ShiftAttrs, dtype) => kernels.shift(x!.data, x!.shape, a.dim, a.by, a.fill, dtype),
    grads: [{ saves: none, vjp: (g, _s, a) => g.shiftDim(a.dim, a.by === 1 ? -1 : 1, 0) }],
  } satisfies OpDef<ShiftAttrs>,

  // ----- variance and standard deviation (op.var, op.std) -----
  var: moment('VarBackward0', false),
  std: moment('StdBackward0', true),

  // ----- vector norms (op.norm): every call form records NormBackward1 in PyTorch 1.13 -----
  norm: {
    gradFn: 'NormBackward1',
    forward: ([x], a: NormAttrs, dtype) => {
      const r = kernels.norm(x!.data, x!.shape, a.dims, a.p, dtype);
      return { shape: a.keepdim ? r.shape : x!.shape.filter((_, i) => !a.dims.includes(i)), data: r.data };
    },
    grads: [{ saves: ['self', 'result'], vjp: (g, s, a) => normBackward(g, s.self, s.result, a) }],
  } satisfies OpDef<NormAttrs>,
  // ----- selecting reductions and comparisons: the gradient goes to the selected elements -----
  // max() and min(): ties share g evenly. PyTorch's CPU kernel (evenly_distribute_backward) fills
  // g / count into the selected places of zeros: where the result is nan, the nan elements.
  selectAll: {
    gradFn: (_x, a: SelectAttrs) => (a.mode === 'max' ? 'MaxBackward1' : 'MinBackward1'),
    forward: ([x], a: SelectAttrs, dtype) => ({ shape: [], data: selectForward(x!, x!.shape.map((_, i) => i), a.mode, dtype).data }),
    grads: [{
      saves: ['self', 'result'],
      vjp: (g, s) => {
        const r = s.result.data[0]!;
        const mask = constantLike(s.self, Number.isNaN(r) ? (v) => (Number.isNaN(v) ? 1 : 0) : (v) => (v === r ? 1 : 0));
        let count = 0;
        for (const v of mask.data) count += v;
        return g.div(count).where(nonzero(mask), 0);
      },
    }],
  } satisfies OpDef<SelectAttrs>,
  // amax and amin: ties share g evenly, as (g / count) * mask with mask = (result == self), in
  // PyTorch's order (scale_grad_by_count): a group whose result is nan has count 0, so all its
  // gradients are nan.
  selectDims: {
    gradFn: (_x, a: ReduceAttrs & SelectAttrs) => (a.mode === 'max' ? 'AmaxBackward0' : 'AminBackward0'),
    forward: ([x], a: ReduceAttrs & SelectAttrs, dtype) => {
      const r = selectForward(x!, a.dims, a.mode, dtype);
      return { shape: a.keepdim ? r.shape : x!.shape.filter((_, i) => !a.dims.includes(i)), data: r.data };
    },
    grads: [{
      saves: ['self', 'result'],
      vjp: (g, s, a) => {
        const mask = constantZip(s.self, keptResult(s.result, a), (x, r) => (x === r ? 1 : 0));
        const counts = new Tensor(kernels.sum(mask.data, mask.shape, a.dims, mask.dtype).data, keptResult(s.result, a).shape, mask.dtype);
        let back = g;
        if (!a.keepdim) for (const d of [...a.dims].sort((p, q) => p - q)) back = back.unsqueeze(d);
        return back.div(counts).mul(mask);
      },
    }],
  } satisfies OpDef<ReduceAttrs & SelectAttrs>,

  // maximum and minimum, elementwise with broadcasting: PyTorch's
  // where(self == other, grad / 2, grad).masked_fill_(self < other, 0) (self > other for other's),
  // so ties give half to each side, a nan on either side passes g to both, and a masked place is
  // exactly 0 even where g is inf or nan.
  maximum: binary('MaximumBackward0', (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : x < y ? y : x),
    { saves: ['self', 'other'], vjp: (g, s) => halfAtTies(g, s).where(maskZip(s.self, s.other, (x, y) => !(x < y)), 0) },
    { saves: ['self', 'other'], vjp: (g, s) => halfAtTies(g, s).where(maskZip(s.self, s.other, (x, y) => !(x > y)), 0) }),
  minimum: binary('MinimumBackward0', (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : x > y ? y : x),
    { saves: ['self', 'other'], vjp: (g, s) => halfAtTies(g, s).where(maskZip(s.self, s.other, (x, y) => !(x > y)), 0) },
    { saves: ['self', 'other'], vjp: (g, s) => halfAtTies(g, s).where(maskZip(s.self, s.other, (x, y) => !(x < y)), 0) }),

  // argmax and argmin: int64 indices, constants (no graph node, no gradient).
  argSelect: {
    gradFn: 'ArgSelect',
    dtype: () => 'int64',
    forward: ([x], a: ArgAttrs) => {
      const r = argSelectForward(x!, a.dim, a.mode);
      const shape = a.keepdim ? (a.dim === null ? x!.shape.map(() => 1) : r.shape) : a.dim === null ? [] : x!.shape.filter((_, i) => i !== a.dim);
      return { shape, data: r.data };
    },
    grads: [{ saves: none, vjp: (g) => zerosLike(g) }],
  } satisfies OpDef<ArgAttrs>,

  // max(dim) and min(dim)'s values: the element at each group's index. The gradient goes to that
  // element only (value_selecting_reduction_backward: zeros scattered with g), exactly 0 elsewhere.
  selectIndex: {
    gradFn: (_x, a: IndexAttrs) => (a.mode === 'max' ? 'MaxBackward0' : 'MinBackward0'),
    forward: ([x], a: IndexAttrs, dtype) => {
      const r = selectForward(x!, a.dim === null ? [] : [a.dim], a.mode, dtype);
      return { shape: [...a.index.shape], data: r.data };
    },
    grads: [{
      saves: none, // the indices, saved by selectDim in the `other` slot
      vjp: (g, s, a) => {
        const shape = a.inputShape;
        let back = g;
        if (!a.keepdim && a.dim !== null) back = back.unsqueeze(a.dim);
        return back.expand([...shape]).where(nonzero(indexMask(shape, a.dim, s.other, g.dtype)), 0);
      },
    }],
  } satisfies OpDef<IndexAttrs & { inputShape: number[] }>,

  // clamp, clamp_min and clamp_max with number bounds: PyTorch's where(min <= self <= max, grad, 0),
  // so the gradient passes at both bounds and is exactly 0 outside them and at nan.
  clamp: {
    gradFn: (_x, a: ClampAttrs) => a.name,
    // The bounds take part in type promotion as Python numbers (an int64 tensor with 0.5 gives float32).
    dtype: (_x, a: ClampAttrs) => a.dtype,
    forward: ([x], a: ClampAttrs, dtype) => kernels.map(x!.data, x!.shape, dtype, clampValue(a, dtype)),
    grads: [{ saves: ['self'], vjp: (g, s, a) => g.where(clampMask(s.self, a), 0) }],
  } satisfies OpDef<ClampAttrs>,

  // ----- views: the result aliases its input's storage (views.alias); geometry.ts has the layouts -----
  view: reshapeView('ViewBackward0'),
  reshape: reshapeView('ReshapeAliasBackward0'),
  /** reshape's other path, and matmul's: a copy in the new shape, not a view. */
  unsafeView: {
    gradFn: (_x, a: ShapeAttrs & { inputShape: number[]; name?: string }) => a.name ?? 'UnsafeViewBackward0',
    forward: ([x], a, dtype) => copyAs(x!, a.shape, dtype),
    grads: [{ saves: none, vjp: (g, _s, a) => g.reshape(a.inputShape) }],
  } satisfies OpDef<ShapeAttrs & { inputShape: number[]; name?: string }>,
  unsqueeze: {
    gradFn: 'UnsqueezeBackward0',
    view: (g, a: DimAttrs) => unsqueezeGeometry(g, a.dim),
    grads: [{ saves: none, vjp: (g, _s, a) => g.squeeze(a.dim) }],
  } satisfies OpDef<DimAttrs>,
  /** squeeze() (SqueezeBackward0) and squeeze(dim) (SqueezeBackward1): `dims` are the dropped ones. */
  squeeze: {
    gradFn: (_x, a: SqueezeAttrs) => a.name,
    view: (g, a: SqueezeAttrs) => dropDims(g, (_s, d) => a.dims.includes(d)),
    grads: [{ saves: none, vjp: (g, _s, a) => g.reshape(a.inputShape) }],
  } satisfies OpDef<SqueezeAttrs>,
  permute: {
    gradFn: (_x, a: PermuteAttrs) => a.name,
    view: (g, a: PermuteAttrs) => permuteGeometry(g, a.dims),
    grads: [{ saves: none, vjp: (g, _s, a) => g.permuteAs(inversePermutation(a.dims), a.name) }],
  } satisfies OpDef<PermuteAttrs>,
  expand: {
    gradFn: 'ExpandBackward0',
    view: (g, a: ShapeAttrs) => expandGeometry(g, a.shape),
    // The reduction back to the input's shape is the generic one in dispatch.ts.
    grads: [{ saves: none, vjp: (g) => g }],
  } satisfies OpDef<ShapeAttrs>,
  // The views below take a part of their input: the gradient is zero outside it (an embedding).
  /** select and `x[i]`; unbind's outputs under their own name. */
  select: embeddingView<SelectViewAttrs>((a) => a.name, (g, a) => selectGeometry(g, a.dim, a.index)),
  /** narrow and basic-index slices; split's and chunk's outputs under their own names. */
  slice: embeddingView<SliceAttrs>((a) => a.name, (g, a) => sliceGeometry(g, a.dim, a.start, a.stop, a.step)),
  diagonal: embeddingView<DiagonalAttrs>('DiagonalBackward0', (g, a) => diagonalGeometry(g, a.offset, a.dim1, a.dim2)),
  /** `x[...]` and `x[()]`: the whole tensor, as a view. */
  alias: embeddingView<{ inputShape: number[] }>('AliasBackward0', (g) => g),
  /** A view's grad_fn after its storage was written: the base's gradient, zero outside the view (views.rebase). */
  asStrided: {
    gradFn: 'AsStridedBackward0',
    grads: [{ saves: none, vjp: (g, _s, a) => g.embedAt(a.at, a.inputShape) }],
  } satisfies OpDef<AtAttrs>,
  /** The elements at flat positions `at`, in a new tensor of `shape`: the backward of embedAt. */
  extractAt: {
    gradFn: (_x, a: AtAttrs) => a.name ?? 'AsStridedBackward0',
    forward: ([x], a: AtAttrs, dtype) => extractAt(x!, a.at, a.shape, dtype),
    grads: [{ saves: none, vjp: (g, _s, a) => g.embedAt(a.at, a.inputShape) }],
  } satisfies OpDef<AtAttrs>,
  /** Zeros of `inputShape` with the elements added at flat positions `at`: the backward of every part-taking view. */
  embedAt: {
    gradFn: 'AsStridedScatterBackward0',
    forward: ([g], a: EmbedAttrs, dtype) => embedAt(g!, a.at, a.inputShape, dtype),
    grads: [{ saves: none, vjp: (g, _s, a) => g.extractAt(a.at, a.shape) }],
  } satisfies OpDef<EmbedAttrs>,
  /** `self` with the elements at `at` replaced by `src`'s: CopySlices puts an in-place op's gradient back into its base's. */
  replaceAt: {
    gradFn: 'CopySlicesBackward0',
    forward: ([x, src], a: ReplaceAttrs, dtype) => replaceAt(x!, src!, a.at, dtype),
    grads: [
      { saves: none, vjp: (g, _s, a) => g.replaceAt(zerosOf(a.srcShape, g.dtype), a.at) },
      { saves: none, vjp: (g, _s, a) => g.extractAt(a.at, a.srcShape) },
    ],
  } satisfies OpDef<ReplaceAttrs>,
  /** x.copy_(src): src broadcast to x's shape in x's dtype; x's old value gets no gradient. */
  copy: {
    gradFn: 'CopyBackwards',
    dtype: (_x, a: DtypeAttrs) => a.dtype,
    forward: ([x, src], _a, dtype) => kernels.gather(src!.data, x!.shape, broadcastStrides(src!.shape, x!.shape), dtype),
    grads: [{ saves: none, vjp: (g) => zerosLike(g) }, { saves: none, vjp: (g) => g }],
  } satisfies OpDef<DtypeAttrs>,
  /** fill_ with a 0-d tensor value (`x[...] = v` with a 0-d v): the value gets the sum of g. */
  fillWith: {
    gradFn: 'FillBackward3',
    dtype: ([x]) => x!.dtype,
    forward: ([x, v], _a, dtype) => kernels.map(x!.data, x!.shape, dtype, () => v!.data[0]!),
    grads: [{ saves: none, vjp: (g) => zerosLike(g) }, { saves: none, vjp: (g) => g.sum() }],
  } satisfies OpDef<None>,
  /** index_put_: values (broadcast to the indexed shape) written, or added, at flat positions `at`. */
  indexPut: {
    gradFn: 'IndexPutBackward0',
    dtype: (_x, a: PutAttrs) => a.dtype,
    forward: ([x, v], a: PutAttrs, dtype) => putAt(x!, v!, a.at, a.shape, a.accumulate, dtype),
    grads: [
      { saves: none, vjp: (g, _s, a) => (a.accumulate ? g : g.replaceAt(zerosOf(a.shape, g.dtype), a.at)) },
      { saves: none, vjp: (g, _s, a) => g.extractAt(a.at, a.shape) },
    ],
  } satisfies OpDef<PutAttrs>,
  clone: {
    gradFn: 'CloneBackward0',
    forward: ([x], _a, dtype) => copyAs(x!, [...x!.shape], dtype),
    grads: [{ saves: none, vjp: (g) => g }],
  } satisfies OpDef<None>,

  // ----- the softmax family -----
  // out · (g - sum(g · out)), the formula of PyTorch's _softmax_backward_data.
  softmax: {
    gradFn: 'SoftmaxBackward0',
    forward: ([x], a: DimAttrs, dtype) => softmaxForward(x!, a.dim, dtype, false),
    grads: [{ saves: ['result'], vjp: (g, s, a) => s.result.mul(g.sub(g.mul(s.result).sum(a.dim, true))) }],
  } satisfies OpDef<DimAttrs>,
  // g - exp(out) · sum(g), the formula of PyTorch's _log_softmax_backward_data.
  logSoftmax: {
    gradFn: 'LogSoftmaxBackward0',
    forward: ([x], a: DimAttrs, dtype) => softmaxForward(x!, a.dim, dtype, true),
    grads: [{ saves: ['result'], vjp: (g, s, a) => g.sub(s.result.exp().mul(g.sum(a.dim, true))) }],
  } satisfies OpDef<DimAttrs>,
  // g · exp(self - result), with g and result unsqueezed back to self's rank: nan where self and
  // result are the same infinity (all -inf, or an inf entry), 0 at a -inf entry of a finite row.
  logsumexp: {
    gradFn: 'LogsumexpBackward0',
    forward: ([x], a: LogsumexpAttrs, dtype) => logsumexpForward(x!, a, dtype),
    grads: [{
      saves: ['self', 'result'],
      vjp: (g, s, a) => {
        let [gg, r] = [g, s.result];
        if (!a.keepdim && s.self.ndim > 0) {
          for (const d of [...a.dims].sort((p, q) => p - q)) [gg, r] = [gg.unsqueeze(d), r.unsqueeze(d)];
        }
        return gg.mul(s.self.sub(r).exp());
      },
    }],
  } satisfies OpDef<LogsumexpAttrs>,

  // ----- the activations of F; each backward is a row of its own, as in PyTorch, so that the
  // second derivative is PyTorch's double-backward formula (and defined where it is zero) -----
  // x·β > threshold: the identity (the comparison in the dtype, strictly greater); else log1p(exp(x·β)) / β.
  softplus: {
    gradFn: 'SoftplusBackward0',
    forward: ([x], a: SoftplusAttrs, dtype) => kernels.map(x!.data, x!.shape, dtype, (v) => softplusForward(v, a, rounder(dtype))),
    grads: [{ saves: ['self'], vjp: (g, s, a) => apply(softplusBackward, [g, s.self], a) }],
  } satisfies OpDef<SoftplusAttrs>,
  softplusBackward,
  // x > 0 ? x : x·slope; the gradient is slope at 0, -0 and nan (PyTorch tests x > 0).
  leakyRelu: {
    gradFn: 'LeakyReluBackward0',
    forward: ([x], a: SlopeAttrs, dtype) => kernels.map(x!.data, x!.shape, dtype, (v) => (v > 0 ? v : v * rounder(dtype)(a.negativeSlope))),
    grads: [{ saves: ['self'], vjp: (g, s, a) => apply(leakyReluBackward, [g, s.self], a) }],
  } satisfies OpDef<SlopeAttrs>,
  leakyReluBackward,
  // x <= 0 ? (exp(x) - 1)·α : x. exp(x) - 1, not expm1 (PyTorch 1.13): float32 elu(-1e-8) is 0.
  elu: {
    gradFn: 'EluBackward0',
    forward: ([x], a: AlphaAttrs, dtype) => {
      const r = rounder(dtype);
      return kernels.map(x!.data, x!.shape, dtype, (v) => (v <= 0 ? r(r(Math.exp(v)) - 1) * r(a.alpha) : v));
    },
    grads: [{ saves: ['self'], vjp: (g, s, a) => apply(eluBackward, [g, s.self], a) }],
  } satisfies OpDef<AlphaAttrs>,
  eluBackward,
  gelu: {
    gradFn: 'GeluBackward0',
    forward: ([x], a: GeluAttrs, dtype) => kernels.map(x!.data, x!.shape, dtype, (v) => geluForward(v, a, rounder(dtype))),
    grads: [{ saves: ['self'], vjp: (g, s, a) => apply(geluBackward, [g, s.self], a) }],
  } satisfies OpDef<GeluAttrs>,
  geluBackward,
  // x / (1 + exp(-x)); the backward is PyTorch's differentiable form g·σ·(1 + x·(1 - σ)).
  silu: {
    gradFn: 'SiluBackward0',
    forward: ([x], _a, dtype) => {
      const r = rounder(dtype);
      return kernels.map(x!.data, x!.shape, dtype, (v) => v / r(1 + r(Math.exp(-v))));
    },
    grads: [{
      saves: ['self'],
      vjp: (g, s) => {
        const y = s.self.sigmoid();
        return g.mul(y).mul(s.self.mul(y.rsub(1)).add(1));
      },
    }],
  } satisfies OpDef<None>,
  // ----- losses (engine/nn/losses.ts broadcasts input and target first, as F.mse_loss does) -----
  // The gradients under createGraph are written with tensor ops: their values are PyTorch's
  // double backward (MseLossBackwardBackward0, ...), their grad_fn names are not.
  mseLoss: {
    gradFn: 'MseLossBackward0',
    forward: ([x, y], a: LossAttrs, dtype) => lossForward(x!, y!, a, dtype, (d) => d * d),
    grads: [
      // mse_loss_backward: norm · (x - y) · g, norm = 2 (2/n for the mean), in this order.
      { saves: ['self', 'other'], vjp: (g, s, a) => s.self.sub(s.other).mul(lossNorm(2, s.self, a)).mul(g) },
      { saves: ['self', 'other'], vjp: (g, s, a) => s.other.sub(s.self).mul(lossNorm(2, s.self, a)).mul(g) },
    ],
  } satisfies OpDef<LossAttrs>,
  smoothL1Loss: {
    gradFn: 'SmoothL1LossBackward0',
    // 0.5·z²/beta below beta, z - 0.5·beta from beta on (z = |x - y|): beta = 0 is |x - y|.
    forward: ([x, y], a: LossAttrs, dtype) => lossForward(x!, y!, a, dtype, (d) => {
      const z = Math.abs(d);
      return z < a.beta ? (0.5 * z * z) / a.beta : z - 0.5 * a.beta;
    }),
    grads: [
      { saves: ['self', 'other'], vjp: (g, s, a) => smoothL1Grad(g, s.self, s.other, a) },
      // The target's gradient is smooth_l1_loss_backward(g, y, x): at beta = 0 and x = y it is -norm·g too.
      { saves: ['self', 'other'], vjp: (g, s, a) => smoothL1Grad(g, s.other, s.self, a) },
    ],
  } satisfies OpDef<LossAttrs>,

  binaryCrossEntropy: {
    gradFn: 'BinaryCrossEntropyBackward0',
    forward: ([x, y], a: LossAttrs, dtype) => bceForward(x!, y!, a, dtype),
    grads: [
      // binary_cross_entropy_backward, a row of its own: its second derivatives are 1.13's formulas.
      { saves: ['self', 'other'], vjp: (g, s, a) => g.bceBackward(s.self, s.other, a.reduction) },
      // binary_cross_entropy_target_backward: (log(1 - x) - log(x))·g, unclamped (±inf at x = 0 and 1).
      { saves: ['self'], vjp: (g, s, a) => meanOf(s.self.rsub(1).log().sub(s.self.log()).mul(g), s.self, a) },
    ],
  } satisfies OpDef<LossAttrs>,
  /** binary_cross_entropy_backward(g, x, y): g·(x - y) / max((1 - x)·x, EPSILON), then /n for the mean. */
  bceBackward: {
    gradFn: 'BinaryCrossEntropyBackwardBackward0',
    forward: ([g, x, y], a: LossAttrs, dtype) => {
      const r = rounder(dtype);
      const d = kernels.zip(x!.data, x!.shape, y!.data, y!.shape, dtype, (p, q) => r(p - q));
      const top = kernels.zip(g!.data, g!.shape, d.data, d.shape, dtype, (p, q) => p * q); // g broadcasts
      const out = kernels.zip(top.data, top.shape, x!.data, x!.shape, dtype, (p, q) => p / r(Math.max(r(r(1 - q) * q), BCE_EPSILON)));
      if (a.reduction === 'mean') for (let i = 0; i < out.data.length; i++) out.data[i] = out.data[i]! / x!.numel();
      return out;
    },
    grads: [
      // binary_cross_entropy_double_backward_grad_output: (x - y) / ((x + eps)·(1 - x + eps))·gg.
      { saves: ['other', 'third'], vjp: (gg, s, a) => meanOf(s.other.sub(s.third).div(s.other.add(BCE_EPS).mul(s.other.rsub(1).add(BCE_EPS))).mul(gg), s.other, a) },
      // binary_cross_entropy_double_backward: (x² - 2xy + y) / ((x + eps)²·(1 - x + eps)²)·(gg·g).
      {
        saves: ['self', 'other', 'third'],
        vjp: (gg, s, a) => {
          const [x, y] = [s.other, s.third];
          const top = x.mul(x).sub(x.mul(2).mul(y)).add(y);
          const bottom = x.add(BCE_EPS).powScalar(2).mul(x.rsub(1).add(BCE_EPS).powScalar(2));
          return meanOf(top.div(bottom).mul(gg.mul(s.self)), x, a);
        },
      },
      // binary_cross_entropy_double_backward_target: -gg·g / max((1 - x)·x, eps), the max a constant.
      {
        saves: ['self', 'other'],
        vjp: (gg, s, a) => meanOf(gg.neg().mul(s.self).div(constantLike(s.other, (v) => Math.max((1 - v) * v, BCE_EPS))), s.other, a),
      },
    ],
  } satisfies OpDef<LossAttrs>,

  binaryCrossEntropyWithLogits: {
    gradFn: 'BinaryCrossEntropyWithLogitsBackward0',
    forward: ([x, y], a: LossAttrs, dtype) => bceWithLogitsForward(x!, y!, a, dtype),
    grads: [
      // (sigmoid(x) - y)·g: saturates to ∓y·g and 1 - y·g for large |x|, never nan for finite x.
      { saves: ['self', 'other'], vjp: (g, s, a) => meanOf(s.self.sigmoid().sub(s.other).mul(g), s.self, a) },
      // -x·g: the target's gradient is linear in x (so ±inf at x = ±inf).
      { saves: ['self'], vjp: (g, s, a) => meanOf(s.self.neg().mul(g), s.self, a) },
    ],
  } satisfies OpDef<LossAttrs>,

  /**
   * nll_loss of [N, C] (or [C]) log-probabilities and int64 class targets: -x[i, t_i], reduced;
   * targets equal to -100 (ignore_index) count for nothing, and the mean divides by the others' count.
   */
  nllLoss: {
    gradFn: 'NllLossBackward0',
    // The target rides in the attributes: it is not differentiable, so it is no input of the node
    // (1.13's next functions are the input's only).
    forward: ([x], a: NllAttrs, dtype) => {
      const { picked, count } = nllPicks(x!, a.target);
      const values = picked.map((k) => (k < 0 ? 0 : -x!.data[k]!));
      const data = alloc(dtype, a.reduction === 'none' ? values.length : 1);
      if (a.reduction === 'none') values.forEach((v, i) => (data[i] = v));
      else data[0] = values.reduce((s, v) => s + v, 0) / (a.reduction === 'mean' ? count : 1);
      return { shape: a.reduction === 'none' ? [...a.target.shape] : [], data };
    },
    grads: [{ saves: ['self'], vjp: (g, s, a) => g.nllLossBackward(s.self, a.target, a.reduction) }],
  } satisfies OpDef<NllAttrs>,
  /**
   * nll_loss_backward(g, x): -g (-g/count for the mean) at each target, 0 elsewhere. It takes x as
   * 1.13's does, with a zero gradient, so a gradient made under createGraph requires grad.
   */
  nllLossBackward: {
    gradFn: 'NllLossBackwardBackward0',
    forward: ([g, x], a: NllAttrs, dtype) => {
      const { picked, count } = nllPicks(x!, a.target);
      const data = alloc(dtype, x!.numel());
      const c = x!.shape[x!.ndim - 1]!;
      picked.forEach((k) => {
        if (k >= 0) data[k] = -(g!.data.length === 1 ? g!.data[0]! : g!.data[Math.floor(k / c)]!) / (a.reduction === 'mean' ? count : 1);
      });
      return { shape: [...x!.shape], data };
    },
    grads: [
      // nll_loss_double_backward_grad_output: nll_loss of the incoming gradient.
      { saves: none, vjp: (gg, _s, a) => gg.nllLoss(a.target, a.reduction) },
      { saves: ['other'], vjp: (_gg, s) => zerosLike(s.other) },
    ],
  } satisfies OpDef<NllAttrs>,

  // ----- matrix products (matmul in functional.ts dispatches to these, as at::matmul does) -----
  dot: {
    gradFn: 'DotBackward0',
    forward: ([a, b], _x, dtype) => checked(a!, b!, 'dot') ?? ({ shape: [], data: kernels.bmm(a!.data, b!.data, 1, 1, a!.shape[0]!, 1, dtype) }),
    grads: [
      { saves: ['other'], vjp: (g, s) => s.other.mul(g) },
      { saves: ['self'], vjp: (g, s) => s.self.mul(g) },
    ],
  } satisfies OpDef<None>,
  mv: {
    gradFn: 'MvBackward0',
    forward: ([a, b], _x, dtype) => checked(a!, b!, 'mv') ?? ({
      shape: [a!.shape[0]!], data: kernels.bmm(a!.data, b!.data, 1, a!.shape[0]!, a!.shape[1]!, 1, dtype),
    }),
    grads: [
      { saves: ['other'], vjp: (g, s) => g.unsqueeze(1).mm(s.other.unsqueeze(0)) },
      { saves: ['self'], vjp: (g, s) => s.self.t().mv(g) },
    ],
  } satisfies OpDef<None>,
  mm: {
    gradFn: 'MmBackward0',
    forward: ([a, b], _x, dtype) => checked(a!, b!, 'mm') ?? ({
      shape: [a!.shape[0]!, b!.shape[1]!],
      data: kernels.bmm(a!.data, b!.data, 1, a!.shape[0]!, a!.shape[1]!, b!.shape[1]!, dtype),
    }),
    grads: [
      { saves: ['other'], vjp: (g, s) => g.mm(s.other.t()) },
      { saves: ['self'], vjp: (g, s) => s.self.t().mm(g) },
    ],
  } satisfies OpDef<None>,
  bmm: {
    gradFn: 'BmmBackward0',
    forward: ([a, b], _x, dtype) => {
      checked(a!, b!, 'bmm');
      const [batch, n, k] = a!.shape as [number, number, number];
      const m = b!.shape[2]!;
      return { shape: [batch, n, m], data: kernels.bmm(a!.data, b!.data, batch, n, k, m, dtype) };
    },
    grads: [
      { saves: ['other'], vjp: (g, s) => g.bmm(s.other.transpose(1, 2)) },
      { saves: ['self'], vjp: (g, s) => s.self.transpose(1, 2).bmm(g) },
    ],
  } satisfies OpDef<None>,
};

/** The products' own checks, with PyTorch's messages (matmul's errors come from these). */
function checked(a: Tensor, b: Tensor, op: 'dot' | 'mv' | 'mm' | 'bmm'): undefined {
  const kind = (t: Tensor) => scalarTypeName(t.dtype);
  const [ra, rb] = [a.ndim, b.ndim];
  if (op === 'dot' && (ra !== 1 || rb !== 1)) fail('invalid-argument', `1D tensors expected, but got ${ra}D and ${rb}D tensors`);
  if (op === 'mv' && (ra !== 2 || rb !== 1)) fail('invalid-argument', `vector + matrix @ vector expected, got 1, ${ra}, ${rb}`);
  if (op === 'mm' && ra !== 2) fail('invalid-argument', 'self must be a matrix');
  if (op === 'mm' && rb !== 2) fail('invalid-argument', 'mat2 must be a matrix');
  if (op === 'bmm' && ra !== 3) fail('invalid-argument', 'batch1 must be a 3D tensor');
  if (op === 'bmm' && rb !== 3) fail('invalid-argument', 'batch2 must be a 3D tensor');
  if (a.dtype !== b.dtype) {
    fail('invalid-argument', op === 'dot'
      ? `dot : expected both vectors to have same dtype, but found ${kind(a)} and ${kind(b)}`
      : `expected scalar type ${kind(a)} but found ${kind(b)}`);
  }
  const [sa, sb] = [a.shape, b.shape];
  if (op === 'dot' && sa[0] !== sb[0]) {
    fail('shape-mismatch', `inconsistent tensor size, expected tensor [${sa[0]}] and src [${sb[0]}] to have the same number of elements, but got ${sa[0]} and ${sb[0]} elements respectively`);
  }
  if (op === 'mv' && sa[1] !== sb[0]) fail('shape-mismatch', `size mismatch, got ${sa[0]}, ${sa[0]}x${sa[1]},${sb[0]}`);
  if (op === 'mm' && sa[1] !== sb[0]) {
    fail('shape-mismatch', `mat1 and mat2 shapes cannot be multiplied (${sa[0]}x${sa[1]} and ${sb[0]}x${sb[1]})`);
  }
  if (op === 'bmm' && (sa[0] !== sb[0] || sa[2] !== sb[1])) {
    fail('shape-mismatch', `Expected size for first two dimensions of batch2 tensor to be: [${sa[0]}, ${sa[2]}] but got: [${sb[0]}, ${sb[1]}].`);
  }
  return undefined;
}

function reduction(gradFn: string, mean: boolean, saves: Rule<ReduceAttrs>['saves']): OpDef<ReduceAttrs> {
  return {
    gradFn,
    // sum of int64 or bool is int64; mean has no integer result and refuses them.
    dtype: ([x]) => {
      if (isFloat(x!.dtype)) return x!.dtype;
      if (mean) {
        fail('invalid-argument', `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${scalarTypeName(x!.dtype)}`);
      }
      return 'int64';
    },
    forward: ([x], a, dtype) => reduceForward(x!, a, dtype, mean),
    grads: [{
      saves,
      vjp: (g, s, a) => {
        // MeanBackward1 reads its saved input for the sizes, which is why a second pass fails.
        const shape = saves.includes('self') ? s.self.shape : a.inputShape;
        const back = unreduce(g, shape, a);
        return mean ? back.div(a.dims.reduce((n, d) => n * shape[d]!, 1)) : back;
      },
    }],
  };
}

/** view and reshape when the layout allows: the same elements in another shape. */
function reshapeView(gradFn: string): OpDef<ShapeAttrs & { inputShape: number[] }> {
  return {
    gradFn,
    view: (g, a) => viewGeometry(g, a.shape),
    grads: [{ saves: none, vjp: (g, _s, a) => g.reshape(a.inputShape) }],
  };
}

/**
 * A view of a part of its input. Its gradient is zero outside the part: the view's geometry,
 * applied to a contiguous tensor of the input's shape, says where the gradient goes.
 */
function embeddingView<A extends { inputShape: number[] }>(gradFn: string | ((a: A) => string), geometry: (g: Geometry, a: A) => Geometry): OpDef<A> {
  return {
    gradFn: typeof gradFn === 'string' ? gradFn : (_x, a) => gradFn(a),
    view: geometry,
    grads: [{ saves: none, vjp: (g, _s, a) => g.embedAt(positions(geometry(contiguousGeometry(a.inputShape), a)), a.inputShape) }],
  };
}

function inversePermutation(dims: readonly number[]): number[] {
  const inv = new Array<number>(dims.length);
  dims.forEach((d, i) => (inv[d] = i));
  return inv;
}
