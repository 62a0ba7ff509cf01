import { expect, test } from 'vitest';
import { EngineError, F, tensor } from '../index.ts';

const refused = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof EngineError ? `${e.category}: ${e.text}` : `not an EngineError: ${String(e)}`;
  }
  return 'nothing thrown';
};

test('op.cross-entropy refuses class-probability targets (1.13 takes them, with another graph) and passes nll_loss\'s errors on', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
  expect(refused(() => F.crossEntropy(x, tensor([[0, 1, 0], [1, 0, 0]])))).toBe('invalid-argument: cross_entropy: class-probability targets are outside the reference engine (int64 class targets only)');
  expect(refused(() => F.crossEntropy(x, tensor([0, 1])))).toBe('invalid-argument: expected scalar type Long but found Float');
  expect(refused(() => F.crossEntropy(x, tensor([0, 3], { dtype: 'int64' })))).toBe('invalid-argument: Target 3 is out of bounds.');
});
