import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { cheapGradientMlp, cheapGradientScalar } from './cheap-gradient.ts';
import { chain, viewChain } from './depth.ts';
import { cacheStats, checkSeconds, pytorchCases, referenceCases } from './harness.ts';
import { hasGc } from './measure.ts';
import { pytorchMatmul, pytorchPerOp, referenceMatmul, referencePerOp, tfjsMatmul, tfjsPerOp } from './per-op.ts';

/**
 * `npm run bench`: every benchmark side by side in one run, as ratios against their targets.
 * `--smoke` runs tiny sizes only to keep the benchmarks working (npm test does that); its
 * numbers mean nothing. Results go to bench/results.json and a table on stdout.
 */
const smoke = process.argv.includes('--smoke');
const S = (full: number, small: number) => (smoke ? small : full);

interface Row { benchmark: string; measured: string; target: string; met: boolean | null }
const rows: Row[] = [];
const results: Record<string, unknown> = {};
const add = (benchmark: string, measured: string, target: string, met: boolean | null) => rows.push({ benchmark, measured, target, met });
const f = (x: number, d = 2) => x.toFixed(d);

const scalar = cheapGradientScalar(S(100_000, 2_000), S(5, 1));
results.cheapGradientScalar = scalar;
add(`cheap gradient: scalar graph of ${scalar.nodes} nodes`, `(fwd+bwd)/fwd = ${f(scalar.ratio)} (${f(scalar.forwardMs, 0)} ms fwd)`, '<= 3', scalar.ratio <= 3);

const mlp = cheapGradientMlp(S(256, 32), 4, S(5, 1));
results.cheapGradientMlp = mlp;
add(`cheap gradient: 4-layer MLP ${mlp.size}x${mlp.size} float64`, `(fwd+bwd)/fwd = ${f(mlp.ratio)} (${f(mlp.forwardMs, 0)} ms fwd)`, '<= 3', mlp.ratio <= 3);

const depths = [S(10_000, 1_000), S(100_000, 2_000), S(1_000_000, 4_000)].map(chain);
results.depth = depths;
for (const d of depths) {
  add(`depth: chain of ${d.nodes} nodes`, `${f((d.forwardMs + d.backwardMs) * 1e6 / d.nodes / 1e3, 2)} us/node, ${hasGc() ? `${f(d.bytesPerNode, 0)} B/node` : 'memory: run with --expose-gc'}`, '< 1 KB/node', hasGc() ? d.bytesPerNode < 1024 : null);
}
const [, d5, d6] = depths;
const growth = (d6!.forwardMs + d6!.backwardMs) / (d5!.forwardMs + d5!.backwardMs);
add(`depth: t(${d6!.nodes}) / t(${d5!.nodes})`, f(growth), `<= ${f((d6!.nodes / d5!.nodes) * 1.2, 0)}`, growth <= (d6!.nodes / d5!.nodes) * 1.2);

const [v4, v5] = [S(10_000, 400), S(100_000, 4_000)].map(viewChain);
results.viewChain = [v4, v5];
add(`views: chain of ${v5!.views} views, one write through it, backward`, `${f(v5!.ms, 0)} ms, ${f((v5!.ms * 1e3) / v5!.views, 2)} us/view`, 'completes', true);
const viewGrowth = v5!.ms / v4!.ms;
add(`views: t(${v5!.views}) / t(${v4!.views})`, f(viewGrowth), `<= ${f((v5!.views / v4!.views) * 1.2, 0)}`, viewGrowth <= (v5!.views / v4!.views) * 1.2);

const refOp = referencePerOp(S(20, 2));
const tfOp = await tfjsPerOp(S(20, 2)).catch(() => null);
const ptOp = smoke ? null : pytorchPerOp(20);
results.perOpMicroseconds = { reference: refOp, tfjs: tfOp, pytorch: ptOp };
add('per-op overhead, small tensors (fwd+bwd)', `reference ${f(refOp, 1)} us, tfjs ${tfOp === null ? 'n/a' : f(tfOp, 1)} us, PyTorch ${ptOp === null ? 'n/a' : f(ptOp, 1)} us`,
  'reference <= both', tfOp === null || ptOp === null ? null : refOp <= tfOp && refOp <= ptOp);

const n = S(256, 16);
const refMm = referenceMatmul(n, S(10, 1));
const tfMm = await tfjsMatmul(n, S(10, 1)).catch(() => null);
const ptMm = smoke ? null : pytorchMatmul(n, 10);
results.matmulMs = { size: n, reference: refMm, tfjs: tfMm, pytorch: ptMm };
add(`${n}x${n} matmul fwd+bwd, float32`, `reference ${f(refMm, 1)} ms, tfjs ${tfMm === null ? 'n/a' : f(tfMm, 1)} ms (x${tfMm === null ? '?' : f(tfMm / refMm)}), PyTorch ${ptMm === null ? 'n/a' : f(ptMm, 1)} ms (x${ptMm === null ? '?' : f(ptMm / refMm)})`,
  'reference <= tfjs', tfMm === null ? null : refMm <= tfMm);

const refCases = await referenceCases(S(50, 2));
results.referenceCasesPerSecond = refCases;
add('property cases through the reference adapter', `${f(refCases.perSecond, 0)} cases/s (${refCases.cases} cases)`, '>= 1000/s', refCases.perSecond >= 1000);
if (!smoke) {
  const pt = await pytorchCases(50);
  results.pytorchCasesPerSecond = pt;
  add('property cases through the PyTorch adapter', pt ? `${f(pt.perSecond, 0)} cases/s (${pt.cases} cases)` : 'PyTorch not installed', '>= 300/s', pt ? pt.perSecond >= 300 : null);
  const seconds = checkSeconds();
  results.checkSeconds = seconds;
  add('npx gradspec check (reference, defaults)', `${f(seconds, 1)} s`, '<= 30 s', seconds <= 30);
}
const cache = cacheStats();
results.mathjsCache = cache;
add('mathjs: compiled once, then reused', `${cache.compiled} expressions compiled, ${cache.reused} reused; ${cache.derivatives} derivatives compiled, ${cache.derivativesReused} reused`, 'reuse > 0', cache.reused > 0 || cache.derivativesReused > 0);

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const width = Math.max(...rows.map((r) => r.benchmark.length));
process.stdout.write(`gradspec benchmarks${smoke ? ' (smoke: sizes too small to mean anything)' : ''} on ${machine}\n\n`);
for (const r of rows) {
  const mark = r.met === null ? '  -  ' : r.met ? ' met ' : 'MISSED';
  process.stdout.write(`${r.benchmark.padEnd(width)}  ${mark}  ${r.measured}  (target ${r.target})\n`);
}
if (!smoke) writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({ machine, date: new Date().toISOString(), rows, results }, null, 2)}\n`);
