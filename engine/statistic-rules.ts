import type { OpDef } from './dispatch.ts';
import { fail } from './errors.ts';
import { kernels } from './kernels.ts';
import { Tensor } from './tensor.ts';
import { where, mask, constantZip } from './op-helpers.ts';

/*
 * prod, cumprod, var, std and norm: their attributes and PyTorch 1.13's backward formulas at zeros and zero spread.
 */

export interface ShiftAttrs { dim: number; by: 1 | -1; fill: number }
/**
 * var and std: `listed` is the dim argument as given (null: none), which PyTorch 1.13's backward
 * reads for its count; `dims` the dims reduced (every dim for none and for an empty list).
 */
export interface MomentAttrs { dims: number[]; listed: number[] | null; correction: number; keepdim: boolean }
export interface NormAttrs { p: number; dims: number[]; keepdim: boolean }
/** dim null: the product of every element (ProdBackward0). */
export interface ProdAttrs { dim: number | null; keepdim: boolean }

export function moment(gradFn: 'VarBackward0' | 'StdBackward0', std: boolean): OpDef<MomentAttrs> {
  return {
    gradFn,
    forward: ([x], a, dtype) => {
      const r = kernels.variance(x!.data, x!.shape, a.dims, a.correction, std, dtype);
      return { shape: a.keepdim ? r.shape : x!.shape.filter((_, i) => !a.dims.includes(i)), data: r.data };
    },
    grads: [{
      saves: std ? ['self', 'result'] : ['self'],
      // std_backward: var_backward of g / (2 · result), with 0 where result is 0 (zero spread).
      vjp: (g, s, a) => varBackward(gradFn, std ? g.div(s.result.mul(2)).maskedFill(mask(s.result, (r) => r === 0), 0) : g, s.self, a),
    }],
  };
}

/**
 * var_backward of PyTorch 1.13: (2 / (n - correction)) · g · (x - mean). Without a dim (or for a
 * 0-d input) n is the element count, and where n equals the correction the gradient is inf · g of
 * shape [], which fails for an input with dims, as in PyTorch. With a dim, n is the product of the
 * listed dims' sizes (1 for an empty list, whose gradient is then ±inf).
 */
export function varBackward(gradFn: string, g: Tensor, x: Tensor, a: MomentAttrs): Tensor {
  if (a.listed === null || x.ndim === 0) {
    const n = x.numel();
    if (n === a.correction) {
      if (x.ndim > 0) fail('shape-mismatch', `Function ${gradFn} returned an invalid gradient at index 0 - got [] but expected shape compatible with [${x.shape.join(', ')}]`);
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
export function normBackward(g: Tensor, x: Tensor, norm: Tensor, a: NormAttrs): Tensor {
  let grad = g;
  let n = norm;
  if (!a.keepdim && x.ndim !== 0) {
    for (const d of [...a.dims].sort((p, q) => p - q)) {
      grad = grad.unsqueeze(d);
      n = n.unsqueeze(d);
    }
  }
  if (a.p === 1) return x.sgn().mul(grad);
  if (a.p === 2) return grad.mul(x.div(n).maskedFill(mask(n, (v) => v === 0), 0));
  const tied = constantZip(x, n, (v, m) => (Math.abs(v) === m || Number.isNaN(v) ? 1 : 0));
  return x.sgn().mul(grad.div(tied.sum(a.dims, true)).mul(tied));
}

/** PyTorch's reversed_cumsum: w.flip(dim).cumsum(dim).flip(dim). */
export const reversedCumsum = (w: Tensor, dim: number): Tensor => w.flipDim(dim).cumsum(dim).flipDim(dim);

/**
 * prod_safe_zeros_backward: g times the product of the other elements along dim, as the running
 * products before (cumprod of [1, x_0, ..., x_{n-2}]) times those after, in that order.
 */
export function othersProduct(g: Tensor, x: Tensor, dim: number): Tensor {
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
export function cumprodWithZeros(g: Tensor, x: Tensor, dim: number): Tensor {
  const n = x.shape[dim]!;
  // Constant masks along dim, of size 1 elsewhere (they broadcast).
  const along = (f: (i: number) => boolean) => {
    const data = kernels.map(new Float64Array(n), [n], 'bool', () => 0).data;
    for (let i = 0; i < n; i++) data[i] = f(i) ? 1 : 0;
    return new Tensor(data, x.shape.map((d, i) => (i === dim ? d : 1)), 'bool');
  };
  let grad: Tensor | null = null;
  for (let k = 0; k < n; k++) {
    const partial = where(along((i) => i !== k), x, 1).cumprod(dim);
    const dk = where(along((j) => j >= k), partial.mul(g), 0).sum(dim, true);
    const term = where(along((i) => i === k), dk.expand([...x.shape]), 0);
    grad = grad ? grad.add(term) : term;
  }
  return grad!;
}
