/** Timing and memory helpers for the benchmarks: medians of repeated runs, heap after a full GC. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median milliseconds of `repeats` runs of fn, after one warm-up run. */
export function time(fn: () => void, repeats: number): number {
  fn();
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return median(out);
}

export async function timeAsync(fn: () => Promise<void>, repeats: number): Promise<number> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return median(out);
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Heap in use after a full collection; needs node --expose-gc (npm run bench passes it). */
export function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

export const hasGc = () => gc !== undefined;
