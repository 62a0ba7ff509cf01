import type { Report } from './suite.ts';

/**
 * Checks that shard reports make one whole run before they are merged: each is a `gradspec check
 * --shard i/n --json` report, all of one n, each i from 1 to n exactly once. A partial merge would
 * look like a complete, conforming report. Throws an Error naming the shard or file at fault.
 */
export function checkShards(reports: readonly { file: string; report: unknown }[]): Report[] {
  const seen = new Map<number, string>();
  let count: { n: number; file: string } | undefined;
  for (const { file, report } of reports) {
    const r = report as Partial<Report> | null;
    if (typeof r !== 'object' || r === null || Array.isArray(r) || !Array.isArray(r.checks) || typeof r.engine !== 'object') {
      throw new Error(`${file} is not a report of gradspec check --json (of one engine)`);
    }
    const m = typeof r.shard === 'string' ? /^(\d+)\/(\d+)$/.exec(r.shard) : null;
    if (!m) throw new Error(`${file} is not a shard report (no "shard": "i/n"; write one with gradspec check --shard i/n --json FILE)`);
    const [i, n] = [Number(m[1]), Number(m[2])];
    if (i < 1 || i > n) throw new Error(`${file}: shard ${r.shard} is not a valid shard (1 <= i <= n)`);
    count ??= { n, file };
    if (n !== count.n) throw new Error(`shards of different splits: ${count.file} is a shard of ${count.n}, ${file} is shard ${i}/${n}`);
    const before = seen.get(i);
    if (before !== undefined) throw new Error(`shard ${i}/${n} given twice (${before}, ${file})`);
    seen.set(i, file);
  }
  if (!count) throw new Error('nothing to merge');
  const missing = Array.from({ length: count.n }, (_, k) => k + 1).filter((i) => !seen.has(i)).map((i) => `${i}/${count.n}`);
  if (missing.length === 1) throw new Error(`shard ${missing[0]} is missing`);
  if (missing.length > 1) throw new Error(`shards ${missing.join(', ')} are missing`);
  return reports.map((r) => r.report as Report);
}
