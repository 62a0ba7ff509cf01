import type { Report } from './suite.ts';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** The readable terminal report: one line per clause, then each failure with its repro. */
export function formatReport(report: Report): string {
  const lines: string[] = [];
  const { engine, summary } = report;
  const props = report.checks.filter((c) => c.kind === 'property');
  lines.push(`gradspec check: engine ${engine.name} ${engine.version} (follows ${engine.profile}), seed ${report.seed}, ${report.runs} runs per property`);
  lines.push('');
  lines.push(`  ${pad('clause', 30)} ${pad('status', 14)} checks`);
  const shown = { pass: 'pass', fail: 'FAIL', fault: 'ENGINE FAULT', deviation: 'deviation', 'not-applicable': 'n/a', unchecked: '' } as const;
  for (const c of report.clauses.filter((c) => c.status !== 'unchecked')) {
    const reason = c.reason ? `  ${c.reason}` : '';
    lines.push(`  ${pad(c.id, 30)} ${pad(shown[c.status], 14)} ${c.checks}${reason}`);
  }
  const unchecked = report.clauses.filter((c) => c.status === 'unchecked').map((c) => c.id);
  if (unchecked.length > 0) {
    lines.push('');
    lines.push(`  not checked by this run (${unchecked.length}; API-level and oracle clauses are checked by npm test's unit tests): ${unchecked.join(', ')}`);
  }
  const skipped = props.reduce((n, c) => n + (c.runs?.skipped ?? 0), 0);
  const samples = props.reduce((n, c) => n + (c.runs?.run ?? 0), 0);
  const refused = props.reduce((n, c) => n + (c.runs?.notSupported ?? 0), 0);
  if (props.length > 0) {
    lines.push('');
    lines.push(`  properties: ${props.length}, ${samples} samples judged, ${skipped} skipped (no oracle can judge them: kinks, overflow)${refused ? `, ${refused} not supported by the engine` : ''}`);
  }
  if (report.edited?.length) {
    lines.push('');
    lines.push(`Fixtures edited by hand since gradspec wrote them (check them; npx gradspec fixtures stamp accepts an edit): ${report.edited.join(', ')}`);
  }
  const notes = report.checks.flatMap((c) => c.notes.map((n) => `${c.id}: ${n}`));
  if (notes.length > 0) {
    lines.push('');
    lines.push('Recorded differences from the seed document (applied, not hidden):');
    for (const n of notes) lines.push(`  - ${n}`);
  }
  for (const c of report.checks.filter((c) => c.status === 'fault')) {
    lines.push('');
    lines.push(`ENGINE FAULT ${c.id} (${c.file}) — clauses ${c.clauses.join(', ')}: ${c.message ?? ''}`);
  }
  for (const c of report.checks.filter((c) => c.status === 'fail' && c.kind === 'property')) {
    lines.push('');
    lines.push(`FAIL ${c.message ?? c.id}`);
  }
  for (const c of report.checks.filter((c) => c.status === 'fail' && c.kind === 'fixture')) {
    lines.push('');
    lines.push(`FAIL ${c.id} (${c.file}) — clauses ${c.clauses.join(', ')}; expected: ${c.source ?? 'the fixture'}`);
    for (const m of c.mismatches) {
      const detail = m.detail ? `: ${m.detail}` : '';
      lines.push(`  ${m.label} ${m.field}${detail}`);
      if (!m.detail) lines.push(`    expected ${JSON.stringify(m.expected)}\n    actual   ${JSON.stringify(m.actual)}`);
    }
    lines.push('  reproduce with PyTorch:');
    for (const l of c.repro.trimEnd().split('\n')) lines.push(`    ${l}`);
  }
  for (const d of report.staleDeviations) {
    lines.push('');
    lines.push(`STALE DEVIATION ${d.clause}: listed as a known deviation ("${d.reason}") but it does not fail; remove the entry`);
  }
  lines.push('');
  const extra = [
    summary.faults ? `${summary.faults} with engine faults` : '',
    summary.deviations ? `${summary.deviations} known deviations` : '',
    summary.notApplicable ? `${summary.notApplicable} not applicable` : '',
  ].filter(Boolean).join(', ');
  const ran = summary.checks - summary.checksNotApplicable;
  lines.push(`${summary.passed} clauses passed, ${summary.failed} failed${extra ? `, ${extra}` : ''}, ${summary.unchecked} not checked; ${ran - summary.checksFailed - summary.checksFaulted}/${ran} checks passed`);
  return lines.join('\n');
}

/** Whether the run conforms: no failing clause, no engine fault and no stale deviation. */
export const conforms = (report: Report): boolean =>
  report.summary.failed === 0 && report.summary.faults === 0 && report.staleDeviations.length === 0;

/** Exit code: 0 conforms, 1 non-conformance (failures, stale deviations), 2 engine faults only. */
export const exitCode = (report: Report): number =>
  report.summary.failed > 0 || report.staleDeviations.length > 0 ? 1 : report.summary.faults > 0 ? 2 : 0;

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
  // eslint-disable-next-line no-control-regex
  .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');

/**
 * JUnit XML for CI dashboards: one test case per clause and one per property; deviations and
 * not-applicable clauses are skipped with their reason, never passed.
 */
export function reportJunit(report: Report): string {
  const clauseCases = report.clauses.filter((c) => c.status !== 'unchecked').map((c) => {
    const body = c.status === 'fail'
      ? `<failure message="${xml(`${c.failures.length} failing checks`)}">${xml(c.failures.map((f) => f.message ?? `${f.id} (${f.file}): ${f.mismatches.map((m) => `${m.label} ${m.field}${m.detail ? `: ${m.detail}` : ''}`).join('; ')}\n${f.repro}`).join('\n\n'))}</failure>`
      : c.status === 'fault' ? `<error message="engine fault">${xml(c.reason ?? '')}</error>`
      : c.status === 'deviation' || c.status === 'not-applicable' ? `<skipped message="${xml(`${c.status}: ${c.reason ?? ''}`)}"/>` : '';
    return `    <testcase classname="gradspec.clauses" name="${xml(c.id)}">${body}</testcase>`;
  });
  const props = report.checks.filter((c) => c.kind === 'property').map((c) => {
    const body = c.status === 'fail' ? `<failure message="property failed">${xml(c.message ?? '')}</failure>`
      : c.status === 'fault' ? `<error message="engine fault">${xml(c.message ?? '')}</error>`
      : c.status === 'not-applicable' ? `<skipped message="${xml(`needs ${(c.missing ?? []).join(', ')}`)}"/>` : '';
    return `    <testcase classname="gradspec.properties" name="${xml(`${c.clauses[0]} ${c.id}`)}">${body}</testcase>`;
  });
  const suite = (name: string, cases: string[]) => {
    const failures = cases.filter((c) => c.includes('<failure')).length;
    const errors = cases.filter((c) => c.includes('<error')).length;
    const skipped = cases.filter((c) => c.includes('<skipped')).length;
    return `  <testsuite name="${name}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}">\n${cases.join('\n')}\n  </testsuite>`;
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="gradspec check ${xml(report.engine.name)}">\n${suite('clauses', clauseCases)}\n${suite('properties', props)}\n</testsuites>\n`;
}

/** The JSON report: `{ engine, seed, clauses: [{ id, status, checks, failures }], summary }`. */
export const reportJson = (report: Report): string => `${JSON.stringify(report, null, 2)}\n`;
