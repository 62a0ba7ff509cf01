import { describe, expect, test } from 'vitest';
import { referenceAdapter } from '../adapters/reference/index.ts';
import { AccumulateGrad } from '../engine/node.ts';
import { OPS } from '../engine/ops.ts';
import { Tensor } from '../engine/tensor.ts';
import { loadFixtures } from './fixtures.ts';
import { runSuite } from './suite.ts';

/*
 * The suite must catch broken engines. Each test breaks the reference engine in one place,
 * runs `gradspec check`'s suite, restores the engine, and expects failures on the right clauses.
 */
const fixtures = loadFixtures();

async function failingClausesWith(patch: () => () => void): Promise<string[]> {
  const restore = patch();
  try {
    const report = await runSuite(referenceAdapter, fixtures, { runs: 50 });
    return report.clauses.filter((c) => c.status === 'fail').map((c) => c.id);
  } finally {
    restore();
  }
}

function swap<T extends object, K extends keyof T>(obj: T, key: K, value: T[K]): () => void {
  const old = obj[key];
  obj[key] = value;
  return () => {
    obj[key] = old;
  };
}

describe('deliberately broken engines are caught', () => {
  test('op.sin a wrong derivative of sin (sin instead of cos) fails op.sin', async () => {
    const failing = await failingClausesWith(() => swap(OPS.sin.grads[0]!, 'vjp', (g, s) => g.mul(s.self.sin())));
    expect(failing).toContain('op.sin');
    expect(failing).not.toContain('op.cos');
  });

  test('op.pow a pow rule that always uses exponent 2 (a bug seen in a real engine) fails op.pow and the document fixtures', async () => {
    const failing = await failingClausesWith(() => swap(OPS.powScalar.grads[0]!, 'vjp', (g, s) => g.mul(s.self.mul(2))));
    expect(failing).toEqual(expect.arrayContaining(['op.pow', 'backward.scalar-seed', 'backward.accumulate']));
  });

  test('backward.accumulate overwriting .grad instead of accumulating fails backward.accumulate', async () => {
    const failing = await failingClausesWith(() =>
      swap(AccumulateGrad.prototype, 'apply', function (this: AccumulateGrad, grad: Tensor) {
        this.variable.grad = grad;
        return [];
      }));
    expect(failing).toContain('backward.accumulate');
  });

  test('mode.no-grad ignoring noGrad fails mode.no-grad', async () => {
    const failing = await failingClausesWith(() =>
      swap(Tensor, 'recording', (inputs: readonly Tensor[]) => inputs.some((t) => t.requiresGrad)));
    expect(failing).toContain('mode.no-grad');
  });

  test('graph.grad-fn printing the old MeanBackward1 name fails graph.grad-fn', async () => {
    const failing = await failingClausesWith(() => swap(OPS.mean, 'gradFn', 'MeanBackward1'));
    expect(failing).toContain('graph.grad-fn');
  });

  test('backward.freed-graph never freeing saved values fails backward.freed-graph', async () => {
    const { OpNode } = await import('../engine/node.ts');
    const failing = await failingClausesWith(() => swap(OpNode.prototype, 'release', () => undefined));
    expect(failing).toContain('backward.freed-graph');
  });

  test('inplace.saved-modified skipping the version check fails inplace.saved-modified', async () => {
    const failing = await failingClausesWith(() => swap(Tensor.prototype, 'add_', function (this: Tensor, other: number | Tensor) {
      // An add_ that writes the data but forgets to bump the version counter.
      const data = this.data;
      const o = typeof other === 'number' ? null : other.data;
      for (let i = 0; i < data.length; i++) data[i] = data[i]! + (o ? o[i % o.length]! : (other as number));
      return this;
    }));
    expect(failing).toContain('inplace.saved-modified');
  });
});
