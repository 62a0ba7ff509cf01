import { isExact, sameValue } from './compare.ts';
import { isFloating, scalarValue, type Data, type DType, type FloatDType, type Observation, type Observations } from '../spec/program.ts';

/**
 * Judges an engine's observations against expected ones. Only the fields the expectation states
 * (and the engine can report) are compared: values within the dtype's tolerance, everything else
 * exactly; an expected error matches by category and step, and, for engines that follow a
 * PyTorch profile, its message as a prefix (engines may add context after PyTorch's text).
 */

export interface Mismatch {
  label: string;
  field: string;
  expected: unknown;
  actual: unknown;
  detail?: string;
}

/** `|a - e| <= atol + rtol * max(|a|, |e|)`, scaled by dtype; zeros and non-finite values must match exactly. */
export const TOLERANCE: Record<FloatDType, { rtol: number; atol: number }> = {
  float32: { rtol: 1e-5, atol: 1e-6 },
  float64: { rtol: 1e-12, atol: 1e-14 },
};

const num = scalarValue;

function flatten(d: Data | undefined, out: number[] = []): number[] {
  if (Array.isArray(d)) for (const x of d) flatten(x, out);
  else if (d !== undefined) out.push(num(d));
  return out;
}

/** int64 and bool values are exact: the same integers, the same booleans (true is not 1). */
function compareExact(expected: Data, actual: Data | undefined): string | null {
  const e = [expected].flat(Infinity as 1) as unknown[];
  const a = actual === undefined ? [] : [actual].flat(Infinity as 1) as unknown[];
  if (e.length !== a.length) return `expected ${e.length} elements, got ${a.length}`;
  const i = e.findIndex((x, k) => x !== a[k]);
  return i < 0 ? null : `element ${i}: expected exactly ${JSON.stringify(e[i])}, got ${JSON.stringify(a[i])}`;
}

function compareValues(expected: Data, actual: Data | undefined, dtype: DType, signedZeros: boolean): string | null {
  if (!isFloating(dtype)) return compareExact(expected, actual);
  const e = flatten(expected);
  const a = flatten(actual);
  if (e.length !== a.length) return `expected ${e.length} elements, got ${a.length}`;
  const { rtol, atol } = TOLERANCE[dtype];
  for (let i = 0; i < e.length; i++) {
    const [x, y] = [e[i]!, a[i]!];
    // Expectations are PyTorch's own values in this dtype: zeros and non-finite values are exact
    // (oracles/compare.ts, isExact); a float32 3.78e-44 is not PyTorch's 0. An expected -0 must be
    // -0 in a value the spec gives a sign (relu(-0), -0 data); an expected 0 also takes -0. The sign
    // of a zero gradient is left open (g·0, or 0 + -0 when an engine accumulates into zeros), so
    // gradients take either zero (op.abs.kink's +0 is checked by its printed form).
    if (isExact(x, true) || !Number.isFinite(y)) {
      if (!sameValue(y, x, signedZeros && Object.is(x, -0))) return `element ${i}: expected exactly ${Object.is(x, -0) ? '-0' : x}, got ${Object.is(y, -0) ? '-0' : y}`;
      continue;
    }
    const bound = atol + rtol * Math.max(Math.abs(x), Math.abs(y));
    if (Math.abs(x - y) > bound) {
      return `element ${i}: expected ${x}, got ${y} (abs error ${Math.abs(x - y)}, bound ${bound})`;
    }
  }
  return null;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function compareObservations(
  expected: Observations,
  actual: Observations,
  fields: readonly string[],
  /** Error messages are PyTorch's text: compared only for engines that follow a PyTorch profile. */
  compareMessages = true,
  /** Labels of observed gradients (`.grad`, autograd.grad results): the sign of a zero there is left open. */
  gradients: ReadonlySet<string> = new Set(),
): Mismatch[] {
  const out: Mismatch[] = [];
  expected.observations.forEach((e, i) => {
    const a: Observation | undefined = actual.observations[i];
    if (!a || a.label !== e.label) {
      out.push({ label: e.label, field: 'observation', expected: e.label, actual: a?.label ?? null, detail: 'missing observation' });
      return;
    }
    if ((e.none ?? false) !== (a.none ?? false)) {
      out.push({ label: e.label, field: 'none', expected: e.none ?? false, actual: a.none ?? false });
      return;
    }
    for (const [field, want] of Object.entries(e)) {
      if (field === 'label' || field === 'none' || !fields.includes(field)) continue;
      const got = (a as unknown as Record<string, unknown>)[field];
      if (got === undefined) {
        // The engine declares the field: leaving it out is a failure to report, said as such.
        out.push({ label: e.label, field, expected: want, actual: null, detail: `not reported, though the engine declares field ${field} in its capabilities` });
      } else if (field === 'value' && Array.isArray(want) !== Array.isArray(got)) {
        // A number (a 0-d tensor, an item()) and a list of one number are not the same answer.
        out.push({ label: e.label, field, expected: want, actual: got, detail: Array.isArray(want) ? 'expected a list, got a number' : 'expected a number, got a list' });
      } else if (field === 'value') {
        // An expected int64 or bool value is exact whatever dtype the engine reports (that field
        // fails on its own); so is an expected boolean without a dtype (a bool item()).
        const exact = (e.dtype !== undefined && !isFloating(e.dtype)) || [want].flat(Infinity as 1).some((v) => typeof v === 'boolean');
        const problem = exact ? compareExact(want as Data, got as Data | undefined)
          : compareValues(want as Data, got as Data | undefined, a.dtype ?? e.dtype ?? 'float32', !gradients.has(e.label));
        if (problem) out.push({ label: e.label, field, expected: want, actual: got, detail: problem });
      } else if (!same(want, got)) {
        out.push({ label: e.label, field, expected: want, actual: got });
      }
    }
  });
  if (actual.observations.length > expected.observations.length) {
    const extra = actual.observations.slice(expected.observations.length).map((o) => o.label);
    out.push({ label: extra[0]!, field: 'observation', expected: null, actual: extra, detail: 'unexpected observations' });
  }
  const [ee, ae] = [expected.error, actual.error];
  if (ee === null && ae !== null) {
    out.push({ label: `step ${ae.step}`, field: 'error', expected: null, actual: ae, detail: `unexpected ${ae.category}: ${ae.message}` });
  } else if (ee !== null) {
    if (ae === null) out.push({ label: `step ${ee.step}`, field: 'error', expected: ee, actual: null, detail: `expected ${ee.category}, nothing was thrown` });
    else if (ae.category !== ee.category || ae.step !== ee.step || (compareMessages && !ae.message.startsWith(ee.message))) {
      out.push({ label: `step ${ee.step}`, field: 'error', expected: ee, actual: ae });
    }
  }
  return out;
}
