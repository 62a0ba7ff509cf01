import { readFileSync } from 'node:fs';
import { beforeAll, describe, test, type TestContext } from 'vitest';
import { packagePath } from '../adapters/package-root.ts';
import type { Adapter } from '../adapters/types.ts';
import { CLAUSES } from '../spec/clauses.ts';
import { check, requiredClauses, type CheckOptions, type CheckOutcome } from './check-api.ts';
import { isEngineClause } from './exercise.ts';
import type { ClauseResult, Report } from './suite.ts';
import type { RootCause } from './root-cause.ts';

/**
 * gradspec's suite inside an engine's own vitest run: `import { conformance } from 'gradspec/vitest'`,
 * called at the top level of a test file. It registers one test per engine clause of the spec,
 * titled `<clause id> <clause title>` (the list comes from the spec, so vitest knows every name at
 * collection), runs the check once (beforeAll), and lets each test read its clause's verdict:
 *
 *   pass       passes
 *   fail       fails; the message starts with the root cause(s) that explain it, then its failing checks
 *   deviation  passes, annotated with the reason from the deviations
 *   n/a        skipped with the reason, unless `require` names it: then it fails with the reason
 *   fault      fails with what the engine did
 *
 * One more test, `gradspec: something was checked`, fails a run that checked nothing.
 * vitest is a peer dependency: this module is only loaded from test files.
 */

export interface ConformanceOptions extends Pick<CheckOptions, 'seed' | 'runs' | 'require' | 'deviations' | 'timeout' | 'only' | 'replayAs'> {
  /** How long the whole check may take, in ms (the beforeAll hook's timeout; default 10 minutes). */
  checkTimeout?: number;
}

/** The clause titles of spec/autograd.md: `### \`op.sin\` sin` gives op.sin → sin. */
function clauseTitles(): Map<string, string> {
  // From the package root: the same file from the sources as from the compiled package (dist/cli/).
  const markdown = readFileSync(packagePath('spec', 'autograd.md'), 'utf8');
  return new Map([...markdown.matchAll(/^### `([a-z0-9.-]+)`[ \t]*(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
}

/** An assertion-like error: the message alone, without frames inside gradspec. */
function failure(message: string): Error {
  const e = new Error(message);
  e.stack = `Error: ${message}`;
  return e;
}

/** The root causes that explain a clause's failures: the one it is explained by first. */
function causesOf(report: Report, clause: ClauseResult): RootCause[] {
  const about = report.rootCauses.filter((c) => c.clause === clause.id || (c.or ?? []).includes(clause.id) || c.explains.includes(clause.id));
  return about.sort((a, b) => Number(b.clause === clause.explainedBy) - Number(a.clause === clause.explainedBy));
}

/** A root cause as the terminal report prints it. */
function causeLines(cause: RootCause): string[] {
  const or = cause.or?.length ? ` (or ${cause.or.join(', ')}: the failures cannot tell them apart)` : '';
  return [
    `Root cause: ${cause.clause}${or} (${cause.check}): ${cause.counterexample}`,
    ...(cause.replay ? [`  replay: ${cause.replay}`] : []),
    ...(cause.explains.length ? [`  explains ${cause.explains.length} more failing clause${cause.explains.length === 1 ? '' : 's'}: ${cause.explains.join(', ')}`] : []),
  ];
}

/** A clause's failing checks: what differed, the replay line, the PyTorch repro. */
function failureLines(report: Report, clause: ClauseResult): string[] {
  const lines = [`${clause.id}: ${clause.failures.length} failing check${clause.failures.length === 1 ? '' : 's'}${clause.explainedBy ? ` (explained by ${clause.explainedBy})` : ''}`];
  for (const f of clause.failures) {
    const replay = report.checks.find((c) => c.kind === f.kind && c.id === f.id)?.replay;
    if (f.kind === 'property') {
      lines.push(`FAIL ${f.message ?? `property ${f.id}`}`);
      continue;
    }
    lines.push(`FAIL fixture ${f.id} (${f.file})`);
    for (const m of f.mismatches) {
      lines.push(`  ${m.label} ${m.field}${m.detail ? `: ${m.detail}` : ''}`);
      if (!m.detail) lines.push(`    expected ${JSON.stringify(m.expected)}`, `    actual   ${JSON.stringify(m.actual)}`);
    }
    if (replay) lines.push(`  replay: ${replay}`);
    if (f.repro.trim()) lines.push('  reproduce with PyTorch:', ...f.repro.trimEnd().split('\n').map((l) => `    ${l}`));
  }
  return lines;
}

/** The engine's faults on a clause: the message and replay of each faulted check citing it. */
function faultLines(report: Report, clause: ClauseResult): string[] {
  const faulted = report.checks.filter((c) => c.status === 'fault' && (c.exercised ?? []).includes(clause.id));
  return [`${clause.id}: ENGINE FAULT: ${clause.reason ?? ''}`, ...faulted.flatMap((c) => [
    `  ${c.kind} ${c.id}: ${(c.message ?? '').split('\n')[0]}`, ...(c.replay ? [`    replay: ${c.replay}`] : []),
  ])];
}

/** What one clause's test does with the run's verdict. */
async function judge(outcome: CheckOutcome, id: string, ctx: TestContext): Promise<void> {
  const { report, reasons } = outcome;
  const clause = report.clauses.find((c) => c.id === id);
  if (!clause) throw failure(`${id}: the report has no such clause (is gradspec's spec newer than its checks?)`);
  const own = reasons.filter((r) => r.clause === id);
  const stale = own.find((r) => r.kind === 'stale-deviation');
  const unmet = own.find((r) => r.kind === 'unmet-requirement');
  switch (clause.status) {
    case 'pass':
      if (stale) throw failure(stale.message);
      return;
    case 'deviation':
      if (typeof ctx.annotate === 'function') await ctx.annotate(`known deviation: ${clause.reason ?? ''}`, 'notice');
      return;
    case 'fail':
      throw failure([...causesOf(report, clause).flatMap(causeLines), ...failureLines(report, clause)].join('\n'));
    case 'fault':
      throw failure(faultLines(report, clause).join('\n'));
    case 'not-applicable':
    case 'unchecked': {
      if (unmet) throw failure(unmet.message);
      const why = clause.status === 'unchecked' ? 'not checked by this run: no check of this run cites it (a partial run, with only)' : `n/a: ${clause.reason ?? 'not applicable'}`;
      ctx.skip(why);
    }
  }
}

/**
 * Registers gradspec's conformance suite for `engine` (an Adapter object, or a string as
 * `gradspec check --engine` takes it) in the current vitest file: a describe block
 * `gradspec <engine>` with one test per engine clause and `gradspec: something was checked`.
 */
export function conformance(engine: Adapter | string, options: ConformanceOptions = {}): void {
  const label = typeof engine === 'string' ? engine : engine?.name;
  // A mistyped clause pattern fails the file at collection, not 80 tests later.
  requiredClauses(options.require);
  const titles = clauseTitles();
  const { checkTimeout = 600_000, ...checkOptions } = options;
  describe(`gradspec ${label}`, () => {
    let outcome: CheckOutcome | undefined;
    let error: unknown;
    beforeAll(async () => {
      try {
        outcome = await check(engine, checkOptions);
      } catch (e) {
        error = e;
      }
    }, checkTimeout);
    // Every test fails with the reason when the engine could not be checked at all.
    const result = (): CheckOutcome => {
      if (outcome) return outcome;
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error ?? 'the check did not run');
      throw failure(`gradspec could not check ${label}: ${why}`);
    };
    for (const id of CLAUSES.filter(isEngineClause)) {
      test(`${id} ${titles.get(id) ?? ''}`.trimEnd(), (ctx) => judge(result(), id, ctx));
    }
    test('gradspec: something was checked', () => {
      const { report } = result();
      if (report.summary.checked === 0) {
        const reason = result().reasons.find((r) => r.kind === 'nothing-checked')?.message ?? 'nothing was checked';
        throw failure(`${reason}: every check of the run was not applicable or faulted on ${label}`);
      }
    });
  });
}
