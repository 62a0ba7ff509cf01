import type { DType } from '../spec/program.ts';
import { numberDtype, resultDtype, type OpDef, type Rule } from './dispatch.ts';
import { fail } from './errors.ts';
import * as F from './functional.ts';
import { alloc, kernels, rounder } from './kernels.ts';
import { numel } from './shape.ts';
import { Tensor } from './tensor.ts';

/*
 * What the op table's rows are made of: row factories, dtype rules, constants and masks.
 */

export type None = Record<string, never>;
export const none: readonly never[] = [];

// ----- result dtypes of int64 and bool inputs (spec: dtype.*) -----
export type DtypeRule = (inputs: readonly Tensor[]) => DType;
export const isFloat = (d: DType) => d === 'float32' || d === 'float64';
/** Math functions compute in floating point: int64 and bool give the default dtype float32. */
export const floatResult: DtypeRule = ([x]) => (isFloat(x!.dtype) ? x!.dtype : 'float32');
/** Ops that keep integers integers; bool is refused with PyTorch's message. */
export const noBool = (message: string): DtypeRule => ([x]) => {
  if (x!.dtype === 'bool') fail('invalid-argument', message);
  return x!.dtype;
};
export const notForBool = (kernel: string) => noBool(`"${kernel}" not implemented for 'Bool'`);
export const SUB_BOOL = 'Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.';
export const SUB_BOOLS = 'Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.';

/** A Python number as PyTorch wraps it: a 0-d tensor of the lowest priority, int64 for an integer. */
export function wrapped(x: number): Tensor {
  const t = new Tensor(Float64Array.of(x), [], numberDtype(x));
  t.wrappedNumber = true;
  return t;
}

/**
 * Integer power: exact for int64, and for a negative exponent what an integer loop gives
 * (1 and -1 keep their powers, every other base gives 0), as PyTorch's int64 pow does.
 */
export function intPow(x: number, y: number): number {
  if (y >= 0) return Math.pow(x, y);
  if (x === 1) return 1;
  if (x === -1) return y % 2 === 0 ? 1 : -1;
  return 0;
}

export function unary(gradFn: string, f: (x: number) => number, rule: Rule<None>, dtype: DtypeRule = floatResult): OpDef<None> {
  return {
    gradFn,
    dtype,
    forward: ([x], _a, dtype) => kernels.map(x!.data, x!.shape, dtype, f),
    grads: [rule],
  };
}

export function binary<A = None>(gradFn: string, f: (x: number, y: number) => number, self: Rule<A>, other: Rule<A>, dtype?: DtypeRule): OpDef<A> {
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
export function comparison(f: (x: number, y: number) => boolean): OpDef<None> {
  return {
    gradFn: 'none',
    dtype: () => 'bool',
    forward: ([a, b]) => {
      const cast = rounder(resultDtype([a!, b!]));
      return kernels.zip(a!.data, a!.shape, b!.data, b!.shape, 'bool', (x, y) => (f(cast(x), cast(y)) ? 1 : 0));
    },
    grads: [{ saves: none, vjp: (g) => zerosLike(g) }, { saves: none, vjp: (g) => zerosLike(g) }],
  };
}

/** Where-calls of the rules, through the public function (its argument checks and wrapping). */
export const where = (c: Tensor, a: Tensor | number, b: Tensor | number): Tensor => F.where(c, a, b);

/** A bool constant from a tensor's data: the masks of the rules. */
export const mask = (t: Tensor, f: (v: number) => boolean): Tensor =>
  new Tensor(kernels.map(t.data, t.shape, 'bool', (v) => (f(v) ? 1 : 0)).data, t.shape, 'bool');
export function maskZip(a: Tensor, b: Tensor, f: (x: number, y: number) => boolean): Tensor {
  const r = kernels.zip(a.data, a.shape, b.data, b.shape, 'bool', (x, y) => (f(x, y) ? 1 : 0));
  return new Tensor(r.data, r.shape, 'bool');
}

/** A 0/1 float constant (a count or weight mask) as the bool condition torch.where takes. */
export const nonzero = (t: Tensor): Tensor => mask(t, (v) => v !== 0);

/** Zero gradients are constants: `g * 0` would turn an infinite g into nan. */
export const zerosLike = (t: Tensor): Tensor => constantLike(t, () => 0);
/** Zeros of a shape (outside the graph): the start of scatter-like backward formulas. */
export const zerosOf = (shape: readonly number[], dtype: DType): Tensor => new Tensor(alloc(dtype, numel(shape)), [...shape], dtype);

/** A constant tensor (outside the graph) computed elementwise from tensors' data: masks and signs. */
export const constantLike = (t: Tensor, f: (v: number) => number): Tensor =>
  new Tensor(kernels.map(t.data, t.shape, t.dtype, f).data, t.shape, t.dtype);
/** A constant float tensor from two tensors' data (broadcast): counts and weights, not conditions. */
export function constantZip(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const r = kernels.zip(a.data, a.shape, b.data, b.shape, a.dtype, f);
  return new Tensor(r.data, r.shape, a.dtype);
}

/**
 * erf in float64, to a few ulp: below 3 the series 2/√π · e^(-x²) · Σ x·(2x²)^n / (1·3·…·(2n+1)),
 * whose terms are all positive (no cancellation); from 3 on, 1 - erfc(x) with erfc's continued
 * fraction e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up.
 */
export function erf(x: number): number {
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
