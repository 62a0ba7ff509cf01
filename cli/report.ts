import type { Report } from './suite.ts';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** The readable terminal report: one line per clause, then each failure with its repro. */
export function formatReport(report: Report): string {
  const lines: string[] = [];
  const { engine, summary } = report;
  const props = report.checks.filter((c) => c.kind === 'property');
  lines.push(`gradspec check: engine ${engine.name} ${engine.version} (follows ${engine.profile}), seed ${report.seed}, ${report.runs} runs per property`);
  lines.push('');
  lines.push(`  ${pad('clause', 30)} ${pad('status', 9)} checks`);
  for (const c of report.clauses.filter((c) => c.status !== 'unchecked')) {
    lines.push(`  ${pad(c.id, 30)} ${pad(c.status === 'pass' ? 'pass' : 'FAIL', 9)} ${c.checks}`);
  }
  const unchecked = report.clauses.filter((c) => c.status === 'unchecked').map((c) => c.id);
  if (unchecked.length > 0) {
    lines.push('');
    lines.push(`  not checked by this run (${unchecked.length}; API-level and oracle clauses are checked by npm test's unit tests): ${unchecked.join(', ')}`);
  }
  const skipped = props.reduce((n, c) => n + (c.runs?.skipped ?? 0), 0);
  const samples = props.reduce((n, c) => n + (c.runs?.run ?? 0), 0);
  if (props.length > 0) {
    lines.push('');
    lines.push(`  properties: ${props.length}, ${samples} samples judged, ${skipped} samples skipped (no oracle can judge them: kinks, overflow)`);
  }
  const notes = report.checks.flatMap((c) => c.notes.map((n) => `${c.id}: ${n}`));
  if (notes.length > 0) {
    lines.push('');
    lines.push('Recorded differences from the seed document (applied, not hidden):');
    for (const n of notes) lines.push(`  - ${n}`);
  }
  for (const c of report.checks.filter((c) => c.status === 'fail' && c.kind === 'property')) {
    lines.push('');
    lines.push(`FAIL ${c.message ?? c.id}`);
  }
  for (const c of report.checks.filter((c) => c.status === 'fail' && c.kind === 'fixture')) {
    lines.push('');
    lines.push(`FAIL ${c.id} (${c.file}) — clauses ${c.clauses.join(', ')}`);
    for (const m of c.mismatches) {
      const detail = m.detail ? `: ${m.detail}` : '';
      lines.push(`  ${m.label} ${m.field}${detail}`);
      if (!m.detail) lines.push(`    expected ${JSON.stringify(m.expected)}\n    actual   ${JSON.stringify(m.actual)}`);
    }
    lines.push('  reproduce with PyTorch:');
    for (const l of c.repro.trimEnd().split('\n')) lines.push(`    ${l}`);
  }
  lines.push('');
  lines.push(`${summary.passed} clauses passed, ${summary.failed} failed, ${summary.unchecked} not checked; ${summary.checks - summary.checksFailed}/${summary.checks} checks passed`);
  return lines.join('\n');
}

/** The JSON report: `{ engine, seed, clauses: [{ id, status, checks, failures }], summary }`. */
export const reportJson = (report: Report): string => `${JSON.stringify(report, null, 2)}\n`;
