import type { DType, Reduction } from '../spec/program.ts';
import { resultDtype, scalarTypeName, type OpDef, type Rule } from './dispatch.ts';
import { fail } from './errors.ts';
import { alloc, kernels, type Result } from './kernels.ts';
import { broadcastShapes, broadcastStrides, stridesOf, type Shape } from './shape.ts';
import * as F from './functional.ts';
import { Tensor } from './tensor.ts';

/*
 * THE op table. One row per primitive: PyTorch 1.13's grad_fn name, the forward on data, and one
 * vector-Jacobian rule per tensor input, written with tensor ops so higher derivatives work.
 * Broadcast reduction and dtype casts of the gradients happen once, in dispatch.ts.
 * Composite ops (matmul, the reflected scalar forms) are built from these rows in functional.ts.
 */

type None = Record<string, never>;
const none: readonly never[] = [];

// ----- result dtypes of int64 and bool inputs (spec: dtype.*) -----
type DtypeRule = (inputs: readonly Tensor[]) => DType;
const isFloat = (d: DType) => d === 'float32' || d === 'float64';
/** Math functions compute in floating point: int64 and bool give the default dtype float32. */
const floatResult: DtypeRule = ([x]) => (isFloat(x!.dtype) ? x!.dtype : 'float32');
/** Ops that keep integers integers; bool is refused with PyTorch's message. */
const noBool = (message: string): DtypeRule => ([x]) => {
  if (x!.dtype === 'bool') fail('invalid-argument', message);
  return x!.dtype;
};
const notForBool = (kernel: string) => noBool(`"${kernel}" not implemented for 'Bool'`);
const SUB_BOOL = 'Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.';
const SUB_BOOLS = 'Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.';

/** A Python number as PyTorch wraps it: a 0-d tensor of the lowest priority, int64 for an integer. */
function wrapped(x: number): Tensor {
  const t = new Tensor(Float64Array.of(x), [], Number.isInteger(x) ? 'int64' : 'float32');
  t.wrappedNumber = true;
  return t;
}

/**
 * Integer power: exact for int64, and for a negative exponent what an integer loop gives
 * (1 and -1 keep their powers, every other base gives 0), as PyTorch's int64 pow does.
 */
function intPow(x: number, y: number): number {
  if (y >= 0) return Math.pow(x, y);
  if (x === 1) return 1;
  if (x === -1) return y % 2 === 0 ? 1 : -1;
  return 0;
}

function unary(gradFn: string, f: (x: number) => number, rule: Rule<None>, dtype: DtypeRule = floatResult): OpDef<None> {
  return {
    gradFn,
    dtype,
    forward: ([x], _a, dtype) => kernels.map(x!.data, x!.shape, dtype, f),
    grads: [rule],
  };
}

function binary<A = None>(gradFn: string, f: (x: number, y: number) => number, self: Rule<A>, other: Rule<A>, dtype?: DtypeRule): OpDef<A> {
  return {
    gradFn,
    ...(dtype ? { dtype } : {}),
    forward: ([a, b], _a, dtype) => kernels.zip(a!.data, a!.shape, b!.data, b!.shape, dtype, f),
    grads: [self, other],
  };
}

/**
 * A comparison: both operands are compared in their promoted dtype (a float64 0.1 equals a
 * float32 tensor's 0.1 when the result type is float32), nan compares as IEEE does (only ne is
 * true), and the result is bool. Its rules are never used: a bool result is never recorded.
 */
function comparison(f: (x: number, y: number) => boolean): OpDef<None> {
  return {
    gradFn: 'none',
    dtype: () => 'bool',
    forward: ([a, b]) => {
      const cast = resultDtype([a!, b!]) === 'float32' ? Math.fround : (v: number) => v;
      return kernels.zip(a!.data, a!.shape, b!.data, b!.shape, 'bool', (x, y) => (f(cast(x), cast(y)) ? 1 : 0));
    },
    grads: [{ saves: none, vjp: (g) => zerosLike(g) }, { saves: none, vjp: (g) => zerosLike(g) }],
  };
}

/** Where-calls of the rules, through the public function (its argument checks and wrapping). */
const where = (c: Tensor, a: Tensor | number, b: Tensor | number): Tensor => F.where(c, a, b);

/** A bool constant from a tensor's data: the masks of the rules. */
const mask = (t: Tensor, f: (v: number) => boolean): Tensor =>
  new Tensor(kernels.map(t.data, t.shape, 'bool', (v) => (f(v) ? 1 : 0)).data, t.shape, 'bool');
function maskZip(a: Tensor, b: Tensor, f: (x: number, y: number) => boolean): Tensor {
  const r = kernels.zip(a.data, a.shape, b.data, b.shape, 'bool', (x, y) => (f(x, y) ? 1 : 0));
  return new Tensor(r.data, r.shape, 'bool');
}

/** Zero gradients are constants: `g * 0` would turn an infinite g into nan. */
const zerosLike = (t: Tensor): Tensor => constantLike(t, () => 0);

/** A constant tensor (outside the graph) computed elementwise from tensors' data: masks and signs. */
const constantLike = (t: Tensor, f: (v: number) => number): Tensor =>
  new Tensor(kernels.map(t.data, t.shape, t.dtype, f).data, t.shape, t.dtype);

export interface ReduceAttrs { dims: number[]; keepdim: boolean; inputShape: number[] }
export interface ShapeAttrs { shape: number[] }
export interface PermuteAttrs { dims: number[]; name: string }
export interface PowAttrs { exponent: number }
export interface ScalarAttrs { value: number }
export interface DtypeAttrs { dtype: DType }
export interface LossAttrs { reduction: Reduction; beta: number }
export interface NllAttrs { reduction: Reduction; target: Tensor }

function reduceForward(x: Tensor, a: ReduceAttrs, dtype: DType, mean: boolean): Result {
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

const copyAs = (x: Tensor, shape: number[], dtype: DType): Result => ({
  shape,
  data: dtype === x.dtype ? x.data.slice() : kernels.map(x.data, x.shape, dtype, (v) => v).data,
});

/**
 * erf in float64, to a few ulp: below 3 the series 2/√π · e^(-x²) · Σ x·(2x²)^n / (1·3·…·(2n+1)),
 * whose terms are all positive (no cancellation); from 3 on, 1 - erfc(x) with erfc's continued
 * fraction e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up.
 */
function erf(x: number): number {
  const a = Math.abs(x); // nan falls through both branches to nan
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 0; term > sum * 1e-17; n++) {
      term *= (2 * a * a) / (2 * n + 3);
      sum += term;
    }
    r = (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
  } else {
    let f = a;
    for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : Object.is(x, -0) ? -0 : r;
}

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
  rsub: {
    gradFn: 'RsubBackward1',
    dtype: ([x], a: ScalarAttrs) => {
      if (x!.dtype === 'bool') fail('invalid-argument', SUB_BOOL);
      return resultDtype([x!, wrapped(a.value)]);
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
      const out = kernels.map(cs!, shape, dtype, () => 0);
      for (let i = 0; i < out.data.length; i++) out.data[i] = cs![i] !== 0 ? as![i]! : bs![i]!;
      return out;
    },
    grads: [
      { saves: ['self'], vjp: (g, s) => where(s.self, g, 0) },
      { saves: ['self'], vjp: (g, s) => where(s.self, 0, g) },
    ],
  } satisfies OpDef<None>,
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

  // ----- shape ops: views in PyTorch; here they copy, and share the version counter -----
  reshape: viewLike('ReshapeAliasBackward0'),
  view: viewLike('ViewBackward0'),
  unsafeView: viewLike('UnsafeViewBackward0'),
  permute: {
    gradFn: (_x, a: PermuteAttrs) => a.name,
    view: true,
    forward: ([x], a: PermuteAttrs, dtype) => {
      const own = stridesOf(x!.shape);
      return kernels.gather(x!.data, a.dims.map((d) => x!.shape[d]!), a.dims.map((d) => own[d]!), dtype);
    },
    grads: [{ saves: none, vjp: (g, _s, a) => g.permuteAs(inversePermutation(a.dims), a.name) }],
  } satisfies OpDef<PermuteAttrs>,
  expand: {
    gradFn: 'ExpandBackward0',
    view: true,
    forward: ([x], a: ShapeAttrs, dtype) => kernels.gather(x!.data, a.shape, broadcastStrides(x!.shape, a.shape), dtype),
    // The reduction back to the input's shape is the generic one in dispatch.ts.
    grads: [{ saves: none, vjp: (g) => g }],
  } satisfies OpDef<ShapeAttrs>,
  clone: {
    gradFn: 'CloneBackward0',
    forward: ([x], _a, dtype) => copyAs(x!, [...x!.shape], dtype),
    grads: [{ saves: none, vjp: (g) => g }],
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
      const r = dtype === 'float32' ? Math.fround : (v: number) => v;
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

/**
 * A loss's elements `f(input, target)`, then apply_loss_reduction: their mean, their sum, or
 * themselves. In float32 the difference is rounded before f sees it, as PyTorch's kernels compute it.
 */
function lossForward(x: Tensor, y: Tensor, a: LossAttrs, dtype: DType, f: (d: number) => number): Result {
  const round = dtype === 'float32' ? Math.fround : (v: number) => v;
  const r = kernels.zip(x.data, x.shape, y.data, y.shape, dtype, (p, q) => f(round(p - q)));
  if (a.reduction === 'none') return r;
  const all = r.shape.map((_, i) => i);
  return reduceForward(new Tensor(r.data, r.shape, dtype), { dims: all, keepdim: false, inputShape: r.shape }, dtype, a.reduction === 'mean');
}

/** The factor of a loss's backward: `base`, divided by the element count for the mean. */
const lossNorm = (base: number, x: Tensor, a: LossAttrs): number => (a.reduction === 'mean' ? base / x.numel() : base);

/**
 * smooth_l1_loss_backward(g, x, y) with d = x - y: -norm·g where d <= -beta, norm·g where d >= beta,
 * norm·d·g/beta between (nan included). So at beta = 0 and d = 0 it is -norm·g, as in PyTorch. Only
 * the middle depends on d, through tensor ops: the second derivative is norm/beta there, 0 outside
 * and at |d| = beta (PyTorch's double backward masks |d| < beta). The outer parts are constants,
 * -0 in the middle, so that adding them keeps a -0 there.
 */
function smoothL1Grad(g: Tensor, x: Tensor, y: Tensor, a: LossAttrs): Tensor {
  const d = x.sub(y);
  const outer = constantLike(d, (v) => (v <= -a.beta ? -1 : v >= a.beta ? 1 : -0));
  const middle = mask(d, (v) => !(v <= -a.beta || v >= a.beta));
  // beta = 0 leaves only nan in the middle, and nan / 1 is nan too.
  return where(middle, d, 0).div(a.beta === 0 ? 1 : a.beta).add(outer).mul(lossNorm(1, x, a)).mul(g);
}

/** 1.13's EPSILON of binary_cross_entropy's backward: the float 1e-12, whatever the dtype. */
const BCE_EPSILON = Math.fround(1e-12);
/** The double 1e-12 of its double backward (binary_cross_entropy_double_backward and friends). */
const BCE_EPS = 1e-12;

/** Divides by the element count for the mean, as the losses' backward formulas end. */
const meanOf = (t: Tensor, x: Tensor, a: LossAttrs): Tensor => (a.reduction === 'mean' ? t.div(x.numel()) : t);

/**
 * binary_cross_entropy's elements: (y - 1)·max(log(1 - x), -100) - y·max(log(x), -100), every
 * step rounded to the dtype. Any x outside [0, 1] (nan included) fails, as 1.13's kernel checks.
 */
function bceForward(x: Tensor, y: Tensor, a: LossAttrs, dtype: DType): Result {
  const r = dtype === 'float32' ? Math.fround : (v: number) => v;
  for (const v of x.data) if (!(v >= 0 && v <= 1)) fail('invalid-argument', 'all elements of input should be between 0 and 1');
  const out = kernels.zip(x.data, x.shape, y.data, y.shape, dtype, (p, q) => {
    const log1m = Math.max(r(Math.log(r(1 - p))), -100);
    const log = Math.max(r(Math.log(p)), -100);
    return r(r(q - 1) * log1m) - r(q * log);
  });
  if (a.reduction === 'none') return out;
  const all = out.shape.map((_, i) => i);
  return reduceForward(new Tensor(out.data, out.shape, dtype), { dims: all, keepdim: false, inputShape: out.shape }, dtype, a.reduction === 'mean');
}

/**
 * binary_cross_entropy_with_logits's elements as 1.13 computes them, stable for large |x|:
 * (1 - y)·x + m + log(exp(-m) + exp(-x - m)) with m = max(-x, 0), every step rounded to the dtype.
 */
function bceWithLogitsForward(x: Tensor, y: Tensor, a: LossAttrs, dtype: DType): Result {
  const r = dtype === 'float32' ? Math.fround : (v: number) => v;
  const out = kernels.zip(x.data, x.shape, y.data, y.shape, dtype, (p, q) => {
    const m = -p < 0 ? 0 : -p; // clamp_min(-x, 0): nan stays nan
    const linear = r(r(r(1 - q) * p) + m);
    return r(linear + r(Math.log(r(r(Math.exp(-m)) + r(Math.exp(r(-p - m)))))));
  });
  if (a.reduction === 'none') return out;
  const all = out.shape.map((_, i) => i);
  return reduceForward(new Tensor(out.data, out.shape, dtype), { dims: all, keepdim: false, inputShape: out.shape }, dtype, a.reduction === 'mean');
}

/** The flat index of x[i, t_i] for each target (-1 where it is -100, ignore_index), and how many count. */
function nllPicks(x: Tensor, t: Tensor): { picked: number[]; count: number } {
  // picked[i] is the flat index of x[i, t_i]; the i-th target's gradient is g[i] for 'none'.
  const classes = x.shape[x.ndim - 1]!;
  const picked = Array.from(t.data, (c, i) => {
    if (c === -100) return -1;
    if (c < 0 || c >= classes) fail('invalid-argument', `Target ${c} is out of bounds.`);
    return i * classes + c;
  });
  return { picked, count: picked.filter((k) => k >= 0).length };
}

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

function viewLike(gradFn: string): OpDef<ShapeAttrs & { inputShape: number[] }> {
  return {
    gradFn,
    view: gradFn !== 'UnsafeViewBackward0',
    forward: ([x], a, dtype) => copyAs(x!, a.shape, dtype),
    grads: [{ saves: none, vjp: (g, _s, a) => g.reshape(a.inputShape) }],
  };
}

function inversePermutation(dims: readonly number[]): number[] {
  const inv = new Array<number>(dims.length);
  dims.forEach((d, i) => (inv[d] = i));
  return inv;
}
