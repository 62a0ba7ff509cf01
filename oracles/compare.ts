import type { DType } from '../spec/program.ts';
import { unravel } from './shape.ts';

/**
 * The one tolerance policy for gradients:
 *   |actual - expected| <= atol + rtol * max(|actual|, |expected|) + allowance[i]
 * Oracles compute in float64. A float32 engine's rounding accumulates through composed ops (each
 * op rounds its result to 24 bits), hence the looser float32 defaults; the caller rounds the
 * oracle's INPUTS to float32 first, so both sides start from the same point.
 * Non-finite values agree only with the same non-finite value (NaN agrees with NaN here).
 */
export const GRADIENT_TOLERANCE: Record<DType, { rtol: number; atol: number }> = {
  float64: { rtol: 1e-7, atol: 1e-9 },
  float32: { rtol: 1e-4, atol: 1e-5 },
};

/** Multiplies a finite-difference error estimate into an allowance: the estimate is an order of magnitude, not a bound. */
export const FD_SAFETY = 10;

export type OracleName = 'symbolic' | 'finite-difference';

export interface GradientCheck {
  actual: ArrayLike<number>;
  expected: ArrayLike<number>;
  dtype: DType;
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
}

const agreeNonFinite = (a: number, e: number) => Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e));

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
    const [a, e] = [actual[i]!, expected[i]!];
    const extra = check.allowance?.[i] ?? 0;
    const finite = Number.isFinite(a) && Number.isFinite(e);
    const bound = atol + rtol * Math.max(Math.abs(a), Math.abs(e)) + extra;
    const ok = finite ? Math.abs(a - e) <= bound : agreeNonFinite(a, e);
    if (ok) continue;
    failures++;
    if (first !== null) continue;
    const abs = Math.abs(a - e);
    const rel = abs / Math.max(Math.abs(a), Math.abs(e));
    first = `${what}: ${sides} disagree at element [${unravel(i, shape).join(', ')}] of shape [${shape.join(', ')}]: `
      + `engine ${engine} gives ${a}, ${oracle} oracle gives ${e}; `
      + `abs error ${abs.toPrecision(3)}, rel error ${rel.toPrecision(3)}, `
      + `bound ${bound.toPrecision(3)} (atol ${atol} + rtol ${rtol} * max(|actual|, |expected|)${extra !== 0 ? ` + allowance ${extra.toPrecision(3)}` : ''})`;
  }
  if (first !== null && failures > 1) first += `; ${failures - 1} more element(s) disagree`;
  return first;
}
