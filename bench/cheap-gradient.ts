import { tensor, type Tensor } from '../engine/index.ts';
import { mulberry32 } from '../oracles/random.ts';
import { time } from './measure.ts';

/**
 * The cheap-gradient principle: forward plus backward should cost a small constant times the
 * forward alone (target: at most 3), for a large scalar graph and for an MLP on 256x256 matrices.
 */

/** A random scalar graph: each node combines one or two earlier nodes with a random op. */
function scalarGraph(nodes: number, seed: number): { x: Tensor[]; build: () => Tensor } {
  const random = mulberry32(seed);
  const x = [0.5, -0.3, 0.8, 1.2].map((v) => tensor(v, { requiresGrad: true, dtype: 'float64' }));
  const plan = Array.from({ length: nodes }, () => ({ op: Math.floor(random() * 6), a: random(), b: random() }));
  const build = () => {
    const vals: Tensor[] = [...x];
    for (const { op, a, b } of plan) {
      const u = vals[Math.floor(a * vals.length)]!;
      const v = vals[Math.floor(b * vals.length)]!;
      // Bounded ops keep values finite over 100,000 steps.
      vals.push(op === 0 ? u.add(v) : op === 1 ? u.mul(0.5).sub(v.mul(0.25)) : op === 2 ? u.tanh() : op === 3 ? u.sin() : op === 4 ? u.mul(v).tanh() : u.sigmoid());
    }
    return vals.slice(-64).reduce((s, t) => s.add(t));
  };
  return { x, build };
}

export function cheapGradientScalar(nodes: number, repeats: number) {
  const g = scalarGraph(nodes, 7);
  const forward = time(() => void g.build(), repeats);
  const both = time(() => {
    for (const t of g.x) t.grad = null;
    g.build().backward();
  }, repeats);
  return { nodes, forwardMs: forward, forwardBackwardMs: both, ratio: both / forward };
}

export function cheapGradientMlp(size: number, layers: number, repeats: number) {
  const random = mulberry32(3);
  const matrix = (scale: number) => Array.from({ length: size }, () => Array.from({ length: size }, () => (random() - 0.5) * scale));
  const x = tensor(matrix(1), { dtype: 'float64' });
  const ws = Array.from({ length: layers }, () => tensor(matrix(2 / Math.sqrt(size)), { requiresGrad: true, dtype: 'float64' }));
  const forward = () => ws.reduce((h, w) => h.matmul(w).tanh(), x).sum();
  const f = time(() => void forward(), repeats);
  const fb = time(() => {
    for (const w of ws) w.grad = null;
    forward().backward();
  }, repeats);
  return { size, layers, forwardMs: f, forwardBackwardMs: fb, ratio: fb / f };
}
