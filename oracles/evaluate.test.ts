import { expect, test } from 'vitest';
import type { Program } from '../spec/program.ts';
import { evaluateProgram } from './evaluate.ts';

const unary = (op: 'sigmoid' | 'exp' | 'tanh' | 'relu', data: (number | '-0')[], dtype: 'float32' | 'float64'): Program => ({
  id: 'p', dtype, steps: [{ let: 'x', tensor: data }, { let: 'y', op, args: ['x'] }],
});
const values = (p: Program, dtype?: 'float32' | 'float64') => Array.from(evaluateProgram(p, undefined, dtype ? { dtype } : {}).get('y')!.values);

// Every value below is what PyTorch 1.13 gives for the same op and dtype.
test('oracles.expand evaluated in float32, sigmoid underflows to exactly 0 where exp(-t) overflows float32, as PyTorch computes it', () => {
  const p = unary('sigmoid', [-100, -88, 20], 'float32');
  expect(values(p, 'float32')).toEqual([0, 6.054601485195952e-39, 1]);
  // The float64 evaluation keeps the float64 tail: 3.72e-44, which rounded to float32 is 3.78e-44, not PyTorch's 0.
  expect(values(p)[0]).toBe(3.7200759760208356e-44);
  expect(Math.fround(values(p)[0]!)).toBe(3.783505853677006e-44);
});

test('oracles.expand evaluated in float32, exp overflows to inf past 88.72 and underflows to 0 past 103.97', () => {
  expect(values(unary('exp', [88, 89, -104, -103], 'float32'), 'float32')).toEqual([1.6516362661361307e+38, Infinity, 0, 1.401298464324817e-45]);
  // float64 keeps it finite (PyTorch: 4.4896128191743455e+38; Math.exp is one ulp off, within any tolerance).
  expect(values(unary('exp', [89], 'float64'))[0]).toBeCloseTo(4.4896128191743455e+38, -24);
});

test('oracles.expand relu keeps the sign of a zero, tanh saturates in float32', () => {
  expect(Object.is(values(unary('relu', ['-0'], 'float64'))[0], -0)).toBe(true);
  expect(values(unary('tanh', [20, -20], 'float32'), 'float32')).toEqual([1, -1]);
});
