import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

// Benchmarks are measured by `npm run bench`, never asserted here; this only keeps them working.
test('backward.iterative the benchmarks run in smoke mode and report every row', () => {
  const run = fileURLToPath(new URL('./run.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', run, '--smoke'], { encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  for (const row of ['cheap gradient: scalar graph', 'cheap gradient: 4-layer MLP', 'depth: chain of', 'views: chain of', 'per-op overhead', 'matmul fwd+bwd', 'property cases through the reference adapter', 'mathjs: compiled once']) {
    expect(r.stdout).toContain(row);
  }
});
