import type { EngineColumn } from './matrix.ts';
import type { Report } from './suite.ts';

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
  // eslint-disable-next-line no-control-regex
  .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');

function suite(name: string, cases: string[]): string {
  const failures = cases.filter((c) => c.includes('<failure')).length;
  const errors = cases.filter((c) => c.includes('<error')).length;
  const skipped = cases.filter((c) => c.includes('<skipped')).length;
  return `  <testsuite name="${xml(name)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}">\n${cases.join('\n')}\n  </testsuite>`;
}

/** One engine's two test suites: a test case per checked clause, and one per property. */
function engineSuites(report: Report): string[] {
  // The engine is in the class name too: dashboards that key tests on class and name keep engines apart.
  const who = xml(report.engine.name);
  const label = `${report.engine.name} ${report.engine.version}`;
  const rootCause = new Set((report.rootCauses ?? []).map((r) => r.clause));
  const clauseCases = report.clauses.filter((c) => c.status !== 'unchecked').map((c) => {
    const body = c.status === 'fail'
      ? `<failure message="${xml(`${c.explainedBy ? `explained by ${c.explainedBy}: ` : rootCause.has(c.id) ? 'root cause: ' : ''}${c.failures.length} failing checks`)}">${xml(c.failures.map((f) => f.message ?? `${f.id} (${f.file}): ${f.mismatches.map((m) => `${m.label} ${m.field}${m.detail ? `: ${m.detail}` : ''}`).join('; ')}\n${f.repro}`).join('\n\n'))}</failure>`
      : c.status === 'fault' ? `<error message="engine fault">${xml(c.reason ?? '')}</error>`
      : c.status === 'deviation' || c.status === 'not-applicable' ? `<skipped message="${xml(`${c.status}: ${c.reason ?? ''}`)}"/>` : '';
    return `    <testcase classname="gradspec.${who}.clauses" name="${xml(c.id)}">${body}</testcase>`;
  });
  const props = report.checks.filter((c) => c.kind === 'property').map((c) => {
    const body = c.status === 'fail' ? `<failure message="property failed">${xml(c.message ?? '')}</failure>`
      : c.status === 'fault' ? `<error message="engine fault">${xml(c.message ?? '')}</error>`
      : c.status === 'not-applicable' ? `<skipped message="${xml(`needs ${(c.missing ?? []).join(', ')}`)}"/>` : '';
    return `    <testcase classname="gradspec.${who}.properties" name="${xml(`${c.clauses[0]} ${c.id}`)}">${body}</testcase>`;
  });
  return [suite(`${label} clauses`, clauseCases), suite(`${label} properties`, props)];
}

/**
 * JUnit XML for CI dashboards, for one engine or the matrix: per engine, a test suite of clauses
 * and one of properties. Deviations and not-applicable clauses are skipped with their reason,
 * never passed; an engine that could not run is one skipped case saying why, as in the matrix.
 */
export function junit(columns: readonly EngineColumn[]): string {
  const suites = columns.flatMap((col) => col.report ? engineSuites(col.report)
    : [suite(`${col.engine} unavailable`, [`    <testcase classname="gradspec.${xml(col.engine)}" name="engine"><skipped message="${xml(col.unavailable ?? 'unavailable')}"/></testcase>`])]);
  const names = columns.map((c) => c.report?.engine.name ?? c.engine).join(', ');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xml(`gradspec check ${names}`)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

/** JUnit XML of one engine's report. */
export const reportJunit = (report: Report): string => junit([{ engine: report.engine.name, report }]);
