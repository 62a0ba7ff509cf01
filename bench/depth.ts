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

/**
 * A chain of n views (t, unsqueeze, squeeze, a slice, in turn) of one base, then one in-place
 * write through the last view and one backward through both the chain and the write
 * (views.rebase). Finding the base and rebuilding the view's grad_fn must not walk the chain, and
 * nothing may recurse: time per view should stay flat (target: t(10^5) / t(10^4) <= 12).
 */
export function viewChain(n: number) {
  const x = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true, dtype: 'float64' });
  const base = x.mul(1);
  let v = base;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    v = k === 0 ? v.t() : k === 1 ? v.unsqueeze(0) : k === 2 ? v.squeeze(0) : v.index({ start: 0 });
  }
  const through = v.sum(); // a graph through every view of the chain
  v.mul_(2);
  const total = through.add(base.sum());
  total.backward();
  const t1 = performance.now();
  // Each element: 1 through the chain, 2 through the written base.
  if ((x.grad?.tolist() as number[][]).flat().some((g) => g !== 3)) throw new Error(`view chain gradient is wrong: ${JSON.stringify(x.grad?.tolist())}`);
  return { views: n, ms: t1 - t0 };
}
