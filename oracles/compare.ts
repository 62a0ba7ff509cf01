import type { FloatDType } from '../spec/program.ts';
import { unravel } from './shape.ts';

/**
 * The one tolerance policy for gradients:
 *   |actual - expected| <= atol + rtol * max(|actual|, |expected|) + allowance[i]
 * Oracles compute in float64. A float32 engine's rounding accumulates through composed ops (each
 * op rounds its result to 24 bits), hence the looser float32 defaults; the caller rounds the
 * oracle's INPUTS to float32 first, so both sides start from the same point.
 * Non-finite values agree only with the same non-finite value (NaN agrees with NaN here), and
 * zeros computed in the engine's dtype only with a zero (isExact).
 */
export const GRADIENT_TOLERANCE: Record<FloatDType, { rtol: number; atol: number }> = {
  float64: { rtol: 1e-7, atol: 1e-9 },
  float32: { rtol: 1e-4, atol: 1e-5 },
};

/** Multiplies a finite-difference error estimate into an allowance: the estimate is an order of magnitude, not a bound. */
export const FD_SAFETY = 10;

export type OracleName = 'symbolic' | 'finite-difference' | 'evaluation';

export interface GradientCheck {
  actual: ArrayLike<number>;
  expected: ArrayLike<number>;
  dtype: FloatDType;
  oracle: OracleName;
  /** Who computed `actual`, e.g. "reference" or "pytorch". */
  engine: string;
  /** What is compared, e.g. "d out / d x". */
  what: string;
  shape: readonly number[];
  /** Extra absolute allowance per element, e.g. FD_SAFETY times the finite-difference error estimate. */
  allowance?: ArrayLike<number>;
  /** Overrides of the dtype's defaults. */
  rtol?: number;
  atol?: number;
  /** The expected values were computed in the engine's dtype, so their zeros are exact (see isExact). */
  inDtype?: boolean;
}

/**
 * Where a comparison is exact instead of within the tolerance: when the expected value is not
 * finite, and when it is a zero computed in the engine's own dtype (`inDtype`: values recorded from
 * PyTorch, or the forward evaluated with the dtype's rounding). A float32 sigmoid that underflows
 * is exactly 0 (op.sigmoid), not 3.78e-44, which any absolute tolerance would let pass. Zeros of the
 * float64 oracles standing for a float32 result are not exact: the engine rounds differently near
 * the subnormal range (w * fround(exp(x)) is not fround(w * exp(x))). Subnormal and other tiny
 * expected values keep the tolerance, because PyTorch's float32 exp and sigmoid are up to one
 * subnormal step (1.4e-45) off the correctly rounded value there.
 */
export const isExact = (expected: number, inDtype: boolean): boolean => !Number.isFinite(expected) || (inDtype && expected === 0);

/** Exact agreement: NaN with NaN, infinities by sign, zeros by sign only when `signedZero`. */
export const sameValue = (a: number, e: number, signedZero = false): boolean =>
  Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)) || (!signedZero && a === 0 && e === 0);

/** A float64 value as the nearest value of the dtype (float32 overflows to ±inf past 3.4e38). */
export const inDtype = (x: number, dtype: FloatDType): number => (dtype === 'float32' ? Math.fround(x) : x);

/** Null when every element agrees; otherwise a message naming the first element that does not. */
export function compareGradient(check: GradientCheck): string | null {
  const { actual, expected, dtype, oracle, engine, what, shape } = check;
  const rtol = check.rtol ?? GRADIENT_TOLERANCE[dtype].rtol;
  const atol = check.atol ?? GRADIENT_TOLERANCE[dtype].atol;
  const sides = `engine ${engine} vs the ${oracle} oracle`;
  if (actual.length !== expected.length) {
    return `${what}: ${sides}: the engine gave ${actual.length} elements, the oracle ${expected.length} (shape [${shape.join(', ')}])`;
  }
  let first: string | null = null;
  let failures = 0;
  for (let i = 0; i < expected.length; i++) {
    // The oracle's float64 value as the dtype holds it: a float32 gradient past 3.4e38 is inf.
    const [a, e] = [actual[i]!, inDtype(expected[i]!, dtype)];
    const extra = check.allowance?.[i] ?? 0;
    const exact = isExact(e, check.inDtype ?? false) || !Number.isFinite(a);
    const bound = exact ? 0 : atol + rtol * Math.max(Math.abs(a), Math.abs(e)) + extra;
    const ok = exact ? sameValue(a, e) : Math.abs(a - e) <= bound;
    if (ok) continue;
    failures++;
    if (first !== null) continue;
    const abs = Math.abs(a - e);
    const rel = abs / Math.max(Math.abs(a), Math.abs(e));
    const at = `${what}: ${sides} disagree at element [${unravel(i, shape).join(', ')}] of shape [${shape.join(', ')}]: `
      + `engine ${engine} gives ${a}, ${oracle} oracle gives ${e}`;
    first = exact
      ? `${at}; compared exactly (${Number.isFinite(e) && Number.isFinite(a) ? 'an exact zero in the engine\'s dtype' : 'a non-finite value'})`
      : `${at}; abs error ${abs.toPrecision(3)}, rel error ${rel.toPrecision(3)}, `
        + `bound ${bound.toPrecision(3)} (atol ${atol} + rtol ${rtol} * max(|actual|, |expected|)${extra !== 0 ? ` + allowance ${extra.toPrecision(3)}` : ''})`;
  }
  if (first !== null && failures > 1) first += `; ${failures - 1} more element(s) disagree`;
  return first;
}
