import type { DType, Reduction } from '../spec/program.ts';
import { fail } from './errors.ts';
import { kernels, rounder, type Result } from './kernels.ts';
import { Tensor } from './tensor.ts';
import { reduceForward } from './ops.ts';
import { where, mask, constantLike } from './op-helpers.ts';

/*
 * The forwards and backward helpers of F's losses: reductions, clamps, epsilons, class picks.
 */

export interface LossAttrs { reduction: Reduction; beta: number }
export interface NllAttrs { reduction: Reduction; target: Tensor }

/**
 * A loss's elements `f(input, target)`, then apply_loss_reduction: their mean, their sum, or
 * themselves. In float32 the difference is rounded before f sees it, as PyTorch's kernels compute it.
 */
export function lossForward(x: Tensor, y: Tensor, a: LossAttrs, dtype: DType, f: (d: number) => number): Result {
  const round = rounder(dtype);
  const r = kernels.zip(x.data, x.shape, y.data, y.shape, dtype, (p, q) => f(round(p - q)));
  if (a.reduction === 'none') return r;
  const all = r.shape.map((_, i) => i);
  return reduceForward(new Tensor(r.data, r.shape, dtype), { dims: all, keepdim: false, inputShape: r.shape }, dtype, a.reduction === 'mean');
}

/** The factor of a loss's backward: `base`, divided by the element count for the mean. */
export const lossNorm = (base: number, x: Tensor, a: LossAttrs): number => (a.reduction === 'mean' ? base / x.numel() : base);

/**
 * smooth_l1_loss_backward(g, x, y) with d = x - y: -norm·g where d <= -beta, norm·g where d >= beta,
 * norm·d·g/beta between (nan included). So at beta = 0 and d = 0 it is -norm·g, as in PyTorch. Only
 * the middle depends on d, through tensor ops: the second derivative is norm/beta there, 0 outside
 * and at |d| = beta (PyTorch's double backward masks |d| < beta). The outer parts are constants,
 * -0 in the middle, so that adding them keeps a -0 there.
 */
export function smoothL1Grad(g: Tensor, x: Tensor, y: Tensor, a: LossAttrs): Tensor {
  const d = x.sub(y);
  const outer = constantLike(d, (v) => (v <= -a.beta ? -1 : v >= a.beta ? 1 : -0));
  const middle = mask(d, (v) => !(v <= -a.beta || v >= a.beta));
  // beta = 0 leaves only nan in the middle, and nan / 1 is nan too.
  return where(middle, d, 0).div(a.beta === 0 ? 1 : a.beta).add(outer).mul(lossNorm(1, x, a)).mul(g);
}

/** 1.13's EPSILON of binary_cross_entropy's backward: the float 1e-12, whatever the dtype. */
export const BCE_EPSILON = Math.fround(1e-12);
/** The double 1e-12 of its double backward (binary_cross_entropy_double_backward and friends). */
export const BCE_EPS = 1e-12;

/** Divides by the element count for the mean, as the losses' backward formulas end. */
export const meanOf = (t: Tensor, x: Tensor, a: LossAttrs): Tensor => (a.reduction === 'mean' ? t.div(x.numel()) : t);

/**
 * binary_cross_entropy's elements: (y - 1)·max(log(1 - x), -100) - y·max(log(x), -100), every
 * step rounded to the dtype. Any x outside [0, 1] (nan included) fails, as 1.13's kernel checks.
 */
export function bceForward(x: Tensor, y: Tensor, a: LossAttrs, dtype: DType): Result {
  const r = rounder(dtype);
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
export function bceWithLogitsForward(x: Tensor, y: Tensor, a: LossAttrs, dtype: DType): Result {
  const r = rounder(dtype);
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
export function nllPicks(x: Tensor, t: Tensor): { picked: number[]; count: number } {
  // picked[i] is the flat index of x[i, t_i]; the i-th target's gradient is g[i] for 'none'.
  const classes = x.shape[x.ndim - 1]!;
  const picked = Array.from(t.data, (c, i) => {
    if (c === -100) return -1;
    if (c < 0 || c >= classes) fail('invalid-argument', `Target ${c} is out of bounds.`);
    return i * classes + c;
  });
  return { picked, count: picked.filter((k) => k >= 0).length };
}
