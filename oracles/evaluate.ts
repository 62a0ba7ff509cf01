import type { Program, Step } from '../spec/program.ts';
import { math } from './mathjs.ts';
import type { Attrs } from '../spec/program.ts';
import { walkProgram, type ActivationOp, type Algebra, type BinaryOp, type CompareOp, type UnaryOp } from './walk.ts';

/**
 * A float64 forward interpreter, written apart from the engine so that finite differences judge
 * the engine's gradients against an independent forward meaning. Plain Math, no mathjs: finite
 * differences call it thousands of times.
 */

export interface Evaluated { shape: number[]; values: Float64Array }

/** PyTorch's sign: 0 at 0, -0 and nan. */
export const signOf = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0);
/** PyTorch's round: halves to the even neighbour (2.5 is 2, -0.5 is -0). */
export const roundHalfEven = (x: number): number => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));

const UNARY: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 || x === 0 ? x : Number.isNaN(x) ? NaN : 0), // relu(-0) is -0 (op.relu.kink)
  sqrt: Math.sqrt,
  abs: Math.abs,
  reciprocal: (x) => 1 / x,
  log1p: Math.log1p,
  expm1: Math.expm1,
  erf: (x) => math.erf(x) as number, // mathjs's own erf: independent of the engine's
  atan: Math.atan,
  asin: Math.asin,
  acos: Math.acos,
  sinh: Math.sinh,
  cosh: Math.cosh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  sign: signOf,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  trunc: Math.trunc,
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  // Math.pow(1, NaN) and Math.pow(1, ±Infinity) are NaN in JavaScript, 1 in C (and in PyTorch).
  pow: (a, b) => (a === 1 ? 1 : Math.pow(a, b)),
};

/** IEEE comparisons: nan is unequal to everything. */
export const COMPARE: Record<CompareOp, (a: number, b: number) => boolean> = {
  gt: (a, b) => a > b, ge: (a, b) => a >= b, lt: (a, b) => a < b, le: (a, b) => a <= b, eq: (a, b) => a === b, ne: (a, b) => a !== b,
};

/**
 * The activations as spec/autograd.md states them (PyTorch 1.13's formulas); `r` rounds to the
 * dtype where a step's rounding decides the result (the threshold test, exp(x) - 1, exp(-x)).
 */
function activation(op: ActivationOp, a: Attrs, x: number, r: (v: number) => number): number {
  switch (op) {
    case 'softplus': {
      const [beta, threshold] = [a.beta ?? 1, a.threshold ?? 20];
      const xb = r(x * beta);
      return xb > r(threshold) ? x : Math.log1p(Math.exp(xb)) / beta;
    }
    case 'leakyRelu': return x > 0 ? x : x * (a.negativeSlope ?? 0.01);
    case 'elu': return x > 0 || Number.isNaN(x) ? x : (r(Math.exp(x)) - 1) * (a.alpha ?? 1);
    case 'gelu': return a.approximate === 'tanh'
      ? 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))
      : x * 0.5 * (1 + (math.erf(x * Math.SQRT1_2) as number));
    case 'silu': return x / (1 + r(Math.exp(-x)));
  }
}

/** The largest term, NaN if one is NaN, 0 where it is ±inf (oracles/walk.ts shift). */
export function shiftOf(terms: readonly number[]): number {
  let m = -Infinity;
  for (const t of terms) if (Number.isNaN(t) || t > m) m = t;
  return Number.isNaN(m) ? NaN : Math.abs(m) === Infinity ? 0 : m;
}

/** The largest or smallest term; nan if any term is nan (op.max). */
export function selectOf(mode: 'max' | 'min', terms: readonly number[]): number {
  let r = mode === 'max' ? -Infinity : Infinity;
  for (const t of terms) {
    if (Number.isNaN(t)) return NaN;
    if (mode === 'max' ? t > r : t < r) r = t;
  }
  return r;
}

/** clamp: below min gives min, then above max gives max; nan stays nan (op.clamp). */
export const clampOf = (x: number, min: number, max: number): number => {
  if (Number.isNaN(min) || Number.isNaN(max)) return NaN;
  const low = x < min ? min : x;
  return low > max ? max : low;
};

/**
 * Every bound name's shape and values. `overrides` replaces leaf values (same length); an override
 * naming a `detach` result holds that value fixed, so that finite differences see it as the
 * constant that backward sees (without one, detach is the identity here).
 */
export function evaluateProgram(
  program: Program,
  overrides?: ReadonlyMap<string, ArrayLike<number>>,
  options: { dtype?: 'float32' | 'float64' } = {},
): Map<string, Evaluated> {
  // In float32 every op's result is rounded to float32, as the engine stores it; sigmoid is
  // 1 / (1 + exp(-t)) with exp(-t) itself in float32 (op.sigmoid), so it underflows to exactly 0
  // where exp(-t) overflows. Only the exact points (zeros, infinities) of this evaluation are
  // trusted to the last bit; transcendental functions may differ by an ulp.
  const r = options.dtype === 'float32' ? Math.fround : (x: number) => x;
  const unary = options.dtype === 'float32'
    ? (op: UnaryOp, a: number) => (op === 'sigmoid' ? r(1 / r(1 + r(Math.exp(-a)))) : r(UNARY[op](a)))
    : (op: UnaryOp, a: number) => UNARY[op](a);
  const algebra: Algebra<number> = {
    leaf: (_name, _index, value) => r(value),
    constant: (value) => r(value),
    unary,
    binary: (op, a, b) => r(BINARY[op](a, b)),
    clampMin: (a, bound) => (a < bound ? bound : a), // nan stays nan, as C++'s std::max(nan, c) gives
    sum: (terms) => {
      let s = 0;
      for (const t of terms) s += t;
      return r(s);
    },
    activation: (op, attrs, a) => r(activation(op, attrs, a, r)),
    shift: shiftOf,
    max: (terms) => terms.reduce((m, t) => (Number.isNaN(t) || t > m ? t : m), -Infinity),
    product: (factors) => {
      let p = 1;
      for (const f of factors) p *= f;
      return r(p);
    },
    // Operands are already in the dtype (each op's result is rounded), so they compare as PyTorch's do.
    compare: (op, a, b) => (COMPARE[op](a, b) ? 1 : 0),
    select: (c, a, b) => (c !== 0 ? a : b),
    choose: (mode, terms) => selectOf(mode, terms),
    pick: (mode, terms) => selectOf(mode, terms),
    // A float32 tensor compares with its bounds in float32 (op.clamp).
    clamp: (a, min, max) => r(clampOf(a, r(min), r(max))),
    detach: (name, index, a) => {
      const held = overrides?.get(name);
      if (held && index >= held.length) throw new Error(`the override for ${name} is too short`);
      return held ? held[index]! : a;
    },
  };
  const out = new Map<string, Evaluated>();
  for (const [name, { shape, data }] of walkProgram(program, algebra, overrides)) {
    out.set(name, { shape, values: Float64Array.from(data) });
  }
  return out;
}

/** The value of every `detach` result at the program's point: pass them as overrides to hold them fixed. */
export function detachedValues(program: Program): Map<string, Float64Array> {
  const values = evaluateProgram(program);
  const held = new Map<string, Float64Array>();
  const visit = (steps: Step[]): void => {
    for (const step of steps) {
      if ('noGrad' in step) visit(step.noGrad);
      else if ('enableGrad' in step) visit(step.enableGrad);
      else if ('op' in step && step.op === 'detach' && typeof step.let === 'string') held.set(step.let, values.get(step.let)!.values);
    }
  };
  visit(program.steps);
  return held;
}
