import { scalarValue, type Data, type Observation, type Observations } from '../spec/program.ts';

/** Reading observations in judges: by label, as flat float64 arrays. */


export function flat(d: Data | undefined): number[] {
  if (d === undefined) return [];
  if (Array.isArray(d)) return d.flatMap((x) => flat(x));
  return [scalarValue(d)];
}

export function find(o: Observations, label: string): Observation | undefined {
  return o.observations.find((x) => x.label === label);
}

/** The values of an observed tensor; a `.grad` that is None reads as zeros of `size`. */
export function valuesOf(o: Observations, label: string, size?: number): number[] | null {
  const obs = find(o, label);
  if (!obs) return null;
  if (obs.none) return size === undefined ? null : new Array<number>(size).fill(0);
  return flat(obs.value);
}

/** `|a - b| <= atol + rtol * max(|a|, |b|)` for every element; the first offender, described. */
export function closeAll(actual: readonly number[], expected: readonly number[], rtol = 1e-9, atol = 1e-12): string | null {
  if (actual.length !== expected.length) return `expected ${expected.length} elements, got ${actual.length}`;
  for (let i = 0; i < actual.length; i++) {
    const [a, e] = [actual[i]!, expected[i]!];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue;
    const bound = atol + rtol * Math.max(Math.abs(a), Math.abs(e));
    if (!(Math.abs(a - e) <= bound)) return `element ${i}: got ${a}, expected ${e} (abs error ${Math.abs(a - e)}, bound ${bound})`;
  }
  return null;
}

export const errorOf = (o: Observations): string =>
  o.error ? `${o.error.category} at step ${o.error.step}: ${o.error.message}` : 'no error';
