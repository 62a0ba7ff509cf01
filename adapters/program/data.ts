import { scalarValue, type Data, type Scalar } from '../../spec/program.ts';

/** Program data as nested numbers (NaN, infinities and -0 spelled as strings in JSON). */
export function decode(d: Data): number | unknown[] {
  if (Array.isArray(d)) return d.map(decode);
  return scalarValue(d);
}

/** Nested numbers (or booleans) as observation data: non-finite values and negative zero spelled as strings. */
export function encode(v: unknown): Data {
  if (Array.isArray(v)) return v.map(encode);
  if (typeof v === 'boolean') return v;
  const n = v as number;
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Object.is(n, -0)) return '-0';
  return n as Scalar;
}
