import { spawnSync } from 'node:child_process';
import { tensor } from '../engine/index.ts';
import { loadTfjs } from '../adapters/tfjs/load-tfjs.ts';
import { PYTHON } from '../adapters/pytorch/index.ts';
import { time } from './measure.ts';

/**
 * Per-op overhead on small tensors: the same graph (a 4-element vector through `ops` elementwise
 * ops, a sum, then backward) on each engine, reported as microseconds per op (forward and
 * backward together). PyTorch is timed inside Python, so process start-up is not counted.
 */
const OPS = 200;

export function referencePerOp(repeats: number): number {
  const run = () => {
    const x = tensor([0.1, 0.2, 0.3, 0.4], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < OPS; i++) y = i % 2 ? y.mul(1.001) : y.sin();
    y.sum().backward();
  };
  return (time(run, repeats) * 1000) / OPS;
}

export async function tfjsPerOp(repeats: number): Promise<number> {
  const tf = await loadTfjs();
  const x = tf.tensor1d([0.1, 0.2, 0.3, 0.4]);
  const f = (v: ReturnType<typeof tf.tensor>) => {
    let y = v;
    for (let i = 0; i < OPS; i++) y = i % 2 ? tf.mul(y, 1.001) : tf.sin(y);
    return tf.sum(y);
  };
  const g = tf.grad(f);
  return (time(() => tf.tidy(() => void g(x).dataSync()), repeats) * 1000) / OPS;
}

export function pytorchPerOp(repeats: number): number | null {
  const script = `
import time, torch
def run():
    x = torch.tensor([0.1, 0.2, 0.3, 0.4], requires_grad=True)
    y = x
    for i in range(${OPS}):
        y = y * 1.001 if i % 2 else y.sin()
    y.sum().backward()
run()
ts = []
for _ in range(${repeats}):
    t0 = time.perf_counter(); run(); ts.append(time.perf_counter() - t0)
ts.sort()
print(ts[len(ts) // 2] * 1e6 / ${OPS})
`;
  const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

/** 256x256 matmul forward and backward, in milliseconds, float32 (tfjs has no float64). */
export function referenceMatmul(n: number, repeats: number): number {
  const a = tensor(rand(n), { requiresGrad: true });
  const b = tensor(rand(n), { requiresGrad: true });
  return time(() => {
    a.grad = null;
    b.grad = null;
    a.matmul(b).sum().backward();
  }, repeats);
}

export async function tfjsMatmul(n: number, repeats: number): Promise<number> {
  const tf = await loadTfjs();
  const a = tf.tensor2d(rand(n));
  const b = tf.tensor2d(rand(n));
  const g = tf.grads((x, y) => tf.sum(tf.matMul(x as typeof a, y as typeof a)));
  return time(() => tf.tidy(() => g([a, b]).forEach((t) => t.dataSync())), repeats);
}

export function pytorchMatmul(n: number, repeats: number): number | null {
  const script = `
import time, torch
torch.set_num_threads(1)
a = torch.rand(${n}, ${n}, requires_grad=True); b = torch.rand(${n}, ${n}, requires_grad=True)
def run():
    a.grad = None; b.grad = None
    (a @ b).sum().backward()
run()
ts = []
for _ in range(${repeats}):
    t0 = time.perf_counter(); run(); ts.append(time.perf_counter() - t0)
ts.sort()
print(ts[len(ts) // 2] * 1e3)
`;
  const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

function rand(n: number): number[][] {
  let s = 1;
  const next = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  return Array.from({ length: n }, () => Array.from({ length: n }, next));
}
