import type { Report } from './suite.ts';

/**
 * The conformance matrix: several engines' reports side by side, one row per clause, one column
 * per engine, each cell a status with a short reason. Engines that could not run (not installed,
 * failed to start) get a column that says so, never failures.
 */
export interface EngineColumn {
  engine: string;
  report?: Report;
  /** Why there is no report: `not installed: …` or the adapter's failure. */
  unavailable?: string;
}

type Cell = { status: string; reason: string; details: string[] };

const SYMBOL: Record<string, string> = { pass: 'pass', fail: 'FAIL', fault: 'FAULT', deviation: 'deviation', 'not-applicable': 'n/a', unchecked: '' };

function cell(column: EngineColumn, clause: string): Cell {
  if (!column.report) return { status: 'unavailable', reason: column.unavailable ?? '', details: [] };
  const c = column.report.clauses.find((x) => x.id === clause)!;
  if (c.status === 'fail') {
    const first = c.failures[0]!;
    const what = first.kind === 'property' ? (first.message ?? '').split('\n')[1]?.trim() ?? first.id : first.mismatches.map((m) => `${m.label} ${m.field}`).join(', ');
    // A failure another clause's root cause explains says so first: that is where to look.
    const explained = c.explainedBy ? `explained by ${c.explainedBy}; ` : c.explainedBy === undefined && column.report.rootCauses?.some((r) => r.clause === clause) ? 'root cause; ' : '';
    return {
      status: 'fail',
      reason: `${explained}${c.failures.length} failing: ${first.id}: ${what}`.slice(0, 160),
      details: c.failures.map((f) => f.message ?? `${f.id} (${f.file})\n${f.mismatches.map((m) => `  ${m.label} ${m.field}${m.detail ? `: ${m.detail}` : ''}\n    expected ${JSON.stringify(m.expected)}\n    actual   ${JSON.stringify(m.actual)}`).join('\n')}\n\n${f.repro}`),
    };
  }
  return { status: c.status, reason: c.reason ?? (c.status === 'pass' ? `${c.exercised} of ${c.checks} checks exercised it` : ''), details: [] };
}

/** Clauses that at least one engine checked, in spec order. */
function rows(columns: readonly EngineColumn[]): string[] {
  const any = columns.find((c) => c.report)?.report;
  if (!any) return [];
  return any.clauses.map((c) => c.id).filter((id) => columns.some((col) => col.report?.clauses.find((x) => x.id === id)?.status !== 'unchecked'));
}

const label = (col: EngineColumn) => (col.report ? `${col.report.engine.name} ${col.report.engine.version}` : col.engine);

function summary(col: EngineColumn): string {
  if (!col.report) return col.unavailable ?? 'unavailable';
  const s = col.report.summary;
  return `${s.checked} of ${s.clauses - s.harness} clauses checked: ${s.passed} pass, ${s.failed} fail, ${s.faults ? `${s.faults} fault, ` : ''}${s.deviations} deviation, ${s.notApplicable} n/a`;
}

export function formatMatrix(columns: readonly EngineColumn[]): string {
  const ids = rows(columns);
  const width = Math.max(...ids.map((id) => id.length), 6) + 2;
  const colWidth = Math.max(...columns.map((c) => c.engine.length), 11) + 2;
  const pad = (s: string, n: number) => (s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length));
  const lines = [`${pad('clause', width)}${columns.map((c) => pad(c.engine, colWidth)).join('')}`];
  for (const id of ids) lines.push(`${pad(id, width)}${columns.map((c) => pad(c.report ? SYMBOL[cell(c, id).status] ?? '' : '-', colWidth)).join('')}`);
  lines.push('');
  for (const col of columns) {
    lines.push(`${label(col)}: ${summary(col)}`);
    if (!col.report) continue;
    for (const id of ids) {
      const x = cell(col, id);
      if (x.status !== 'pass' && x.status !== 'unchecked') lines.push(`  ${id} ${SYMBOL[x.status]}: ${x.reason}`);
    }
  }
  return lines.join('\n');
}

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function matrixMarkdown(columns: readonly EngineColumn[]): string {
  const ids = rows(columns);
  const lines = [
    `| clause | ${columns.map((c) => md(label(c))).join(' | ')} |`,
    `|---|${columns.map(() => '---').join('|')}|`,
  ];
  for (const id of ids) {
    lines.push(`| \`${id}\` | ${columns.map((c) => {
      if (!c.report) return '—';
      const x = cell(c, id);
      return x.status === 'unchecked' ? '' : md(`${SYMBOL[x.status]}${x.reason && x.status !== 'pass' ? `: ${x.reason}` : ''}`);
    }).join(' | ')} |`);
  }
  lines.push('', ...columns.map((c) => `- ${md(label(c))}: ${md(summary(c))}`));
  return `${lines.join('\n')}\n`;
}

const html = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** One self-contained file: a table, failures expandable to their messages and repros. */
export function matrixHtml(columns: readonly EngineColumn[]): string {
  const ids = rows(columns);
  const head = columns.map((c) => `<th>${html(label(c))}<br><small>${html(summary(c))}</small></th>`).join('');
  const body = ids.map((id) => `<tr><th><code>${html(id)}</code></th>${columns.map((c) => {
    if (!c.report) return '<td class="unavailable">—</td>';
    const x = cell(c, id);
    if (x.status === 'unchecked') return '<td></td>';
    // Failures and long reasons fold away; the summary line says enough to scan the table.
    const details = x.details.length ? `<details><summary>${html(x.reason)}</summary>${x.details.map((d) => `<pre>${html(d)}</pre>`).join('')}</details>`
      : x.reason.length > 90 ? `<details><summary>${html(`${x.reason.slice(0, 80)}…`)}</summary><small>${html(x.reason)}</small></details>`
      : `<br><small>${html(x.status === 'pass' ? '' : x.reason)}</small>`;
    return `<td class="${x.status}"><b>${html(SYMBOL[x.status] ?? x.status)}</b>${x.status === 'pass' ? '' : details}</td>`;
  }).join('')}</tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gradspec conformance matrix</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; text-align: left; max-width: 28em; }
td.pass { background: #e8f6e8; } td.fail { background: #fbe3e3; } td.deviation { background: #fff4d6; }
td.not-applicable, td.unavailable { background: #f0f0f0; color: #666; }
pre { white-space: pre-wrap; font-size: 12px; max-width: 60em; }
</style></head><body>
<h1>gradspec conformance matrix</h1>
<p>One row per spec clause, one column per engine: pass, FAIL, deviation (a known difference, with its reason) or n/a (the engine lacks what the clause is about). Click a failure for its counterexample and the program as PyTorch code.</p>
<table><thead><tr><th>clause</th>${head}</tr></thead>
<tbody>
${body}
</tbody></table>
</body></html>
`;
}
