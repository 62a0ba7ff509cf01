import type { DType } from '../spec/program.ts';
import { apply, type OpDef } from './dispatch.ts';
import { alloc, kernels, rounder, type Result } from './kernels.ts';
import { broadcastStrides, forEachBroadcast, stridesOf, type Shape } from './shape.ts';
import { Tensor } from './tensor.ts';
import { zerosLike, constantLike, erf } from './op-helpers.ts';

/*
 * The forwards, backward rows and second derivatives of the softmax family and F's activations, in PyTorch 1.13's order.
 */

// ----- the activations of F and the softmax family (PyTorch 1.13's CPU kernels, in their order) -----

export interface SoftplusAttrs { beta: number; threshold: number }
export interface SlopeAttrs { negativeSlope: number }
export interface AlphaAttrs { alpha: number }
export interface GeluAttrs { approximate: 'none' | 'tanh' }
export interface LogsumexpAttrs { dims: number[]; keepdim: boolean }


/** A constant 0/1 mask from a tensor's data (outside the graph). */
export const maskOf = (t: Tensor, keep: (v: number) => boolean): Tensor => constantLike(t, (v) => (keep(v) ? 1 : 0));

export const SQRT1_2 = Math.SQRT1_2;
/** kBeta of PyTorch's tanh gelu: √2 · 2/√π · 0.5 = √(2/π). */
export const GELU_TANH_BETA = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5;
export const GELU_KAPPA = 0.044715;
/** kBeta of PyTorch's erf gelu backward: 2/√π · √½ · 0.5 = 1/√(2π). */
export const GELU_PDF = (2 / Math.sqrt(Math.PI)) * SQRT1_2 * 0.5;

export function softplusForward(v: number, a: SoftplusAttrs, r: (v: number) => number): number {
  const xb = r(v * r(a.beta));
  return xb > r(a.threshold) ? v : r(r(Math.log1p(r(Math.exp(xb)))) / r(a.beta));
}

export function geluForward(v: number, a: GeluAttrs, r: (v: number) => number): number {
  if (a.approximate === 'tanh') {
    const inner = r(GELU_TANH_BETA * r(v + r(GELU_KAPPA * r(r(v * v) * v))));
    return r(r(0.5 * v) * r(1 + r(Math.tanh(inner))));
  }
  return r(r(v * 0.5) * r(1 + r(erf(r(v * SQRT1_2)))));
}

export function geluBackwardAt(dy: number, x: number, a: GeluAttrs, r: (v: number) => number): number {
  if (a.approximate === 'tanh') {
    const xSq = r(x * x);
    const inner = r(GELU_TANH_BETA * r(x + r(GELU_KAPPA * r(xSq * x))));
    const t = r(Math.tanh(inner));
    const left = r(0.5 * x);
    const right = r(1 + t);
    const leftDerivative = r(0.5 * right);
    const tanhDerivative = r(1 - r(t * t));
    const innerDerivative = r(GELU_TANH_BETA * r(1 + r(r(3 * GELU_KAPPA) * xSq)));
    const rightDerivative = r(r(left * tanhDerivative) * innerDerivative);
    return r(dy * r(leftDerivative + rightDerivative));
  }
  const cdf = r(0.5 * r(1 + r(erf(r(x * SQRT1_2)))));
  const pdf = r(GELU_PDF * r(Math.exp(r(r(x * x) * -0.5))));
  return r(dy * r(cdf + r(x * pdf)));
}

/**
 * The elements grouped by reduction: `group[o]` is the output element that input element o belongs
 * to, for a reduction over `dims` of `shape` (a 0-d tensor is one group of one).
 */
export function groupsOf(shape: Shape, dims: readonly number[]): { kept: number[]; group: Int32Array } {
  const kept = shape.map((d, i) => (dims.includes(i) ? 1 : d));
  const group = new Int32Array(shape.reduce((n, d) => n * d, 1));
  forEachBroadcast(shape, stridesOf(shape), broadcastStrides(kept, shape), (o, _i, j) => { group[o] = j; });
  return { kept, group };
}

/** The largest element of each group; nan if any element is nan, as PyTorch's max. */
export function groupMax(x: ArrayLike<number>, group: Int32Array, n: number): Float64Array {
  const max = new Float64Array(n).fill(-Infinity);
  for (let o = 0; o < x.length; o++) {
    const v = x[o]!;
    const j = group[o]!;
    // A nan once seen stays: `v > nan` is false, so later elements do not replace it.
    if (Number.isNaN(v) || v > max[j]!) max[j] = v;
  }
  return max;
}

/**
 * softmax and log_softmax along one dim, as PyTorch 1.13's CPU kernel: the row's max m (not masked:
 * an infinite max makes x - m nan), e = exp(x - m), s = sum(e); softmax is e · (1/s), log_softmax
 * x - m - log(s).
 */
export function softmaxForward(x: Tensor, dim: number, dtype: DType, log: boolean): Result {
  const shape = x.ndim === 0 ? [1] : [...x.shape];
  const { kept, group } = groupsOf(shape, [dim]);
  const n = kept.reduce((p, d) => p * d, 1);
  const r = rounder(dtype);
  const max = groupMax(x.data, group, n);
  const sum = new Float64Array(n);
  const e = new Float64Array(x.data.length);
  for (let o = 0; o < e.length; o++) {
    const j = group[o]!;
    e[o] = r(Math.exp(r(x.data[o]! - max[j]!)));
    sum[j] = sum[j]! + e[o]!;
  }
  const out = alloc(dtype, e.length);
  for (let o = 0; o < e.length; o++) {
    const j = group[o]!;
    out[o] = log ? r(r(x.data[o]! - max[j]!) - r(Math.log(r(sum[j]!)))) : e[o]! * r(1 / r(sum[j]!));
  }
  return { shape: [...x.shape], data: out };
}

/**
 * logsumexp as PyTorch 1.13 computes it: m = max over dims, set to 0 where it is ±inf (so all -inf
 * gives log(0) = -inf and an inf entry gives inf, not nan), then log(sum(exp(x - m))) + m.
 */
export function logsumexpForward(x: Tensor, a: LogsumexpAttrs, dtype: DType): Result {
  const { kept, group } = groupsOf(x.shape, a.dims);
  const n = kept.reduce((p, d) => p * d, 1);
  const r = rounder(dtype);
  const max = groupMax(x.data, group, n).map((m) => (Math.abs(m) === Infinity ? 0 : m));
  const sum = new Float64Array(n);
  for (let o = 0; o < x.data.length; o++) {
    const j = group[o]!;
    sum[j] = sum[j]! + r(Math.exp(r(x.data[o]! - max[j]!)));
  }
  const out = alloc(dtype, n);
  for (let j = 0; j < n; j++) out[j] = r(Math.log(r(sum[j]!))) + max[j]!;
  return { shape: a.keepdim ? kept : x.shape.filter((_, i) => !a.dims.includes(i)), data: out };
}

/** Inputs [g, x]: x·β > threshold ? g : g·z/(z + 1) with z = exp(x·β). */
export const softplusBackward: OpDef<SoftplusAttrs> = {
  gradFn: 'SoftplusBackwardBackward0',
  forward: ([g, x], a: SoftplusAttrs, dtype) => {
    const r = rounder(dtype);
    return kernels.zip(g!.data, g!.shape, x!.data, x!.shape, dtype, (dy, v) => {
      const xb = r(v * r(a.beta));
      const z = r(Math.exp(xb));
      return xb > r(a.threshold) ? dy : r(r(dy * z) / r(z + 1));
    });
  },
  grads: [
    { saves: ['other'], vjp: (gg, s, a) => apply(softplusBackward, [gg, s.other], a) },
    {
      // sigmoid_backward(gg·g, sigmoid(x·β)) · (x·β < threshold) · β: 0 at the threshold itself.
      saves: ['self', 'other'],
      vjp: (gg, s, a) => {
        const xb = s.other.mul(a.beta);
        const y = xb.sigmoid();
        return gg.mul(s.self).mul(y.rsub(1)).mul(y).mul(maskOf(xb, (v) => v < a.threshold)).mul(a.beta);
      },
    },
  ],
};

export const leakyReluBackward: OpDef<SlopeAttrs> = {
  gradFn: 'LeakyReluBackwardBackward0',
  forward: ([g, x], a: SlopeAttrs, dtype) =>
    kernels.zip(g!.data, g!.shape, x!.data, x!.shape, dtype, (dy, v) => (v > 0 ? dy : dy * rounder(dtype)(a.negativeSlope))),
  grads: [
    { saves: ['other'], vjp: (gg, s, a) => apply(leakyReluBackward, [gg, s.other], a) },
    { saves: ['other'], vjp: (_gg, s) => zerosLike(s.other) },
  ],
};

/** Inputs [g, x]: x <= 0 ? g·α·exp(x) : g (so α at 0 and -0, and g at nan). */
export const eluBackward: OpDef<AlphaAttrs> = {
  gradFn: 'EluBackwardBackward0',
  forward: ([g, x], a: AlphaAttrs, dtype) => {
    const r = rounder(dtype);
    return kernels.zip(g!.data, g!.shape, x!.data, x!.shape, dtype, (dy, v) => (v <= 0 ? r(dy * r(a.alpha)) * r(Math.exp(v)) : dy));
  },
  grads: [
    { saves: ['other'], vjp: (gg, s, a) => apply(eluBackward, [gg, s.other], a) },
    // elu_backward(gg·g, x) · (x < 0): the second derivative is 0 at 0 itself.
    { saves: ['self', 'other'], vjp: (gg, s, a) => apply(eluBackward, [gg.mul(s.self), s.other], a).mul(maskOf(s.other, (v) => v < 0)) },
  ],
};

export const geluBackward: OpDef<GeluAttrs> = {
  gradFn: 'GeluBackwardBackward0',
  forward: ([g, x], a: GeluAttrs, dtype) => kernels.zip(g!.data, g!.shape, x!.data, x!.shape, dtype, (dy, v) => geluBackwardAt(dy, v, a, rounder(dtype))),
  grads: [
    { saves: ['other'], vjp: (gg, s, a) => apply(geluBackward, [gg, s.other], a) },
    { saves: ['self', 'other'], vjp: (gg, s, a) => gg.mul(s.self).mul(geluSecond(s.other, a)) },
  ],
};

/**
 * gelu's second derivative as PyTorch 1.13's gelu_double_backward writes it: 2·pdf - x²·pdf with
 * pdf = exp(-x²/2)/√(2π) for erf; for tanh, f'gh + f'gh + g'fh + h'fg with f = x/2, g = 1 - tanh²,
 * h = β(1 + 3κx²) (tensor ops, so a third derivative exists).
 */
export function geluSecond(x: Tensor, a: GeluAttrs): Tensor {
  if (a.approximate === 'tanh') {
    const inner = x.add(x.powScalar(3).mul(GELU_KAPPA)).mul(GELU_TANH_BETA);
    const t = inner.tanh();
    const sech = inner.cosh().reciprocal();
    const f = x.mul(0.5);
    const g = t.mul(t).rsub(1);
    const h = x.mul(x).mul(3 * GELU_KAPPA).add(1).mul(GELU_TANH_BETA);
    const fPrimeGh = g.mul(0.5).mul(h);
    const gPrime = sech.mul(2).mul(sech.neg().mul(t)).mul(h);
    const gPrimeFh = f.mul(h).mul(gPrime);
    const hPrime = x.mul(6 * GELU_KAPPA).mul(GELU_TANH_BETA);
    const hPrimeFg = f.mul(g).mul(hPrime);
    return fPrimeGh.add(fPrimeGh).add(gPrimeFh).add(hPrimeFg);
  }
  const sq = x.mul(x);
  const pdf = sq.mul(-0.5).exp().mul(GELU_PDF);
  return pdf.mul(2).sub(sq.mul(pdf));
}
