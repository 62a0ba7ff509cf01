import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openAdapter } from '../adapters/index.ts';
import { referenceAdapter } from '../adapters/reference/index.ts';
import type { Adapter } from '../adapters/types.ts';
import { PROPERTIES } from '../properties/index.ts';
import { checkProperty } from '../properties/property.ts';
import { cacheStats } from '../oracles/symbolic.ts';

/**
 * The harness itself: property cases judged per second through an adapter (every property,
 * oracles included), and the wall time of the default `gradspec check`.
 */
export async function casesPerSecond(adapter: Adapter, runs: number): Promise<{ cases: number; seconds: number; perSecond: number }> {
  const t0 = performance.now();
  let cases = 0;
  for (const p of PROPERTIES) cases += (await checkProperty(p, adapter, { seed: 1, numRuns: runs })).numRuns;
  const seconds = (performance.now() - t0) / 1000;
  return { cases, seconds, perSecond: cases / seconds };
}

export const referenceCases = (runs: number) => casesPerSecond(referenceAdapter, runs);

export async function pytorchCases(runs: number) {
  let adapter: Adapter;
  try {
    adapter = await openAdapter('pytorch');
  } catch {
    return null;
  }
  try {
    return await casesPerSecond(adapter, runs);
  } finally {
    await adapter.close?.();
  }
}

/** Wall seconds of `npx gradspec check` on the reference engine, as a user runs it. */
export function checkSeconds(): number {
  const cli = fileURLToPath(new URL('../bin/gradspec.js', import.meta.url));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'check'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`gradspec check failed: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

export { cacheStats };
