import { isEngineClause } from './exercise.ts';
import type { Report } from './suite.ts';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** The readable terminal report: one line per clause, then each failure with its repro. */
export function formatReport(report: Report): string {
  const lines: string[] = [];
  const { engine, summary } = report;
  const props = report.checks.filter((c) => c.kind === 'property');
  lines.push(`gradspec check: engine ${engine.name} ${engine.version} (follows ${engine.profile}), seed ${report.seed}, ${report.runs} runs per property`);
  // The first thing a person reads is what to fix first.
  for (const cause of report.rootCauses ?? []) {
    lines.push('');
    const or = cause.or?.length ? ` (or ${cause.or.join(', ')}: the failures cannot tell them apart)` : '';
    lines.push(`Root cause: ${cause.clause}${or} (${cause.check}): ${cause.counterexample}`);
    if (cause.replay) lines.push(`  replay: ${cause.replay}`);
    if (cause.explains.length > 0) lines.push(`  explains ${cause.explains.length} more failing clause${cause.explains.length === 1 ? '' : 's'}: ${cause.explains.join(', ')}`);
  }
  // Faults and unreported fields are the adapter's to fix before any verdict can be read.
  const faults = report.checks.filter((c) => c.status === 'fault');
  if (faults.length > 0) {
    lines.push('');
    for (const c of faults.slice(0, 5)) lines.push(`Engine fault: ${c.id}: ${(c.message ?? '').split('\n')[0]!.slice(0, 240)}`);
    if (faults.length > 5) lines.push(`  and ${faults.length - 5} more engine faults (each is listed below with its program)`);
  }
  const unreported = [...new Set(report.checks.flatMap((c) => c.mismatches.filter((m) => m.detail?.startsWith('not reported')).map((m) => m.field)))];
  if (unreported.length > 0) {
    lines.push('');
    lines.push(`Declared but not reported: the engine declares field${unreported.length === 1 ? '' : 's'} ${unreported.join(', ')} in its capabilities but left ${unreported.length === 1 ? 'it' : 'them'} out of observations; report ${unreported.length === 1 ? 'it' : 'them'}, or leave ${unreported.length === 1 ? 'it' : 'them'} out of "fields" (the clause is then n/a).`);
  }
  // What the engine lacks, by how many checks it left unrun: the first thing to add for more coverage.
  const lacking = new Map<string, number>();
  for (const c of report.checks.filter((k) => k.status === 'not-applicable')) {
    for (const m of c.missing ?? []) if (!m.startsWith('not supported by')) lacking.set(m, (lacking.get(m) ?? 0) + 1);
  }
  if (lacking.size > 0) {
    const top = [...lacking].sort((a, b) => b[1] - a[1]);
    lines.push('');
    lines.push(`Not run for want of: ${top.map(([m, n]) => `${m} (${n} check${n === 1 ? '' : 's'})`).join(', ')}${lacking.has('dtype float32') ? '; a float64-only engine can declare float32 by rounding (spec/adapters.md, float32)' : ''}.`);
  }
  lines.push('');
  lines.push(`  ${pad('clause', 30)} ${pad('status', 14)} checks (exercised/citing)`);
  const shown = { pass: 'pass', fail: 'FAIL', fault: 'ENGINE FAULT', deviation: 'deviation', 'not-applicable': 'n/a', unchecked: '' } as const;
  for (const c of report.clauses.filter((c) => c.status !== 'unchecked')) {
    const reason = c.explainedBy ? `  explained by ${c.explainedBy}` : c.reason ? `  ${c.reason}` : '';
    lines.push(`  ${pad(c.id, 30)} ${pad(shown[c.status], 14)} ${pad(`${c.exercised}/${c.checks}`, 7)}${reason}`);
  }
  const unchecked = report.clauses.filter((c) => c.status === 'unchecked');
  const harness = unchecked.filter((c) => !isEngineClause(c.id)).map((c) => c.id);
  const notRun = unchecked.filter((c) => isEngineClause(c.id)).map((c) => c.id);
  if (notRun.length > 0) {
    lines.push('');
    lines.push(notRun.length > 12
      ? `  not checked by this run: ${notRun.length} engine clauses that no check of this run cites (a partial run, with --only or --shard)`
      : `  not checked by this run (${notRun.length}; no check of this run cites them): ${notRun.join(', ')}`);
  }
  if (harness.length > 0) {
    lines.push('');
    lines.push(`  outside the engine verdict (${harness.length} clauses about gradspec itself, checked by its own tests): ${harness.join(', ')}`);
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
  const unsupported = report.checks.filter((c) => c.unsupported).map((c) => `${c.id}: ${c.unsupported}`);
  if (unsupported.length > 0) {
    lines.push('');
    lines.push('Samples the engine answered "not supported" (not judged, not counted as passes):');
    for (const n of unsupported) lines.push(`  - ${n}`);
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
    if (c.replay) lines.push(`  replay: ${c.replay}`);
    if (c.repro.trim()) {
      lines.push('  the program it faulted on, as PyTorch code:');
      for (const l of c.repro.trimEnd().split('\n')) lines.push(`    ${l}`);
    }
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
  if (summary.checked === 0) {
    lines.push('NOTHING CHECKED: no check exercised any clause on this engine (every check was not applicable or faulted), so there is no verdict.');
  }
  const extra = [
    summary.faults ? `${summary.faults} with engine faults` : '',
    summary.deviations ? `${summary.deviations} known deviations` : '',
    summary.notApplicable ? `${summary.notApplicable} not applicable` : '',
  ].filter(Boolean).join(', ');
  const ran = summary.checks - summary.checksNotApplicable;
  const engineClauses = summary.clauses - summary.harness;
  lines.push(`${summary.checked} of ${engineClauses} engine clauses checked: ${summary.passed} passed, ${summary.failed} failed${extra ? `, ${extra}` : ''}; ${ran - summary.checksFailed - summary.checksFaulted}/${ran} checks passed`);
  return lines.join('\n');
}

/** Whether the run conforms: something was checked, and no failing clause, engine fault or stale deviation. */
export const conforms = (report: Report): boolean =>
  report.summary.checked > 0 && report.summary.failed === 0 && report.summary.faults === 0 && report.staleDeviations.length === 0;

/**
 * Exit code: 0 conforms, 1 non-conformance (failures, stale deviations), 2 engine faults only, or
 * nothing checked at all (a run that checked nothing is never green).
 */
export const exitCode = (report: Report): number =>
  report.summary.failed > 0 || report.staleDeviations.length > 0 ? 1 : report.summary.faults > 0 || report.summary.checked === 0 ? 2 : 0;

/** A clause id or a glob over ids (`op.*`, `backward.*`) as a matcher. */
export function clausePattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/**
 * The clauses `--require` names that this run did not check (n/a, unchecked): each with why.
 * Patterns that match no clause at all are a usage error, thrown with a did-you-mean.
 */
export function unmetRequirements(report: Report, patterns: readonly string[]): { clause: string; why: string }[] {
  const out: { clause: string; why: string }[] = [];
  for (const c of report.clauses) {
    if (!patterns.some((p) => clausePattern(p).test(c.id))) continue;
    if (['pass', 'fail', 'deviation', 'fault'].includes(c.status)) continue;
    out.push({ clause: c.id, why: c.status === 'unchecked' ? (isEngineClause(c.id) ? 'no check of this run cites it' : 'a clause about gradspec itself, not checked on engines') : c.reason ?? 'not applicable' });
  }
  return out;
}

/** The JSON report: `{ engine, seed, clauses: [{ id, status, checks, failures }], summary }`. */
export const reportJson = (report: Report): string => `${JSON.stringify(report, null, 2)}\n`;
