import type { Data, Scalar } from '../../spec/program.ts';

const SPELLED: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 };

/** Program data as the nested numbers tfjs takes (NaN, infinities and -0 spelled out in JSON). */
export function decode(d: Data): number | unknown[] {
  if (Array.isArray(d)) return d.map(decode);
  return typeof d === 'string' ? SPELLED[d]! : d;
}

/** Nested numbers as observation data: non-finite values and negative zero spelled as strings. */
export function encode(v: unknown): Data {
  if (Array.isArray(v)) return v.map(encode);
  const n = v as number;
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Object.is(n, -0)) return '-0';
  return n as Scalar;
}
