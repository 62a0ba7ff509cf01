import { expect, test } from 'vitest';
import { referenceAdapter } from '../adapters/reference/index.ts';
import type { Observations, Scalar } from '../spec/program.ts';
import { judgeGradient, notJudgeable, withBackward, type GradientCase } from './gradient.ts';

/** y = op(x), out = sum(y * 0.5): the shape of the op properties' cases. */
const unary = (op: 'log' | 'sigmoid' | 'exp' | 'sqrt', x: Scalar[], dtype: 'float32' | 'float64'): GradientCase => ({
  program: {
    id: 'p', dtype, steps: [
      { let: 'x', tensor: x, requiresGrad: true }, { let: 'y', op, args: ['x'] },
      { let: 'w', tensor: x.map(() => 0.5) }, { let: 'm', op: 'mul', args: ['y', 'w'] }, { let: 'out', op: 'sum', args: ['m'] },
    ],
  },
  out: 'out', inputs: ['x'], forward: 'y',
});
const observed = (forward: Scalar[], grad: Scalar[]): Observations => ({
  observations: [{ label: 'forward', value: forward, shape: [forward.length] }, { label: 'x.grad', value: grad, shape: [grad.length] }], error: null,
});
const judge = (c: GradientCase, o: Observations) => judgeGradient(c, o, referenceAdapter, c.program.dtype ?? 'float32');

test('op.log where the forward is nan the gradient is still judged: log at -2 has gradient -0.5 (times the weight)', async () => {
  const c = unary('log', [-2, 1], 'float64');
  expect(notJudgeable(c, 'float64')).toBeNull();
  const [reference] = await referenceAdapter.run([withBackward(c)]);
  expect(judge(c, reference!)).toBeNull();
  expect(judge(c, observed(['nan', 0], ['nan', 0.5]))).toMatch(/d out \/ d x: .* disagree at element \[0\] .* gives NaN, symbolic oracle gives -0\.25/);
});

test('op.sigmoid where the symbolic formula overflows (inf/inf at -800) finite differences judge, and the gradient must be 0', () => {
  const c = unary('sigmoid', [-800, 0], 'float64');
  expect(notJudgeable(c, 'float64')).toBeNull();
  expect(judge(c, observed([0, 0.5], [0, 0.125]))).toBeNull();
  expect(judge(c, observed([0, 0.5], ['nan', 0.125]))).toMatch(/finite-difference oracle gives 0/);
});

test('op.sigmoid float32 sigmoid(-100) must be exactly 0: the float64 tail rounded to float32 (3.78e-44) fails', () => {
  const c = unary('sigmoid', [-100], 'float32');
  expect(judge(c, observed([0], [0]))).toBeNull();
  expect(judge(c, observed([3.783505853677006e-44], [1.891752926838503e-44]))).toMatch(/forward value of y: .* compared exactly/);
});

test('op.exp samples that overflow the dtype but not float64 are skipped with a reason, never judged against float64', () => {
  expect(notJudgeable(unary('exp', [104], 'float32'), 'float32')).toBe('y overflows float32');
  expect(notJudgeable(unary('exp', [104], 'float64'), 'float64')).toBeNull();
  // Overflowing in both is judged: exp(710) is inf with gradient inf in float64.
  const c = unary('exp', [710], 'float64');
  expect(notJudgeable(c, 'float64')).toBeNull();
  expect(judge(c, observed(['inf'], ['inf']))).toBeNull();
  expect(judge(c, observed(['inf'], [1e308]))).toMatch(/compared exactly \(a non-finite value\)/);
});

test('op.sqrt.zero sqrt at 0 keeps the symbolic oracle\'s inf, which finite differences cannot judge', () => {
  const c = unary('sqrt', [0, 4], 'float64');
  expect(notJudgeable(c, 'float64')).toBeNull();
  expect(judge(c, observed([0, 2], ['inf', 0.125]))).toBeNull();
  expect(judge(c, observed([0, 2], [0, 0.125]))).toMatch(/symbolic oracle gives Infinity/);
});
