import { tensor } from '../engine/index.ts';
import { hasGc, heapUsed } from './measure.ts';

/**
 * Deep chains: backward is iterative, so depth is bounded by memory, not the call stack. Time per
 * node should stay flat as chains grow (target: t(10^6) / t(10^5) <= 12), and the graph should
 * cost under 1 KB per node.
 */
export function chain(n: number) {
  const before = heapUsed();
  const x = tensor(1, { requiresGrad: true, dtype: 'float64' });
  let y = x;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) y = y.mul(1.0000001);
  const t1 = performance.now();
  const bytesPerNode = hasGc() ? (heapUsed() - before) / n : NaN;
  y.backward();
  const t2 = performance.now();
  if (!Number.isFinite(x.grad?.item() ?? NaN)) throw new Error('chain gradient is not finite');
  return { nodes: n, forwardMs: t1 - t0, backwardMs: t2 - t1, bytesPerNode };
}
