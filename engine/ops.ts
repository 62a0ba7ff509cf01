import type { DType } from '../spec/program.ts';
import type { OpDef, Rule } from './dispatch.ts';
import { fail } from './errors.ts';
import { kernels, type Result } from './kernels.ts';
import { broadcastStrides, stridesOf, type Shape } from './shape.ts';
import { Tensor } from './tensor.ts';

/*
 * THE op table. One row per primitive: PyTorch 1.13's grad_fn name, the forward on data, and one
 * vector-Jacobian rule per tensor input, written with tensor ops so higher derivatives work.
 * Broadcast reduction and dtype casts of the gradients happen once, in dispatch.ts.
 * Composite ops (matmul, the reflected scalar forms) are built from these rows in functional.ts.
 */

type None = Record<string, never>;
const none: readonly never[] = [];

function unary(gradFn: string, f: (x: number) => number, rule: Rule<None>): OpDef<None> {
  return {
    gradFn,
    forward: ([x], _a, dtype) => kernels.map(x!.data, x!.shape, dtype, f),
    grads: [rule],
  };
}

function binary<A = None>(gradFn: string, f: (x: number, y: number) => number, self: Rule<A>, other: Rule<A>): OpDef<A> {
  return {
    gradFn,
    forward: ([a, b], _a, dtype) => kernels.zip(a!.data, a!.shape, b!.data, b!.shape, dtype, f),
    grads: [self, other],
  };
}

/** Zero gradients are constants: `g * 0` would turn an infinite g into nan. */
const zerosLike = (t: Tensor): Tensor => constantLike(t, () => 0);

/** A constant tensor (outside the graph) computed elementwise from tensors' data: masks and signs. */
const constantLike = (t: Tensor, f: (v: number) => number): Tensor =>
  new Tensor(kernels.map(t.data, t.shape, t.dtype, f).data, t.shape, t.dtype);
function constantZip(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const r = kernels.zip(a.data, a.shape, b.data, b.shape, a.dtype, f);
  return new Tensor(r.data, r.shape, a.dtype);
}

export interface ReduceAttrs { dims: number[]; keepdim: boolean; inputShape: number[] }
export interface ShapeAttrs { shape: number[] }
export interface PermuteAttrs { dims: number[]; name: string }
export interface PowAttrs { exponent: number }
export interface ScalarAttrs { value: number }
export interface DtypeAttrs { dtype: DType }
export interface DimAttrs { dim: number }
export interface ShiftAttrs { dim: number; by: 1 | -1; fill: number }
/**
 * var and std: `listed` is the dim argument as given (null: none), which PyTorch 1.13's backward
 * reads for its count; `dims` the dims reduced (every dim for none and for an empty list).
 */
export interface MomentAttrs { dims: number[]; listed: number[] | null; correction: number; keepdim: boolean }
export interface NormAttrs { p: number; dims: number[]; keepdim: boolean }
/** dim null: the product of every element (ProdBackward0). */
export interface ProdAttrs { dim: number | null; keepdim: boolean }

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
  neg: unary('NegBackward0', (x) => -x, { saves: none, vjp: (g) => g.neg() }),
  exp: unary('ExpBackward0', Math.exp, { saves: ['result'], vjp: (g, s) => g.mul(s.result) }),
  log: unary('LogBackward0', Math.log, { saves: ['self'], vjp: (g, s) => g.div(s.self) }),
  sin: unary('SinBackward0', Math.sin, { saves: ['self'], vjp: (g, s) => g.mul(s.self.cos()) }),
  cos: unary('CosBackward0', Math.cos, { saves: ['self'], vjp: (g, s) => g.mul(s.self.sin().neg()) }),
  tan: unary('TanBackward0', Math.tan, { saves: ['result'], vjp: (g, s) => g.mul(s.result.mul(s.result).add(1)) }),
  tanh: unary('TanhBackward0', Math.tanh, { saves: ['result'], vjp: (g, s) => g.mul(s.result.mul(s.result).rsub(1)) }),
  sigmoid: {
    gradFn: 'SigmoidBackward0',
    // float32 kernels overflow exp(-x) to inf for x < -88, giving exactly 0 as PyTorch does.
    forward: ([x], _a, dtype) => kernels.map(x!.data, x!.shape, dtype,
      dtype === 'float32' ? (v) => 1 / (1 + Math.fround(Math.exp(-v))) : (v) => 1 / (1 + Math.exp(-v))),
    grads: [{ saves: ['result'], vjp: (g, s) => g.mul(s.result.mul(s.result.rsub(1))) }],
  } satisfies OpDef<None>,
  // relu'(0) = 0: the gradient is zeroed where result <= 0 (op.relu.kink), so at nan it passes, as in
  // PyTorch. relu(-0) is -0, as in PyTorch.
  relu: unary('ReluBackward0', (x) => (x < 0 ? 0 : x), {
    saves: ['result'], vjp: (g, s) => g.thresholdBackward(s.result),
  }),
  // sqrt'(0) = inf, as g / (2 * result) gives (op.sqrt.zero).
  sqrt: unary('SqrtBackward0', Math.sqrt, { saves: ['result'], vjp: (g, s) => g.div(s.result.mul(2)) }),
  // abs'(0) = 0: the sign of 0 is 0 (op.abs.kink).
  // abs'(0) = 0: sgn(0) is 0 (op.abs.kink). abs'(nan) = 0 too: PyTorch's sgn(nan) is 0.
  abs: unary('AbsBackward0', Math.abs, { saves: ['self'], vjp: (g, s) => g.mul(s.self.sgn()) }),
  sgn: unary('SgnBackward0', signum, { saves: ['self'], vjp: (_g, s) => zerosLike(s.self) }),
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
  sign: unary('SignBackward0', signum, { saves: none, vjp: (g) => zerosLike(g) }),
  floor: unary('FloorBackward0', Math.floor, { saves: none, vjp: (g) => zerosLike(g) }),
  ceil: unary('CeilBackward0', Math.ceil, { saves: none, vjp: (g) => zerosLike(g) }),
  round: unary('RoundBackward0', roundHalfEven, { saves: none, vjp: (g) => zerosLike(g) }),
  trunc: unary('TruncBackward0', Math.trunc, { saves: none, vjp: (g) => zerosLike(g) }),

  // ----- elementwise, two inputs (broadcasting) -----
  add: binary('AddBackward0', (x, y) => x + y, { saves: none, vjp: (g) => g }, { saves: none, vjp: (g) => g }),
  sub: binary('SubBackward0', (x, y) => x - y, { saves: none, vjp: (g) => g }, { saves: none, vjp: (g) => g.neg() }),
  mul: binary('MulBackward0', (x, y) => x * y,
    { saves: ['other'], vjp: (g, s) => g.mul(s.other) },
    { saves: ['self'], vjp: (g, s) => g.mul(s.self) }),
  div: binary('DivBackward0', (x, y) => x / y,
    { saves: ['other'], vjp: (g, s) => g.div(s.other) },
    { saves: ['self', 'other'], vjp: (g, s) => g.neg().mul(s.self).div(s.other.mul(s.other)) }),
  // pow with a tensor exponent. d/dx is 0 where the exponent is 0; d/dy is 0 where x = 0 and y >= 0
  // (op.pow.zero-base), masks PyTorch applies so that 0 ** y stays differentiable.
  pow: binary('PowBackward1', Math.pow,
    {
      saves: ['self', 'other'],
      vjp: (g, s) => g.mul(s.other.mul(s.self.pow(s.other.sub(1))))
        .where(constantLike(s.other, (y) => (y === 0 ? 0 : 1)), 0),
    },
    {
      saves: ['self', 'other', 'result'],
      // The mask sits inside the product, as in PyTorch: a nan incoming gradient stays nan at a
      // masked element (its second derivative at x = 0, y = 2 is nan, not 0).
      vjp: (g, s) => g.mul(s.result.mul(s.self.log())
        .where(constantZip(s.self, s.other, (x, y) => (x === 0 && y >= 0 ? 0 : 1)), 0)),
    }),

  // ----- a number exponent, a reflected scalar, masks -----
  powScalar: {
    gradFn: 'PowBackward0',
    forward: ([x], a: PowAttrs, dtype) => kernels.map(x!.data, x!.shape, dtype, (v) => Math.pow(v, a.exponent)),
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
    forward: ([x], a: ScalarAttrs, dtype) => kernels.map(x!.data, x!.shape, dtype, (v) => a.value - v),
    grads: [{ saves: none, vjp: (g) => g.neg() }],
  } satisfies OpDef<ScalarAttrs>,
  /**
   * Keeps x where mask is nonzero, puts `fill` elsewhere; the mask is a constant. The mask comes
   * first so that the next functions read [null, x], as PyTorch's where(cond, zeros, x) gives.
   */
  where: {
    gradFn: 'WhereBackward0',
    forward: ([m, x], a: ScalarAttrs, dtype) =>
      kernels.zip(m!.data, m!.shape, x!.data, x!.shape, dtype, (k, v) => (k !== 0 ? v : a.value)),
    grads: [
      { saves: none, vjp: (g) => zerosLike(g) },
      { saves: ['self'], vjp: (g, s) => g.where(s.self, 0) },
    ],
  } satisfies OpDef<ScalarAttrs>,
  /** masked_fill: `value` where the constant mask is nonzero, as backward formulas mask (MaskedFillBackward0). */
  maskedFill: {
    gradFn: 'MaskedFillBackward0',
    forward: ([x, m], a: ScalarAttrs, dtype) => kernels.zip(x!.data, x!.shape, m!.data, m!.shape, dtype, (v, k) => (k !== 0 ? a.value : v)),
    grads: [
      { saves: ['other'], vjp: (g, s) => g.maskedFill(s.other, 0) },
      { saves: none, vjp: (g) => zerosLike(g) },
    ],
  } satisfies OpDef<ScalarAttrs>,
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
  /** torch.flip along one dim: its own adjoint. */
  flip: {
    gradFn: 'FlipBackward0',
    forward: ([x], a: DimAttrs, dtype) => kernels.flip(x!.data, x!.shape, a.dim, dtype),
    grads: [{ saves: none, vjp: (g, _s, a) => g.flipDim(a.dim) }],
  } satisfies OpDef<DimAttrs>,
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
  const kind = (t: Tensor) => (t.dtype === 'float64' ? 'Double' : 'Float');
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

function moment(gradFn: 'VarBackward0' | 'StdBackward0', std: boolean): OpDef<MomentAttrs> {
  return {
    gradFn,
    forward: ([x], a, dtype) => {
      const r = kernels.variance(x!.data, x!.shape, a.dims, a.correction, std, dtype);
      return { shape: a.keepdim ? r.shape : x!.shape.filter((_, i) => !a.dims.includes(i)), data: r.data };
    },
    grads: [{
      saves: std ? ['self', 'result'] : ['self'],
      // std_backward: var_backward of g / (2 · result), with 0 where result is 0 (zero spread).
      vjp: (g, s, a) => varBackward(gradFn, std ? g.div(s.result.mul(2)).maskedFill(constantLike(s.result, (r) => (r === 0 ? 1 : 0)), 0) : g, s.self, a),
    }],
  };
}

/**
 * var_backward of PyTorch 1.13: (2 / (n - correction)) · g · (x - mean). Without a dim (or for a
 * 0-d input) n is the element count, and where n equals the correction the gradient is inf · g of
 * shape [], which fails for an input with dims, as in PyTorch. With a dim, n is the product of the
 * listed dims' sizes (1 for an empty list, whose gradient is then ±inf).
 */
function varBackward(gradFn: string, g: Tensor, x: Tensor, a: MomentAttrs): Tensor {
  if (a.listed === null || x.ndim === 0) {
    const n = x.numel();
    if (n === a.correction) {
      if (x.ndim > 0) fail('invalid-argument', `Function ${gradFn} returned an invalid gradient at index 0 - got [] but expected shape compatible with [${x.shape.join(', ')}]`);
      return g.mulScalar(Infinity);
    }
    return g.mulScalar(2 / (n - a.correction)).mul(x.sub(x.mean()));
  }
  let grad = g;
  if (!a.keepdim && x.ndim > 1) for (const d of [...a.listed].sort((p, q) => p - q)) grad = grad.unsqueeze(d);
  const n = a.listed.reduce((c, d) => c * x.shape[d]!, 1);
  return grad.mulScalar(2 / (n - a.correction)).mul(x.sub(x.mean(a.dims, true)));
}

/**
 * norm_backward of PyTorch 1.13: p = 1 gives sgn(x) · g; p = 2 gives g · x / norm with 0 where the
 * norm is 0 (the zero vector has gradient 0); p = inf shares g equally among the elements whose
 * |x| equals the norm (or is nan): sgn(x) · (g / count · mask), the mask and count constants.
 */
function normBackward(g: Tensor, x: Tensor, norm: Tensor, a: NormAttrs): Tensor {
  let grad = g;
  let n = norm;
  if (!a.keepdim && x.ndim !== 0) {
    for (const d of [...a.dims].sort((p, q) => p - q)) {
      grad = grad.unsqueeze(d);
      n = n.unsqueeze(d);
    }
  }
  if (a.p === 1) return x.sgn().mul(grad);
  if (a.p === 2) return grad.mul(x.div(n).maskedFill(constantLike(n, (v) => (v === 0 ? 1 : 0)), 0));
  const mask = constantZip(x, n, (v, m) => (Math.abs(v) === m || Number.isNaN(v) ? 1 : 0));
  return x.sgn().mul(grad.div(mask.sum(a.dims, true)).mul(mask));
}

/** PyTorch's reversed_cumsum: w.flip(dim).cumsum(dim).flip(dim). */
const reversedCumsum = (w: Tensor, dim: number): Tensor => w.flipDim(dim).cumsum(dim).flipDim(dim);

/**
 * prod_safe_zeros_backward: g times the product of the other elements along dim, as the running
 * products before (cumprod of [1, x_0, ..., x_{n-2}]) times those after, in that order.
 */
function othersProduct(g: Tensor, x: Tensor, dim: number): Tensor {
  if (x.numel() === 0) return g.expand([...x.shape]);
  if (x.shape[dim] === 1) return g;
  const before = x.shiftDim(dim, 1, 1).cumprod(dim);
  const after = x.flipDim(dim).shiftDim(dim, 1, 1).cumprod(dim).flipDim(dim);
  return g.mul(before.mul(after));
}

/**
 * cumprod's gradient where x has zeros, without dividing: for each k along dim, the running
 * product of x with x_k replaced by 1 is dy_j/dx_k for j >= k. Written with tensor ops, so it is
 * exact to any order, as PyTorch's createGraph path (a loop over k of products and cumprods) is.
 */
function cumprodWithZeros(g: Tensor, x: Tensor, dim: number): Tensor {
  const n = x.shape[dim]!;
  // Constant masks along dim, of size 1 elsewhere (they broadcast).
  const along = (f: (i: number) => number) =>
    new Tensor(kernels.map(new Float64Array(n), [n], x.dtype, (_v) => 0).data.map((_v, i) => f(i)), x.shape.map((d, i) => (i === dim ? d : 1)), x.dtype);
  let grad: Tensor | null = null;
  for (let k = 0; k < n; k++) {
    const partial = x.where(along((i) => (i === k ? 0 : 1)), 1).cumprod(dim);
    const dk = partial.mul(g).where(along((j) => (j >= k ? 1 : 0)), 0).sum(dim, true);
    const term = dk.expand([...x.shape]).where(along((i) => (i === k ? 1 : 0)), 0);
    grad = grad ? grad.add(term) : term;
  }
  return grad!;
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
