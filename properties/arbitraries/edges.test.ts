import fc from 'fast-check';
import { expect, test } from 'vitest';
import { asLeafValue, EDGE_WEIGHT, EDGES, isEdge, NON_FINITE, NON_FINITE_WEIGHT, withEdges, withNonFinite } from './edges.ts';

test('tensor.dtype edge values are a modest share, and every named edge comes up', () => {
  const values = fc.sample(withEdges('any'), { seed: 1, numRuns: 20_000 });
  const share = values.filter(isEdge).length / values.length;
  expect(share).toBeGreaterThan(0.5 / (EDGE_WEIGHT + 1));
  expect(share).toBeLessThan(1.5 / (EDGE_WEIGHT + 1));
  for (const edge of EDGES.any) expect(values.some((v) => Object.is(v, edge))).toBe(true);
  expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(1000);
});

test('tensor.dtype non-finite leaves are a modest share where drawn, and each of nan, inf and -inf comes up', () => {
  const values = fc.sample(withNonFinite(withEdges('any')), { seed: 1, numRuns: 20_000 });
  const share = values.filter((v) => !Number.isFinite(v)).length / values.length;
  expect(share).toBeGreaterThan(0.5 / (NON_FINITE_WEIGHT + 1));
  expect(share).toBeLessThan(1.5 / (NON_FINITE_WEIGHT + 1));
  for (const v of NON_FINITE) expect(values.some((x) => Object.is(x, v))).toBe(true);
  // Only the values asked for.
  expect(fc.sample(withNonFinite(withEdges('kink'), [Infinity, -Infinity]), { seed: 1, numRuns: 2_000 }).some(Number.isNaN)).toBe(false);
  expect(fc.sample(withEdges('any'), { seed: 1, numRuns: 2_000 }).every(Number.isFinite)).toBe(true);
});

test('tensor.dtype leaves hold values exact in their dtype, with -0, nan and the infinities spelled "-0", "nan", "inf", "-inf"', () => {
  expect(asLeafValue(NaN, 'float32')).toBe('nan');
  expect(asLeafValue(Infinity, 'float64')).toBe('inf');
  expect(asLeafValue(-Infinity, 'float32')).toBe('-inf');
  expect(asLeafValue(1e39, 'float32')).toBe('inf'); // past float32's range
  expect(asLeafValue(2 ** -1074, 'float32')).toBe(0); // a float64 subnormal is 0 in float32
  expect(asLeafValue(2 ** -1074, 'float64')).toBe(2 ** -1074);
  expect(asLeafValue(2 ** -149, 'float32')).toBe(2 ** -149);
  expect(asLeafValue(-0, 'float64')).toBe('-0');
  expect(asLeafValue(-(2 ** -1074), 'float32')).toBe('-0');
  expect(asLeafValue(0.1, 'float32')).toBe(Math.fround(0.1));
});
