import { expect, test } from 'vitest';
import { EngineError, F, tensor } from '../index.ts';

const x = () => tensor([[-1, 0, 2], [3, -0.5, 1]], { requiresGrad: true });
const refused = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof EngineError ? `${e.category}: ${e.message}` : `not an EngineError: ${String(e)}`;
  }
  return 'nothing thrown';
};

test('op.softplus F takes PyTorch\'s option names and defaults, and records SoftplusBackward0', () => {
  expect(F.softplus(x()).gradFn?.name()).toBe('SoftplusBackward0');
  // beta 2, threshold 1: x = 2 and 3 are past the threshold (x·β > 1), the identity there.
  expect(Array.from(F.softplus(x(), { beta: 2, threshold: 1 }).data).slice(2, 4)).toEqual([2, 3]);
  expect(refused(() => F.softplus(x(), { beta: 'a' as unknown as number }))).toMatch(/^invalid-argument: softplus\(\): argument 'beta' must be Number, not /);
});

test('op.leaky-relu op.elu op.gelu op.silu F records PyTorch\'s grad_fn names and refuses options of the wrong kind', () => {
  expect(F.leakyRelu(x()).gradFn?.name()).toBe('LeakyReluBackward0');
  expect(F.elu(x(), 0.5).gradFn?.name()).toBe('EluBackward0');
  expect(F.gelu(x(), { approximate: 'tanh' }).gradFn?.name()).toBe('GeluBackward0');
  expect(F.silu(x()).gradFn?.name()).toBe('SiluBackward0');
  expect(refused(() => F.gelu(x(), { approximate: 'erf' as 'none' }))).toMatch(/^invalid-argument: approximate argument must be either none or tanh\./);
  expect(refused(() => F.leakyRelu(x(), '0.2' as unknown as number))).toMatch(/^invalid-argument: leaky_relu\(\): argument 'negative_slope' \(position 2\) must be Number, not /);
  expect(refused(() => F.elu(3 as unknown as ReturnType<typeof x>))).toMatch(/^invalid-argument: elu\(\): argument 'input' \(position 1\) must be Tensor, not /);
});

test('op.softmax op.log-softmax op.logsumexp the Tensor methods and F agree, and a dim is required', () => {
  const t = x();
  expect(Array.from(t.softmax(1).data)).toEqual(Array.from(F.softmax(t, 1).data));
  expect(Array.from(t.logSoftmax(-1).data)).toEqual(Array.from(F.logSoftmax(t, -1).data));
  expect(t.logsumexp([0, 1], true).shape).toEqual([1, 1]);
  expect(refused(() => t.softmax(2))).toMatch(/^invalid-argument: Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)/);
  expect(refused(() => t.logsumexp([0, 0]))).toMatch(/^invalid-argument: dim 0 appears multiple times in the list of dims/);
  expect(refused(() => t.logsumexp([]))).toMatch(/^invalid-argument: logsumexp\(\): an empty dim list is outside the reference engine/);
});
