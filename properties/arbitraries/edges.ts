import fc from 'fast-check';
import type { FloatDType, Scalar } from '../../spec/program.ts';
import { ordinary } from './numbers.ts';

/*
 * Inputs where engines break, mixed into ordinary values with a modest weight so that most
 * elements stay ordinary and the oracles still judge every sample: large magnitudes (up to 1e3),
 * the overflow and underflow edges of exp, sigmoid and tanh in float32 (exp overflows past 88.72,
 * exp(-x) underflows to 0 past 103.97, tanh rounds to ±1 from about 9) and in float64 (709.78,
 * 745), tiny and subnormal values, and exact and signed zeros.
 */

/** One element in EDGE_WEIGHT + 1 on average is an edge value (the rest are ordinary()). */
export const EDGE_WEIGHT = 9;

const F32_SUBNORMAL = 2 ** -149; // the smallest float32 subnormal, 1.4e-45
const F32_SUBNORMAL_LARGE = 2 ** -130; // a float32 subnormal that is a normal float64
const F64_SUBNORMAL = 2 ** -1074; // 5e-324: 0 once rounded to float32

const signed = (values: readonly number[]): number[] => values.flatMap((v) => [v, -v]);

/** Up to 1e3 on the 1/64 grid, exact in both dtypes. */
export const large = (): fc.Arbitrary<number> => fc.integer({ min: 64 * 8, max: 64 * 1000 }).map((i) => i / 64);

/** The named edges of each input domain of the op properties (see properties/ops.ts). */
export const EDGES = {
  // exp, sigmoid, tanh, sin, cos, neg and the operands of add, sub, mul, div's dividend.
  // 89 to 103.5: exp(-x) overflows float32 while 1 / (1 + exp(-x)) in float64 is still a float32 subnormal.
  any: [0, -0, ...signed([F32_SUBNORMAL, F32_SUBNORMAL_LARGE, F64_SUBNORMAL, 9.5, 20, 88, 88.75, 89, 95, 100, 103.5, 104, 709.75, 710, 745, 746])],
  // log, sqrt: tiny and subnormal arguments, and 0 itself (log(0) = -inf, sqrt'(0) = inf).
  positive: [0, F32_SUBNORMAL, F32_SUBNORMAL_LARGE, F64_SUBNORMAL, 88, 104, 710],
  // reciprocal, div's divisor: signed zeros (1/0 = inf, 1/-0 = -inf) and large values.
  nonzero: [0, -0, ...signed([88, 104, 710])],
  // relu, abs: the kink itself, from both sides, and its tiny neighbours.
  kink: [0, -0, ...signed([F32_SUBNORMAL, F32_SUBNORMAL_LARGE, F64_SUBNORMAL])],
  // tan: zeros and tiny values only; its poles stay out of reach. asin, acos and atanh too.
  small: [0, -0, ...signed([F32_SUBNORMAL, F64_SUBNORMAL])],
  // log1p: 0, a subnormal and large values. Not the smallest subnormal of either dtype: PyTorch's
  // log1p gives 0 there, one step from the correctly rounded value (op.log1p, not specified).
  log1p: [0, F32_SUBNORMAL_LARGE, 88, 104, 710],
  // sinh, cosh: as `any`, but outside the bands where PyTorch's result depends on the element's
  // place in the tensor (float32 88.72 to 89.42, float64 709.78 to 710.48: op.sinh).
  hyperbolic: [0, -0, ...signed([F32_SUBNORMAL, F32_SUBNORMAL_LARGE, F64_SUBNORMAL, 9.5, 20, 88, 90, 95, 100, 103.5, 104, 709.75, 711, 745, 746])],
  // acosh: 1 itself (gradient inf) and large values.
  aboveOne: [1, 88, 104, 710],
  // floor, ceil, round, trunc, sign: large and tiny values, none at a jump (an integer, a half, 0).
  offJumps: [...signed([F32_SUBNORMAL, F64_SUBNORMAL, 9.75, 88.25, 100.75, 709.75])],
} as const satisfies Record<string, readonly number[]>;

export type EdgeDomain = keyof typeof EDGES;

/** ordinary() with a 1-in-(EDGE_WEIGHT + 1) share of edge values: named edges and, where allowed, large magnitudes. */
export function withEdges(domain: EdgeDomain, base: fc.Arbitrary<number> = ordinary()): fc.Arbitrary<number> {
  const named = fc.constantFrom(...EDGES[domain]);
  const outsideBands = (v: number) => !(Math.abs(v) > 88.7 && Math.abs(v) < 89.5) && !(Math.abs(v) > 709.7 && Math.abs(v) < 710.5);
  const big = domain === 'any' ? [large(), large().map((v) => -v)]
    : domain === 'hyperbolic' ? [large().filter(outsideBands), large().filter(outsideBands).map((v) => -v)]
      : domain === 'positive' || domain === 'nonzero' ? [large()] : [];
  const edge = big.length ? fc.oneof(named, ...big) : named;
  return fc.oneof({ arbitrary: base, weight: EDGE_WEIGHT }, { arbitrary: edge, weight: 1 });
}

/*
 * Non-finite leaves: nan, inf and -inf, drawn with a modest weight where the spec defines the
 * result (properties/non-finite.ts judges those samples). A sample's elements are drawn apart, so
 * a tensor of n elements holds one with probability about 1 - (1 - 1/(NON_FINITE_WEIGHT + 1))^n.
 */
export const NON_FINITE = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] as const;

/** One element in NON_FINITE_WEIGHT + 1 on average is non-finite, where an arbitrary draws them. */
export const NON_FINITE_WEIGHT = 15;

/** `base` with a 1-in-(NON_FINITE_WEIGHT + 1) share of the given non-finite values (all three by default). */
export function withNonFinite(base: fc.Arbitrary<number>, values: readonly number[] = NON_FINITE): fc.Arbitrary<number> {
  if (values.length === 0) return base;
  return fc.oneof({ arbitrary: base, weight: NON_FINITE_WEIGHT }, { arbitrary: fc.constantFrom(...values), weight: 1 });
}

/** Whether a value is one of the edge values rather than an ordinary one (for measuring the mix). */
export const isEdge = (v: number): boolean => Object.is(v, -0) || Math.abs(v) > 3 || (v !== 0 && Math.abs(v) < 1 / 64);

/**
 * A value as a program leaf of the dtype holds it: rounded to float32 for float32 programs, so the
 * oracles start from exactly the engine's input (a float64 subnormal becomes 0), with -0, nan and
 * the infinities spelled "-0", "nan", "inf" and "-inf" because JSON has no way to write them.
 */
export const asLeafValue = (v: number, dtype: FloatDType): Scalar => {
  const r = dtype === 'float32' ? Math.fround(v) : v;
  if (Number.isNaN(r)) return 'nan';
  if (!Number.isFinite(r)) return r > 0 ? 'inf' : '-inf';
  return Object.is(r, -0) ? '-0' : r;
};
